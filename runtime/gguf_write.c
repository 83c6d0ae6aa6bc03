/* gguf_write.c - the GGUF v3 writer (see gguf_write.h for the conventions).
 *
 * Metadata is encoded into one growing buffer as it is added; tensor infos and
 * data are laid out at write time: each tensor's offset is the previous one's
 * end rounded up to the alignment, and the data section starts at the first
 * aligned byte after the tensor infos.
 */
#include "gguf_write.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct byte_buf {
    uint8_t *data;   /* [cap] */
    size_t len, cap;
    int failed;      /* an allocation failed: the contents are incomplete */
} byte_buf;

typedef struct pending_tensor {
    char *name;
    uint32_t ggml_type;
    uint32_t n_dims;
    uint64_t ne[BT_GGUF_MAX_DIMS];   /* ggml order */
    const void *data;                /* [nbytes], borrowed */
    uint64_t nbytes;
} pending_tensor;

struct bt_gguf_writer {
    byte_buf kv;              /* encoded metadata entries in the order added */
    char **keys;              /* [n_kv] */
    uint64_t n_kv;
    size_t keys_cap;
    pending_tensor *tensors;  /* [n_tensors] */
    size_t n_tensors, tensors_cap;
    uint64_t alignment;
};

/* ---------------------------------------------------------------- byte buffer */

static void put_bytes(byte_buf *b, const void *src, size_t n) {
    if (b->failed || n == 0) return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) { b->failed = 1; return; }
            cap *= 2;
        }
        uint8_t *data = realloc(b->data, cap);
        if (!data) { b->failed = 1; return; }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
}

static void put_le(byte_buf *b, uint64_t v, int nbytes) {
    uint8_t bytes[8];
    for (int i = 0; i < nbytes; i++) bytes[i] = (uint8_t)(v >> (8 * i));
    put_bytes(b, bytes, (size_t)nbytes);
}

static void put_str(byte_buf *b, const char *s, uint64_t len) {
    put_le(b, len, 8);
    put_bytes(b, s, (size_t)len);
}

static char *copy_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c) memcpy(c, s, n);
    return c;
}

static int grow(void **items, size_t *cap, size_t count, size_t item_size) {
    if (count < *cap) return 1;
    size_t new_cap = *cap ? *cap * 2 : 16;
    void *p = realloc(*items, new_cap * item_size);
    if (!p) return 0;
    *items = p;
    *cap = new_cap;
    return 1;
}

/* ---------------------------------------------------------------- lifecycle */

bt_status bt_gguf_writer_new(bt_gguf_writer **out) {
    *out = calloc(1, sizeof **out);
    if (!*out) return bt_set_error(BT_ERR_NOMEM, "gguf writer: out of memory");
    (*out)->alignment = BT_GGUF_DEFAULT_ALIGNMENT;
    return BT_OK;
}

void bt_gguf_writer_free(bt_gguf_writer *w) {
    if (!w) return;
    for (uint64_t i = 0; i < w->n_kv; i++) free(w->keys[i]);
    for (size_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->keys);
    free(w->tensors);
    free(w->kv.data);
    free(w);
}

/* ---------------------------------------------------------------- metadata */

static bt_status check_scalar_range(const char *key, const bt_gguf_value *v) {
    static const uint64_t umax[] = {[BT_GGUF_UINT8] = UINT8_MAX, [BT_GGUF_UINT16] = UINT16_MAX,
                                    [BT_GGUF_UINT32] = UINT32_MAX, [BT_GGUF_UINT64] = UINT64_MAX};
    static const int64_t imax[] = {[BT_GGUF_INT8] = INT8_MAX, [BT_GGUF_INT16] = INT16_MAX,
                                   [BT_GGUF_INT32] = INT32_MAX, [BT_GGUF_INT64] = INT64_MAX};
    switch (v->type) {
    case BT_GGUF_UINT8: case BT_GGUF_UINT16: case BT_GGUF_UINT32: case BT_GGUF_UINT64:
        if (v->v.u > umax[v->type]) break;
        return BT_OK;
    case BT_GGUF_INT8: case BT_GGUF_INT16: case BT_GGUF_INT32: case BT_GGUF_INT64:
        if (v->v.i > imax[v->type] || v->v.i < -imax[v->type] - 1) break;
        return BT_OK;
    default:
        return BT_OK;
    }
    return bt_set_error(BT_ERR_ARG, "gguf writer: '%s': value out of range for %s", key, bt_gguf_type_name(v->type));
}

