/* gguf_lookup.c - finding things in an opened GGUF file: metadata keys and
 * tensor names by binary search, typed metadata getters, and O(1) access to
 * array elements through the indexes gguf.c built at open time. */
#include "gguf_lookup.h"
#include <stdlib.h>
#include <string.h>

typedef struct bt_gguf_owned_block {
    struct bt_gguf_owned_block *next;
    max_align_t payload[];
} bt_gguf_owned_block;

void *bt_gguf_lookup_alloc(bt_gguf_lookup *lk, uint64_t count, size_t item_size) {
    uint64_t bytes;
    if (count == 0 || __builtin_mul_overflow(count, (uint64_t)item_size, &bytes) ||
        bytes > SIZE_MAX - sizeof(bt_gguf_owned_block))
        return NULL;
    bt_gguf_owned_block *b = calloc(1, sizeof *b + (size_t)bytes);
    if (!b) return NULL;
    b->next = lk->blocks;
    lk->blocks = b;
    return b->payload;
}

void bt_gguf_lookup_free(bt_gguf_lookup *lk) {
    if (!lk) return;
    while (lk->blocks) {
        bt_gguf_owned_block *next = lk->blocks->next;
        free(lk->blocks);
        lk->blocks = next;
    }
    free(lk);
}

static int compare_str(bt_gguf_str a, const char *b, uint64_t b_len) {
    int c = memcmp(a.ptr, b, a.len < b_len ? (size_t)a.len : (size_t)b_len);
    if (c) return c;
    return a.len < b_len ? -1 : a.len > b_len;
}

static int compare_entries(const void *a, const void *b) {
    const bt_gguf_name_entry *x = a, *y = b;
    return compare_str(x->name, y->name.ptr, y->name.len);
}

int bt_gguf_names_sort(bt_gguf_name_entry *entries, uint64_t n, bt_gguf_str *dup) {
    qsort(entries, (size_t)n, sizeof *entries, compare_entries);
    for (uint64_t i = 1; i < n; i++)
        if (compare_entries(&entries[i - 1], &entries[i]) == 0) {
            *dup = entries[i].name;
            return 1;
        }
    return 0;
}

