/* gguf_lookup.h - private to gguf.c and gguf_lookup.c: the tables an opened GGUF
 * keeps for fast lookups (sorted key and tensor-name indexes, per-array element
 * indexes) and the allocator that owns them until bt_gguf_close(). */
#ifndef BT_GGUF_LOOKUP_H
#define BT_GGUF_LOOKUP_H
#include "gguf.h"

typedef struct bt_gguf_name_entry {
    bt_gguf_str name;
    uint64_t index;   /* into bt_gguf.kv or bt_gguf.tensors */
} bt_gguf_name_entry;

typedef struct bt_gguf_lookup {
    struct bt_gguf_owned_block *blocks;   /* every table below and all array indexes */
    bt_gguf_name_entry *keys;             /* [n_kv] sorted by name */
    bt_gguf_name_entry *tensor_names;     /* [n_tensors] sorted by name */
} bt_gguf_lookup;

/* A zeroed table of count items owned by lk; NULL if count is 0, overflows or memory runs out. */
void *bt_gguf_lookup_alloc(bt_gguf_lookup *lk, uint64_t count, size_t item_size);
void bt_gguf_lookup_free(bt_gguf_lookup *lk);   /* NULL is fine */

/* Sorts entries [n] by name; returns 1 and sets *dup if two names are equal. */
int bt_gguf_names_sort(bt_gguf_name_entry *entries, uint64_t n, bt_gguf_str *dup);

/* Decodes one fixed-size little-endian value of type t (not STRING or ARRAY) at b. */
void bt_gguf_decode_scalar(bt_gguf_value *out, bt_gguf_type t, const uint8_t *b);

#endif