static bt_status encode_array(byte_buf *b, const char *key, const bt_gguf_value *v) {
    bt_gguf_type et = v->v.arr.elem_type;
    uint64_t count = v->v.arr.count, nbytes;
    if ((unsigned)et >= BT_GGUF_TYPE_COUNT)
        return bt_set_error(BT_ERR_ARG, "gguf writer: '%s': unknown array element type %d", key, (int)et);
    if (et == BT_GGUF_STRING || et == BT_GGUF_ARRAY) {
        if (count && !v->v.arr.index)
            return bt_set_error(BT_ERR_ARG, "gguf writer: '%s': an array of %s must come from bt_gguf_open "
                                "(use bt_gguf_writer_add_str_array)", key, bt_gguf_type_name(et));
        nbytes = v->v.arr.nbytes;
    } else if (__builtin_mul_overflow(count, (uint64_t)bt_gguf_type_size(et), &nbytes) || nbytes > SIZE_MAX) {
        return bt_set_error(BT_ERR_ARG, "gguf writer: '%s': array of %llu elements is too large", key,
                            (unsigned long long)count);
    }
    put_le(b, (uint64_t)et, 4);
    put_le(b, count, 8);
    put_bytes(b, v->v.arr.data, (size_t)nbytes);   /* already in GGUF layout */
    return BT_OK;
}

static bt_status encode_value(byte_buf *b, const char *key, const bt_gguf_value *v) {
    bt_status st = check_scalar_range(key, v);
    if (st != BT_OK) return st;
    switch (v->type) {
    case BT_GGUF_STRING: put_str(b, v->v.s.ptr, v->v.s.len); return BT_OK;
    case BT_GGUF_ARRAY: return encode_array(b, key, v);
    case BT_GGUF_BOOL: put_le(b, v->v.u != 0, 1); return BT_OK;
    case BT_GGUF_FLOAT32: { float f = (float)v->v.f; uint32_t u; memcpy(&u, &f, 4); put_le(b, u, 4); return BT_OK; }
    case BT_GGUF_FLOAT64: { uint64_t u; memcpy(&u, &v->v.f, 8); put_le(b, u, 8); return BT_OK; }
    case BT_GGUF_INT8: case BT_GGUF_INT16: case BT_GGUF_INT32: case BT_GGUF_INT64:
        put_le(b, (uint64_t)v->v.i, (int)bt_gguf_type_size(v->type));
        return BT_OK;
    case BT_GGUF_UINT8: case BT_GGUF_UINT16: case BT_GGUF_UINT32: case BT_GGUF_UINT64:
        put_le(b, v->v.u, (int)bt_gguf_type_size(v->type));
        return BT_OK;
    }
    return bt_set_error(BT_ERR_ARG, "gguf writer: '%s': unknown value type %d", key, (int)v->type);
}

static bt_status check_new_key(const bt_gguf_writer *w, const char *key) {
    if (!key) return bt_set_error(BT_ERR_ARG, "gguf writer: NULL key");
    for (uint64_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->keys[i], key) == 0) return bt_set_error(BT_ERR_ARG, "gguf writer: duplicate key '%s'", key);
    return BT_OK;
}

/* general.alignment sets the writer's alignment; it must be a power-of-two integer. */
static bt_status read_alignment(const bt_gguf_value *v, uint64_t *out) {
    uint64_t a = 0;
    if (v->type == BT_GGUF_UINT8 || v->type == BT_GGUF_UINT16 || v->type == BT_GGUF_UINT32 || v->type == BT_GGUF_UINT64)
        a = v->v.u;
    if (a == 0 || (a & (a - 1)) || a > (1u << 30))
        return bt_set_error(BT_ERR_ARG, "gguf writer: general.alignment must be an unsigned power of two up to 2^30");
    *out = a;
    return BT_OK;
}

/* Starts an entry (key and value type); returns the mark end_entry() rolls back to. */
static size_t begin_entry(bt_gguf_writer *w, const char *key, bt_gguf_type type) {
    size_t mark = w->kv.len;
    put_str(&w->kv, key, strlen(key));
    put_le(&w->kv, (uint64_t)type, 4);
    return mark;
}

/* Records the key of a completed entry, or rolls the entry back if st or memory failed. */
static bt_status end_entry(bt_gguf_writer *w, const char *key, size_t mark, bt_status st) {
    char *key_copy = NULL;
    if (st == BT_OK && (w->kv.failed || !(key_copy = copy_str(key)) ||
                        !grow((void **)&w->keys, &w->keys_cap, w->n_kv, sizeof *w->keys)))
        st = bt_set_error(BT_ERR_NOMEM, "gguf writer: out of memory adding '%s'", key);
    if (st != BT_OK) {
        free(key_copy);
        w->kv.len = mark;
        w->kv.failed = 0;
        return st;
    }
    w->keys[w->n_kv++] = key_copy;
    return BT_OK;
}

