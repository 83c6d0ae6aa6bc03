/* test_platform_sync.c - the platform layer's mutex and threads (runtime/platform/platform.h):
 * threads that bump a plain counter under a lock lose no update, for a static mutex and
 * for one in heap memory that is destroyed and used again. */
#include <stdlib.h>
#include "check.h"
#include "runtime/platform/platform.h"

enum { N_THREADS = 4, N_BUMPS = 100000 };

typedef struct counter {
    bt_mutex *lock;
    volatile long value;   /* volatile: each bump is a separate load and store */
    volatile int go;       /* the threads start bumping together */
} counter;

/* A read, a short wait, then the write: without the lock, threads overwrite each other. */
static void bump(void *arg) {
    counter *c = arg;
    while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE)) {}
    for (int i = 0; i < N_BUMPS; i++) {
        bt_mutex_lock(c->lock);
        long v = c->value;
        for (volatile int wait = 0; wait < 20; wait++) {}
        c->value = v + 1;
        bt_mutex_unlock(c->lock);
    }
}

/* N_THREADS threads bumping c; returns how many started. */
static int bump_in_threads(counter *c) {
    bt_thread th[N_THREADS];
    int started = 0;
    c->go = 0;
    for (int i = 0; i < N_THREADS; i++) started += bt_thread_start(&th[i], bump, c) == 0;
    __atomic_store_n(&c->go, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < started; i++) bt_thread_join(&th[i]);
    return started;
}

static bt_mutex static_lock = BT_MUTEX_INIT;

BT_TEST(platform_static_mutex_loses_no_update) {
    counter c = {.lock = &static_lock};
    BT_CHECK(bump_in_threads(&c) == N_THREADS, "threads did not start");
    BT_CHECK(c.value == (long)N_THREADS * N_BUMPS, "%ld bumps counted of %ld", c.value, (long)N_THREADS * N_BUMPS);
}

BT_TEST(platform_heap_mutex_works_again_after_destroy) {
    bt_mutex *lock = calloc(1, sizeof *lock);
    BT_CHECK(lock, "out of memory");
    counter c = {.lock = lock};
    for (int round = 1; round <= 2; round++) {
        int started = bump_in_threads(&c);
        bt_mutex_destroy(lock);
        if (started != N_THREADS) { free(lock); BT_CHECK(0, "threads did not start"); }
        if (c.value != (long)round * N_THREADS * N_BUMPS) {
            free(lock);
            BT_CHECK(0, "round %d: %ld bumps counted", round, c.value);
        }
    }
    free(lock);
}
