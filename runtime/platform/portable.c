/* portable.c - the parts of platform.h that need no OS call of their own. */
#include "platform.h"
#include "platform_os.h"
#include <string.h>

enum { SLOT_NEW, SLOT_CREATING, SLOT_READY, SLOT_FAILED };

/* Creates the slot's key once; threads arriving meanwhile wait (creation is quick). */
static int slot_ready(bt_thread_slot *s) {
    int state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
    if (state == SLOT_NEW) {
        int expected = SLOT_NEW;
        if (__atomic_compare_exchange_n(&s->state, &expected, SLOT_CREATING, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            state = bt_os_tls_create(&s->key, s->release) == 0 ? SLOT_READY : SLOT_FAILED;
            __atomic_store_n(&s->state, state, __ATOMIC_RELEASE);
        }
    }
    while ((state = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE)) == SLOT_CREATING) {}
    return state == SLOT_READY;
}

void *bt_thread_slot_get(bt_thread_slot *s) { return slot_ready(s) ? bt_os_tls_get(s->key) : NULL; }

int bt_thread_slot_set(bt_thread_slot *s, void *value) { return slot_ready(s) ? bt_os_tls_set(s->key, value) : -1; }

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