bt_status bt_gguf_writer_add_value(bt_gguf_writer *w, const char *key, const bt_gguf_value *v) {
    bt_status st = check_new_key(w, key);
    uint64_t alignment = w->alignment;
    if (st == BT_OK && strcmp(key, "general.alignment") == 0) st = read_alignment(v, &alignment);
    if (st != BT_OK) return st;
    size_t mark = begin_entry(w, key, v->type);
    st = end_entry(w, key, mark, encode_value(&w->kv, key, v));
    if (st == BT_OK) w->alignment = alignment;
    return st;
}

bt_status bt_gguf_writer_add_u32(bt_gguf_writer *w, const char *key, uint32_t v) {
    bt_gguf_value val = {.type = BT_GGUF_UINT32, .v.u = v};
    return bt_gguf_writer_add_value(w, key, &val);
}

bt_status bt_gguf_writer_add_i32(bt_gguf_writer *w, const char *key, int32_t v) {
    bt_gguf_value val = {.type = BT_GGUF_INT32, .v.i = v};
    return bt_gguf_writer_add_value(w, key, &val);
}

bt_status bt_gguf_writer_add_u64(bt_gguf_writer *w, const char *key, uint64_t v) {
    bt_gguf_value val = {.type = BT_GGUF_UINT64, .v.u = v};
    return bt_gguf_writer_add_value(w, key, &val);
}

bt_status bt_gguf_writer_add_f32(bt_gguf_writer *w, const char *key, float v) {
    bt_gguf_value val = {.type = BT_GGUF_FLOAT32, .v.f = v};
    return bt_gguf_writer_add_value(w, key, &val);
}

bt_status bt_gguf_writer_add_bool(bt_gguf_writer *w, const char *key, int v) {
    bt_gguf_value val = {.type = BT_GGUF_BOOL, .v.u = v != 0};
    return bt_gguf_writer_add_value(w, key, &val);
}

bt_status bt_gguf_writer_add_str(bt_gguf_writer *w, const char *key, const char *v) {
    bt_gguf_value val = {.type = BT_GGUF_STRING, .v.s = {v, strlen(v)}};
    return bt_gguf_writer_add_value(w, key, &val);
}

/* Encodes host-typed elements into GGUF layout, then adds them as a plain array. */
bt_status bt_gguf_writer_add_array(bt_gguf_writer *w, const char *key, bt_gguf_type elem_type,
                                   const void *elems, uint64_t count) {
    size_t size = bt_gguf_type_size(elem_type);
    if (size == 0)
        return bt_set_error(BT_ERR_ARG, "gguf writer: '%s': add_array takes fixed-size elements, not %s", key,
                            bt_gguf_type_name(elem_type));
    byte_buf le = {0};
    for (uint64_t i = 0; i < count && !le.failed; i++) {
        const uint8_t *src = (const uint8_t *)elems + i * size;
        uint64_t v = 0;
        if (size == 1) v = *src;
        else if (size == 2) { uint16_t x; memcpy(&x, src, 2); v = x; }
        else if (size == 4) { uint32_t x; memcpy(&x, src, 4); v = x; }
        else memcpy(&v, src, 8);
        put_le(&le, v, (int)size);
    }
    bt_status st;
    if (le.failed) st = bt_set_error(BT_ERR_NOMEM, "gguf writer: out of memory adding '%s'", key);
    else {
        bt_gguf_value val = {.type = BT_GGUF_ARRAY,
                             .v.arr = {.elem_type = elem_type, .count = count, .data = le.data, .nbytes = le.len}};
        st = bt_gguf_writer_add_value(w, key, &val);
    }
    free(le.data);
    return st;
}

bt_status bt_gguf_writer_add_str_array(bt_gguf_writer *w, const char *key, const char *const *strs,
                                       const uint64_t *lens, uint64_t count) {
    bt_status st = check_new_key(w, key);
    if (st != BT_OK) return st;
    size_t mark = begin_entry(w, key, BT_GGUF_ARRAY);
    put_le(&w->kv, BT_GGUF_STRING, 4);
    put_le(&w->kv, count, 8);
    for (uint64_t i = 0; i < count && !w->kv.failed; i++) put_str(&w->kv, strs[i], lens ? lens[i] : strlen(strs[i]));
    return end_entry(w, key, mark, BT_OK);
}

/* ---------------------------------------------------------------- tensors */

