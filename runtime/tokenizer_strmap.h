/* tokenizer_strmap.h - a string -> int32 hash map for the tokenizer's lookups
 * (token text -> id, BPE merge "left right" -> rank).
 *
 * Keys are not copied: they are byte ranges of one string arena (`base`),
 * which must not move while the map is in use. Open addressing, linear
 * probing, at most 5/8 full; no removal.
 */
#ifndef BT_TOKENIZER_STRMAP_H
#define BT_TOKENIZER_STRMAP_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

typedef struct bt_strmap_slot {
    uint32_t hash;
    uint32_t key_off, key_len;   /* base[key_off .. key_off + key_len) */
    int32_t value;               /* -1: empty slot */
} bt_strmap_slot;

typedef struct bt_strmap {
    const char *base;
    bt_strmap_slot *slots;       /* [mask + 1] */
    uint32_t mask;
} bt_strmap;

/* Room for n_keys keys over the arena `base`. */
bt_status bt_strmap_init(bt_strmap *m, const char *base, size_t n_keys);
void bt_strmap_free(bt_strmap *m);
/* Adds base[off .. off+len) -> value (value >= 0) unless the key is present;
 * returns the value stored for the key (the earlier one when it was present). */
int32_t bt_strmap_put(bt_strmap *m, uint32_t off, uint32_t len, int32_t value);
/* The value of key[0 .. len), or -1. */
int32_t bt_strmap_get(const bt_strmap *m, const char *key, size_t len);

#endif
