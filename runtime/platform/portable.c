/* portable.c - the parts of platform.h that need no OS call of their own. */
#include "platform.h"
#include "platform_os.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STATE_NEW, STATE_CREATING, STATE_READY, STATE_FAILED };

/* Runs create(arg) once for *state (0 on success); threads arriving meanwhile wait (creation
 * is quick). Returns whether it succeeded. */
static int created_once(volatile int *state, int (*create)(void *), void *arg) {
    int now = __atomic_load_n(state, __ATOMIC_ACQUIRE);
    if (now == STATE_NEW) {
        int expected = STATE_NEW;
        if (__atomic_compare_exchange_n(state, &expected, STATE_CREATING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            now = create(arg) == 0 ? STATE_READY : STATE_FAILED;
            __atomic_store_n(state, now, __ATOMIC_RELEASE);
        }
    }
    while ((now = __atomic_load_n(state, __ATOMIC_ACQUIRE)) == STATE_CREATING) {}
    return now == STATE_READY;
}

static int create_slot_key(void *arg) {
    bt_thread_slot *s = arg;
    return bt_os_tls_create(&s->key, s->release);
}

static int slot_ready(bt_thread_slot *s) { return created_once(&s->state, create_slot_key, s); }

void *bt_thread_slot_get(bt_thread_slot *s) { return slot_ready(s) ? bt_os_tls_get(s->key) : NULL; }

int bt_thread_slot_set(bt_thread_slot *s, void *value) { return slot_ready(s) ? bt_os_tls_set(s->key, value) : -1; }

static int create_mutex(void *arg) { return bt_os_mutex_init(((bt_mutex *)arg)->os.bytes); }

/* Neither pthread_mutex_init without attributes nor an SRWLOCK can fail for want of
 * anything but memory (glibc's never fails); a lock that cannot exist cannot be taken. */
void bt_mutex_lock(bt_mutex *m) {
    if (!created_once(&m->state, create_mutex, m)) {
        fputs("bitttt: cannot create a mutex\n", stderr);
        abort();
    }
    bt_os_mutex_lock(m->os.bytes);
}

void bt_mutex_unlock(bt_mutex *m) { bt_os_mutex_unlock(m->os.bytes); }

void bt_mutex_destroy(bt_mutex *m) {
    if (__atomic_load_n(&m->state, __ATOMIC_ACQUIRE) == STATE_READY) bt_os_mutex_destroy(m->os.bytes);
    __atomic_store_n(&m->state, STATE_NEW, __ATOMIC_RELEASE);
}

/* What bt_thread_start hands the OS's thread function (platform_os.h). */
void bt_thread_run(void *call) {
    bt_thread_call c = *(bt_thread_call *)call;
    free(call);
    c.fn(c.arg);
}

int bt_thread_start(bt_thread *t, void (*fn)(void *), void *arg) {
    bt_thread_call *call = malloc(sizeof *call);
    if (!call) return -1;
    *call = (bt_thread_call){fn, arg};
    if (bt_os_thread_start(&t->os, call) == 0) return 0;
    free(call);
    return -1;
}

const void *bt_memmem(const void *hay, size_t hlen, const void *needle, size_t nlen) {
    if (nlen == 0) return hay;
    const unsigned char *h = hay, *n = needle;
    while (hlen >= nlen) {
        const unsigned char *first = memchr(h, n[0], hlen - nlen + 1);
        if (!first) return NULL;
        if (memcmp(first, n, nlen) == 0) return first;
        hlen -= (size_t)(first - h) + 1;
        h = first + 1;
    }
    return NULL;
}
