/* tokenizer_strmap.c - string -> int32 hash map over a string arena (see tokenizer_strmap.h). */
#include "tokenizer_strmap.h"
#include <stdlib.h>
#include <string.h>

static uint32_t hash_bytes(const char *key, size_t len) {   /* FNV-1a */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)key[i]) * 16777619u;
    return h;
}

bt_status bt_strmap_init(bt_strmap *m, const char *base, size_t n_keys) {
    size_t n_slots = 16;
    while (n_slots * 5 < n_keys * 8) n_slots *= 2;
    if (n_slots > ((size_t)1 << 31)) return bt_set_error(BT_ERR_NOMEM, "tokenizer: %zu keys are too many for a hash map", n_keys);
    m->base = base;
    m->mask = (uint32_t)(n_slots - 1);
    m->slots = malloc(n_slots * sizeof *m->slots);
    if (!m->slots) return bt_set_error(BT_ERR_NOMEM, "tokenizer: out of memory for a hash map of %zu slots", n_slots);
    for (size_t i = 0; i < n_slots; i++) m->slots[i].value = -1;
    return BT_OK;
}

void bt_strmap_free(bt_strmap *m) {
    free(m->slots);
    m->slots = NULL;
    m->mask = 0;
}

static int slot_holds(const bt_strmap *m, const bt_strmap_slot *s, uint32_t hash, const char *key, size_t len) {
    return s->hash == hash && s->key_len == len && memcmp(m->base + s->key_off, key, len) == 0;
}

int32_t bt_strmap_put(bt_strmap *m, uint32_t off, uint32_t len, int32_t value) {
    const char *key = m->base + off;
    uint32_t hash = hash_bytes(key, len);
    for (uint32_t i = hash & m->mask;; i = (i + 1) & m->mask) {
        bt_strmap_slot *s = &m->slots[i];
        if (s->value < 0) {
            *s = (bt_strmap_slot){hash, off, len, value};
            return value;
        }
        if (slot_holds(m, s, hash, key, len)) return s->value;
    }
}

int32_t bt_strmap_get(const bt_strmap *m, const char *key, size_t len) {
    uint32_t hash = hash_bytes(key, len);
    for (uint32_t i = hash & m->mask;; i = (i + 1) & m->mask) {
        const bt_strmap_slot *s = &m->slots[i];
        if (s->value < 0) return -1;
        if (slot_holds(m, s, hash, key, len)) return s->value;
    }
}