bt_status bt_gguf_writer_add_tensor(bt_gguf_writer *w, const char *name, bt_dtype dtype, int n_dims,
                                    const int64_t *shape, const void *data, size_t nbytes) {
    pending_tensor t = {.n_dims = (uint32_t)n_dims, .data = data, .nbytes = nbytes};
    if (!name || !name[0]) return bt_set_error(BT_ERR_ARG, "gguf writer: empty tensor name");
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return bt_set_error(BT_ERR_ARG, "gguf writer: duplicate tensor '%s'", name);
    if (!bt_ggml_type_from_dtype(dtype, &t.ggml_type))
        return bt_set_error(BT_ERR_ARG, "gguf writer: tensor '%s': dtype %d has no ggml type", name, (int)dtype);
    if (n_dims < 1 || n_dims > BT_GGUF_MAX_DIMS)
        return bt_set_error(BT_ERR_ARG, "gguf writer: tensor '%s': n_dims %d (expected 1 to 4)", name, n_dims);
    for (int j = 0; j < BT_GGUF_MAX_DIMS; j++) {
        t.ne[j] = j < n_dims ? (uint64_t)shape[n_dims - 1 - j] : 1;
        if (j < n_dims && shape[n_dims - 1 - j] < 0)
            return bt_set_error(BT_ERR_ARG, "gguf writer: tensor '%s': negative dimension", name);
    }
    uint64_t expected;
    if (bt_ggml_tensor_nbytes(&expected, t.ggml_type, t.ne, t.n_dims) != BT_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", bt_last_error());
        return bt_set_error(BT_ERR_ARG, "gguf writer: tensor '%s': %s", name, why);
    }
    if (expected != nbytes || (nbytes && !data))
        return bt_set_error(BT_ERR_ARG, "gguf writer: tensor '%s': %zu bytes given, its shape and dtype need %llu",
                            name, nbytes, (unsigned long long)expected);
    if (!grow((void **)&w->tensors, &w->tensors_cap, w->n_tensors, sizeof *w->tensors) || !(t.name = copy_str(name)))
        return bt_set_error(BT_ERR_NOMEM, "gguf writer: out of memory adding tensor '%s'", name);
    w->tensors[w->n_tensors++] = t;
    return BT_OK;
}

/* ---------------------------------------------------------------- the file */

static const uint8_t zeros[64];   /* padding comes from here, 64 bytes at a time */

static uint64_t padding(uint64_t offset, uint64_t alignment) {
    return (alignment - offset % alignment) % alignment;
}

/* Header, metadata and tensor infos (with the data offsets) as one buffer. */
static bt_status encode_front(const bt_gguf_writer *w, byte_buf *b) {
    put_bytes(b, "GGUF", 4);
    put_le(b, 3, 4);
    put_le(b, w->n_tensors, 8);
    put_le(b, w->n_kv, 8);
    put_bytes(b, w->kv.data, w->kv.len);
    uint64_t offset = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const pending_tensor *t = &w->tensors[i];
        put_str(b, t->name, strlen(t->name));
        put_le(b, t->n_dims, 4);
        for (uint32_t j = 0; j < t->n_dims; j++) put_le(b, t->ne[j], 8);
        put_le(b, t->ggml_type, 4);
        put_le(b, offset, 8);
        offset += t->nbytes + padding(t->nbytes, w->alignment);
    }
    for (uint64_t pad = padding(b->len, w->alignment); pad; pad -= pad < 64 ? pad : 64)
        put_bytes(b, zeros, pad < 64 ? (size_t)pad : 64);
    return b->failed ? bt_set_error(BT_ERR_NOMEM, "gguf writer: out of memory encoding the file header") : BT_OK;
}

static int write_zeros(FILE *f, uint64_t n) {
    for (; n; n -= n < 64 ? n : 64)
        if (fwrite(zeros, 1, n < 64 ? (size_t)n : 64, f) != (n < 64 ? n : 64)) return 0;
    return 1;
}

bt_status bt_gguf_writer_write_file(bt_gguf_writer *w, const char *path) {
    byte_buf front = {0};
    bt_status st = encode_front(w, &front);
    if (st != BT_OK) {
        free(front.data);
        return st;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(front.data);
        return bt_set_error(BT_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    int ok = fwrite(front.data, 1, front.len, f) == front.len;
    for (size_t i = 0; ok && i < w->n_tensors; i++) {
        const pending_tensor *t = &w->tensors[i];
        ok = (t->nbytes == 0 || fwrite(t->data, 1, (size_t)t->nbytes, f) == t->nbytes) &&
             write_zeros(f, padding(t->nbytes, w->alignment));
    }
    int saved_errno = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        saved_errno = errno;
    }
    free(front.data);
    if (!ok) {
        remove(path);
        return bt_set_error(BT_ERR_IO, "%s: write failed: %s", path, strerror(saved_errno));
    }
    return BT_OK;
}