/* Index into the kv or tensor array of `name`, or -1. */
static int64_t search(const bt_gguf_name_entry *entries /* [n] */, uint64_t n, const char *name) {
    uint64_t lo = 0, hi = n, len = strlen(name);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        int c = compare_str(entries[mid].name, name, len);
        if (c == 0) return (int64_t)entries[mid].index;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

const bt_gguf_kv *bt_gguf_find(const bt_gguf *g, const char *key) {
    int64_t i = search(g->lookup->keys, g->n_kv, key);
    return i < 0 ? NULL : &g->kv[i];
}

const bt_gguf_tensor_info *bt_gguf_find_tensor(const bt_gguf *g, const char *name) {
    int64_t i = search(g->lookup->tensor_names, g->n_tensors, name);
    return i < 0 ? NULL : &g->tensors[i];
}

int bt_gguf_str_eq(bt_gguf_str s, const char *cstr) {
    return compare_str(s, cstr, strlen(cstr)) == 0;
}

/* ---------------------------------------------------------------- typed getters */

static int is_unsigned(bt_gguf_type t) {
    return t == BT_GGUF_UINT8 || t == BT_GGUF_UINT16 || t == BT_GGUF_UINT32 || t == BT_GGUF_UINT64;
}

static int is_signed(bt_gguf_type t) {
    return t == BT_GGUF_INT8 || t == BT_GGUF_INT16 || t == BT_GGUF_INT32 || t == BT_GGUF_INT64;
}

static bt_status find_typed(const bt_gguf *g, const char *key, const bt_gguf_kv **out) {
    *out = bt_gguf_find(g, key);
    if (!*out) return bt_set_error(BT_ERR_ARG, "%s: metadata key '%s' not found", g->path, key);
    return BT_OK;
}

static bt_status wrong_type(const bt_gguf *g, const char *key, const char *expected, bt_gguf_type found) {
    return bt_set_error(BT_ERR_FORMAT, "%s: metadata '%s': expected %s, found %s", g->path, key, expected,
                        bt_gguf_type_name(found));
}

bt_status bt_gguf_get_int(const bt_gguf *g, const char *key, int64_t *out) {
    const bt_gguf_kv *kv;
    bt_status st = find_typed(g, key, &kv);
    if (st != BT_OK) return st;
    const bt_gguf_value *v = &kv->value;
    if (is_signed(v->type)) { *out = v->v.i; return BT_OK; }
    if (!is_unsigned(v->type)) return wrong_type(g, key, "an integer", v->type);
    if (v->v.u > (uint64_t)INT64_MAX)
        return bt_set_error(BT_ERR_FORMAT, "%s: metadata '%s': %llu does not fit in int64", g->path, key,
                            (unsigned long long)v->v.u);
    *out = (int64_t)v->v.u;
    return BT_OK;
}

bt_status bt_gguf_get_float(const bt_gguf *g, const char *key, double *out) {
    const bt_gguf_kv *kv;
    bt_status st = find_typed(g, key, &kv);
    if (st != BT_OK) return st;
    const bt_gguf_value *v = &kv->value;
    if (v->type == BT_GGUF_FLOAT32 || v->type == BT_GGUF_FLOAT64) *out = v->v.f;
    else if (is_signed(v->type)) *out = (double)v->v.i;
    else if (is_unsigned(v->type)) *out = (double)v->v.u;
    else return wrong_type(g, key, "a number", v->type);
    return BT_OK;
}

bt_status bt_gguf_get_str(const bt_gguf *g, const char *key, bt_gguf_str *out) {
    const bt_gguf_kv *kv;
    bt_status st = find_typed(g, key, &kv);
    if (st != BT_OK) return st;
    if (kv->value.type != BT_GGUF_STRING) return wrong_type(g, key, "a string", kv->value.type);
    *out = kv->value.v.s;
    return BT_OK;
}

bt_status bt_gguf_get_bool(const bt_gguf *g, const char *key, int *out) {
    const bt_gguf_kv *kv;
    bt_status st = find_typed(g, key, &kv);
    if (st != BT_OK) return st;
    if (kv->value.type != BT_GGUF_BOOL) return wrong_type(g, key, "a bool", kv->value.type);
    *out = kv->value.v.u != 0;
    return BT_OK;
}

/* ---------------------------------------------------------------- array elements */

static bt_status check_element(const bt_gguf_value *arr, uint64_t i) {
    if (arr->type != BT_GGUF_ARRAY)
        return bt_set_error(BT_ERR_ARG, "gguf value of type %s is not an array", bt_gguf_type_name(arr->type));
    if (i >= arr->v.arr.count)
        return bt_set_error(BT_ERR_ARG, "gguf array index %llu out of range (%llu elements)", (unsigned long long)i,
                            (unsigned long long)arr->v.arr.count);
    bt_gguf_type t = arr->v.arr.elem_type;
    if ((t == BT_GGUF_STRING || t == BT_GGUF_ARRAY) && !arr->v.arr.index)
        return bt_set_error(BT_ERR_ARG, "gguf array of %s has no element index (not from bt_gguf_open)",
                            bt_gguf_type_name(t));
    return BT_OK;
}

static bt_gguf_str string_at(const bt_gguf_value *arr, uint64_t i) {
    const uint64_t *offsets = arr->v.arr.index;   /* [count] byte offsets of each string's length */
    const uint8_t *at = arr->v.arr.data + offsets[i];
    bt_gguf_value len;
    bt_gguf_decode_scalar(&len, BT_GGUF_UINT64, at);
    return (bt_gguf_str){(const char *)at + 8, len.v.u};
}

bt_status bt_gguf_array_str(const bt_gguf_value *arr, uint64_t i, bt_gguf_str *out) {
    bt_status st = check_element(arr, i);
    if (st != BT_OK) return st;
    if (arr->v.arr.elem_type != BT_GGUF_STRING)
        return bt_set_error(BT_ERR_ARG, "gguf array holds %s, not strings", bt_gguf_type_name(arr->v.arr.elem_type));
    *out = string_at(arr, i);
    return BT_OK;
}

bt_status bt_gguf_array_value(const bt_gguf_value *arr, uint64_t i, bt_gguf_value *out) {
    bt_status st = check_element(arr, i);
    if (st != BT_OK) return st;
    bt_gguf_type t = arr->v.arr.elem_type;
    if (t == BT_GGUF_STRING) {
        out->type = t;
        out->v.s = string_at(arr, i);
    } else if (t == BT_GGUF_ARRAY) {
        *out = ((const bt_gguf_value *)arr->v.arr.index)[i];
    } else {
        bt_gguf_decode_scalar(out, t, arr->v.arr.data + i * bt_gguf_type_size(t));
    }
    return BT_OK;
}
