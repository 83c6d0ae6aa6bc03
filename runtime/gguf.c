/* gguf.c - parses and validates a GGUF v2/v3 file in place (see gguf.h).
 *
 * File layout (all little-endian):
 *   "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv x      { string key | u32 value type | value }
 *   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml type | u64 offset }
 *   padding to general.alignment (default 32) | tensor data (each offset aligned)
 * where a string is u64 length + bytes, and an array value is
 * u32 element type | u64 count | elements (arrays may hold arrays).
 *
 * Every count, length and offset is checked against the bytes left in the file
 * before it is used, with overflow-safe arithmetic: a hostile file gives
 * BT_ERR_FORMAT and a message naming the file and the field, never a crash.
 *
 * I2_S: bitnet.cpp's llama.cpp fork (Eddie-Wang1120/llama.cpp) stores its I2_S
 * type with id 36. Upstream ggml reserved 36 for IQ4_NL_4_4, a repacked in-memory
 * layout whose support "has been removed from gguf files" (upstream's reader
 * rejects the id), so in a GGUF file 36 can only be I2_S. The layout is checked
 * like any other block type (rows a multiple of 128 elements) and its data is
 * n/4 bytes of 2-bit codes plus a 32-byte trailer holding the f32 scale.
 */
#include "gguf.h"
#include "gguf_lookup.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- ggml types */

/* The one table from ggml type ids to runtime dtypes. Block layouts live in base/dtype.c. */
static const bt_ggml_type_info ggml_types[] = {
    {0, BT_F32, 0},
    {1, BT_F16, 0},
    {8, BT_Q8_0, 0},
    {14, BT_Q6_K, 0},
    {24, BT_I8, 0},
    {26, BT_I32, 0},
    {28, BT_F64, 0},
    {30, BT_BF16, 0},
    {34, BT_TQ1_0, 0},
    {35, BT_TQ2_0, 0},
    {36, BT_I2_S, 32},   /* bitnet.cpp fork's id; see the file comment */
};
#define N_GGML_TYPES (sizeof ggml_types / sizeof ggml_types[0])

const bt_ggml_type_info *bt_ggml_type_info_get(uint32_t ggml_type) {
    for (size_t i = 0; i < N_GGML_TYPES; i++)
        if (ggml_types[i].ggml_type == ggml_type) return &ggml_types[i];
    return NULL;
}

int bt_ggml_type_from_dtype(bt_dtype dtype, uint32_t *out_ggml_type) {
    for (size_t i = 0; i < N_GGML_TYPES; i++)
        if (ggml_types[i].dtype == dtype) { *out_ggml_type = ggml_types[i].ggml_type; return 1; }
    return 0;
}

bt_status bt_ggml_tensor_nbytes(uint64_t *out_nbytes, uint32_t ggml_type, const uint64_t *ne, uint32_t n_dims) {
    const bt_ggml_type_info *t = bt_ggml_type_info_get(ggml_type);
    if (!t) return bt_set_error(BT_ERR_FORMAT, "unknown ggml type id %u", ggml_type);
    if (n_dims < 1 || n_dims > BT_GGUF_MAX_DIMS)
        return bt_set_error(BT_ERR_FORMAT, "n_dims %u (expected 1 to %d)", n_dims, BT_GGUF_MAX_DIMS);
    const bt_dtype_info *d = bt_dtype_get_info(t->dtype);
    if (ne[0] % d->block_size)
        return bt_set_error(BT_ERR_FORMAT, "row length %llu is not a multiple of the %s block size %u",
                            (unsigned long long)ne[0], d->name, d->block_size);
    uint64_t elements = ne[0], bytes;
    int overflow = __builtin_mul_overflow(ne[0] / d->block_size, (uint64_t)d->block_bytes, &bytes);
    for (uint32_t j = 1; j < n_dims; j++) {
        overflow |= __builtin_mul_overflow(elements, ne[j], &elements);
        overflow |= __builtin_mul_overflow(bytes, ne[j], &bytes);
    }
    overflow |= elements > (uint64_t)INT64_MAX;
    overflow |= __builtin_add_overflow(bytes, (uint64_t)t->trailer_bytes, &bytes);
    if (overflow) return bt_set_error(BT_ERR_FORMAT, "element count or byte size overflows 64 bits");
    *out_nbytes = bytes;
    return BT_OK;
}

/* ---------------------------------------------------------------- value types */

static const char *const type_names[BT_GGUF_TYPE_COUNT] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool",
    "string", "array", "uint64", "int64", "float64",
};
static const uint8_t type_sizes[BT_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *bt_gguf_type_name(bt_gguf_type t) {
    return (unsigned)t < BT_GGUF_TYPE_COUNT ? type_names[t] : "?";
}

size_t bt_gguf_type_size(bt_gguf_type t) {
    return (unsigned)t < BT_GGUF_TYPE_COUNT ? type_sizes[t] : 0;
}

static uint64_t load_le(const uint8_t *b, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

void bt_gguf_decode_scalar(bt_gguf_value *out, bt_gguf_type t, const uint8_t *b) {
    out->type = t;
    uint64_t raw = load_le(b, type_sizes[t]);
    switch (t) {
    case BT_GGUF_INT8: out->v.i = (int8_t)raw; break;
    case BT_GGUF_INT16: out->v.i = (int16_t)raw; break;
    case BT_GGUF_INT32: out->v.i = (int32_t)raw; break;
    case BT_GGUF_INT64: out->v.i = (int64_t)raw; break;
    case BT_GGUF_FLOAT32: { uint32_t u = (uint32_t)raw; float f; memcpy(&f, &u, 4); out->v.f = f; break; }
    case BT_GGUF_FLOAT64: memcpy(&out->v.f, &raw, 8); break;
    case BT_GGUF_BOOL: out->v.u = raw != 0; break;
    default: out->v.u = raw; break;   /* unsigned integers */
    }
}

/* ---------------------------------------------------------------- parser */

typedef struct parser {
    const char *path;
    const uint8_t *data;   /* [size] */
    uint64_t size, pos;
    char where[160];       /* the item being read: "metadata 'general.name'", "tensor 'x'" */
    bt_gguf_lookup *lookup;
} parser;

static bt_status fail(const parser *p, const char *fmt, ...) BT_PRINTF_FORMAT(2, 3);
static bt_status fail(const parser *p, const char *fmt, ...) {
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->where[0]) return bt_set_error(BT_ERR_FORMAT, "%s: %s: %s", p->path, p->where, msg);
    return bt_set_error(BT_ERR_FORMAT, "%s: %s", p->path, msg);
}

/* "where" names an item by a name read from the file, made printable and short. */
static void set_where(parser *p, const char *kind, bt_gguf_str name) {
    char shown[72];
    size_t n = name.len < 60 ? (size_t)name.len : 60;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name.ptr[i];
        shown[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    strcpy(shown + n, name.len > n ? "..." : "");
    snprintf(p->where, sizeof p->where, "%s '%s'", kind, shown);
}

/* The next n bytes, or NULL (and the error set) if the file ends first. */
static const uint8_t *take(parser *p, uint64_t n, const char *what) {
    if (n > p->size - p->pos) {
        fail(p, "%s (%llu bytes at offset %llu) runs past end of file (size %llu)", what, (unsigned long long)n,
             (unsigned long long)p->pos, (unsigned long long)p->size);
        return NULL;
    }
    p->pos += n;
    return p->data + p->pos - n;
}

static bt_status read_u32(parser *p, const char *what, uint32_t *out) {
    const uint8_t *b = take(p, 4, what);
    if (!b) return BT_ERR_FORMAT;
    *out = (uint32_t)load_le(b, 4);
    return BT_OK;
}

static bt_status read_u64(parser *p, const char *what, uint64_t *out) {
    const uint8_t *b = take(p, 8, what);
    if (!b) return BT_ERR_FORMAT;
    *out = load_le(b, 8);
    return BT_OK;
}

static bt_status read_str(parser *p, const char *what, bt_gguf_str *out) {
    uint64_t len;
    bt_status st = read_u64(p, what, &len);
    if (st != BT_OK) return st;
    if (len > p->size - p->pos)
        return fail(p, "%s length %llu at offset %llu runs past end of file (size %llu)", what,
                    (unsigned long long)len, (unsigned long long)p->pos, (unsigned long long)p->size);
    out->ptr = (const char *)p->data + p->pos;
    out->len = len;
    p->pos += len;
    return BT_OK;
}

static void *alloc_table(parser *p, uint64_t count, size_t item_size) {
    void *t = bt_gguf_lookup_alloc(p->lookup, count, item_size);
    if (!t) bt_set_error(BT_ERR_NOMEM, "%s: %s: out of memory for a table of %llu entries", p->path,
                         p->where, (unsigned long long)count);
    return t;
}

/* The smallest encoding of one array element of type t (a string: its length;
 * an array: its element type and count). */
static uint64_t min_element_bytes(bt_gguf_type t) {
    return t == BT_GGUF_STRING ? 8 : t == BT_GGUF_ARRAY ? 12 : type_sizes[t];
}

static bt_status parse_array(parser *p, int depth, bt_gguf_value *out) {
    if (depth > BT_GGUF_MAX_ARRAY_DEPTH)
        return fail(p, "arrays nested more than %d deep", BT_GGUF_MAX_ARRAY_DEPTH);
    uint32_t elem_type;
    uint64_t count;
    bt_status st = read_u32(p, "array element type", &elem_type);
    if (st != BT_OK) return st;
    if (elem_type >= BT_GGUF_TYPE_COUNT) return fail(p, "unknown array element type %u", elem_type);
    if ((st = read_u64(p, "array length", &count)) != BT_OK) return st;
    uint64_t left = p->size - p->pos;
    if (count > left / min_element_bytes((bt_gguf_type)elem_type))
        return fail(p, "array of %llu %s elements cannot fit in the %llu bytes left in the file",
                    (unsigned long long)count, type_names[elem_type], (unsigned long long)left);

    uint64_t start = p->pos;
    out->type = BT_GGUF_ARRAY;
    out->v.arr.elem_type = (bt_gguf_type)elem_type;
    out->v.arr.count = count;
    out->v.arr.data = p->data + start;
    out->v.arr.index = NULL;
    if (elem_type == BT_GGUF_STRING && count) {
        uint64_t *offsets = alloc_table(p, count, sizeof *offsets);   /* [count] from data */
        if (!offsets) return BT_ERR_NOMEM;
        for (uint64_t i = 0; i < count; i++) {
            bt_gguf_str s;
            offsets[i] = p->pos - start;
            if ((st = read_str(p, "array string", &s)) != BT_OK) return st;
        }
        out->v.arr.index = offsets;
    } else if (elem_type == BT_GGUF_ARRAY && count) {
        bt_gguf_value *elems = alloc_table(p, count, sizeof *elems);   /* [count] */
        if (!elems) return BT_ERR_NOMEM;
        for (uint64_t i = 0; i < count; i++)
            if ((st = parse_array(p, depth + 1, &elems[i])) != BT_OK) return st;
        out->v.arr.index = elems;
    } else {
        p->pos += count * type_sizes[elem_type];   /* fits: checked above */
    }
    out->v.arr.nbytes = p->pos - start;
    return BT_OK;
}

static bt_status parse_value(parser *p, bt_gguf_type t, bt_gguf_value *out) {
    if (t == BT_GGUF_STRING) {
        out->type = t;
        return read_str(p, "string", &out->v.s);
    }
    if (t == BT_GGUF_ARRAY) return parse_array(p, 1, out);
    const uint8_t *b = take(p, type_sizes[t], "value");
    if (!b) return BT_ERR_FORMAT;
    bt_gguf_decode_scalar(out, t, b);
    return BT_OK;
}

static bt_status parse_header(parser *p, bt_gguf *g) {
    const uint8_t *magic = take(p, 4, "magic");
    if (!magic) return BT_ERR_FORMAT;
    if (memcmp(magic, "GGUF", 4) != 0) {
        char shown[5];
        for (int i = 0; i < 4; i++) shown[i] = magic[i] >= 0x20 && magic[i] < 0x7f ? (char)magic[i] : '?';
        shown[4] = 0;
        return fail(p, "not a GGUF file (magic '%s', expected 'GGUF')", shown);
    }
    bt_status st = read_u32(p, "version", &g->version);
    if (st != BT_OK) return st;
    if (g->version != 2 && g->version != 3) {
        const char *hint = g->version == 1 ? " (GGUF v1 is obsolete: re-convert the model)"
                         : g->version && (g->version & 0xffff) == 0 ? " (a big-endian file?)" : "";
        return fail(p, "unsupported GGUF version %u, expected 2 or 3%s", g->version, hint);
    }
    if ((st = read_u64(p, "tensor count", &g->n_tensors)) != BT_OK) return st;
    if ((st = read_u64(p, "metadata count", &g->n_kv)) != BT_OK) return st;
    uint64_t left = p->size - p->pos;
    if (g->n_kv > left / 13)   /* smallest entry: empty key (8) + type (4) + uint8 (1) */
        return fail(p, "metadata count %llu cannot fit in the %llu bytes left in the file",
                    (unsigned long long)g->n_kv, (unsigned long long)left);
    if (g->n_tensors > left / 33)   /* smallest info: 1-byte name (9) + n_dims (4) + ne (8) + type (4) + offset (8) */
        return fail(p, "tensor count %llu cannot fit in the %llu bytes left in the file",
                    (unsigned long long)g->n_tensors, (unsigned long long)left);
    return BT_OK;
}

static bt_status parse_metadata(parser *p, bt_gguf *g) {
    if (g->n_kv && !(g->kv = calloc(g->n_kv, sizeof *g->kv)))
        return bt_set_error(BT_ERR_NOMEM, "%s: out of memory for %llu metadata entries", p->path, (unsigned long long)g->n_kv);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        bt_gguf_kv *kv = &g->kv[i];
        uint32_t type;
        snprintf(p->where, sizeof p->where, "metadata entry %llu", (unsigned long long)i);
        bt_status st = read_str(p, "key", &kv->key);
        if (st != BT_OK) return st;
        set_where(p, "metadata", kv->key);
        if ((st = read_u32(p, "value type", &type)) != BT_OK) return st;
        if (type >= BT_GGUF_TYPE_COUNT) return fail(p, "unknown value type %u", type);
        if ((st = parse_value(p, (bt_gguf_type)type, &kv->value)) != BT_OK) return st;
    }
    p->where[0] = 0;
    return BT_OK;
}

static bt_status read_alignment(parser *p, bt_gguf *g) {
    const bt_gguf_kv *kv = bt_gguf_find(g, "general.alignment");
    g->alignment = BT_GGUF_DEFAULT_ALIGNMENT;
    if (!kv) return BT_OK;
    bt_gguf_type t = kv->value.type;
    int is_unsigned = t == BT_GGUF_UINT8 || t == BT_GGUF_UINT16 || t == BT_GGUF_UINT32 || t == BT_GGUF_UINT64;
    int is_signed = t == BT_GGUF_INT8 || t == BT_GGUF_INT16 || t == BT_GGUF_INT32 || t == BT_GGUF_INT64;
    if (!is_unsigned && !is_signed) return fail(p, "general.alignment has type %s, expected an integer", type_names[t]);
    if (is_signed && kv->value.v.i <= 0) return fail(p, "general.alignment %lld is not a power of two", (long long)kv->value.v.i);
    uint64_t a = is_signed ? (uint64_t)kv->value.v.i : kv->value.v.u;
    if (a == 0 || (a & (a - 1))) return fail(p, "general.alignment %llu is not a power of two", (unsigned long long)a);
    g->alignment = a;
    return BT_OK;
}

static bt_status parse_tensor_info(parser *p, const bt_gguf *g, uint64_t i, bt_gguf_tensor_info *t) {
    snprintf(p->where, sizeof p->where, "tensor %llu", (unsigned long long)i);
    bt_status st = read_str(p, "name", &t->name);
    if (st != BT_OK) return st;
    if (t->name.len == 0) return fail(p, "empty tensor name");
    set_where(p, "tensor", t->name);
    if ((st = read_u32(p, "n_dims", &t->n_dims)) != BT_OK) return st;
    if (t->n_dims < 1 || t->n_dims > BT_GGUF_MAX_DIMS)
        return fail(p, "n_dims %u (expected 1 to %d)", t->n_dims, BT_GGUF_MAX_DIMS);
    for (uint32_t j = 0; j < BT_GGUF_MAX_DIMS; j++) {
        t->ne[j] = 1;
        if (j < t->n_dims && (st = read_u64(p, "ne", &t->ne[j])) != BT_OK) return st;
        if (t->ne[j] > (uint64_t)INT64_MAX) return fail(p, "ne[%u] = %llu is negative as int64", j, (unsigned long long)t->ne[j]);
    }
    if ((st = read_u32(p, "type", &t->ggml_type)) != BT_OK) return st;
    if ((st = read_u64(p, "offset", &t->offset)) != BT_OK) return st;
    const bt_ggml_type_info *type = bt_ggml_type_info_get(t->ggml_type);
    if (!type) return fail(p, "unknown ggml type id %u", t->ggml_type);
    t->dtype = type->dtype;
    if (bt_ggml_tensor_nbytes(&t->nbytes, t->ggml_type, t->ne, t->n_dims) != BT_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", bt_last_error());
        return fail(p, "%s", why);
    }
    if (t->offset % g->alignment)
        return fail(p, "offset %llu is not a multiple of the alignment %llu", (unsigned long long)t->offset,
                    (unsigned long long)g->alignment);
    return BT_OK;
}

/* By offset, then size, then place in the file: a total order (qsort need not be stable). */
static int compare_data(const void *a, const void *b) {
    const bt_gguf_tensor_info *x = *(const bt_gguf_tensor_info *const *)a, *y = *(const bt_gguf_tensor_info *const *)b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* No two tensors share a byte (a zero-byte tensor shares none, wherever it sits). */
static bt_status check_overlaps(parser *p, bt_gguf *g) {
    const bt_gguf_tensor_info **order = malloc(g->n_tensors * sizeof *order);
    if (!order) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", p->path);
    for (uint64_t i = 0; i < g->n_tensors; i++) order[i] = &g->tensors[i];
    qsort(order, g->n_tensors, sizeof *order, compare_data);
    const bt_gguf_tensor_info *reach = NULL;   /* of the non-empty tensors so far, the one that ends last */
    bt_status st = BT_OK;
    for (uint64_t i = 0; i < g->n_tensors && !st; i++) {
        const bt_gguf_tensor_info *t = order[i];
        if (t->nbytes == 0) continue;
        if (reach && t->offset < reach->offset + reach->nbytes) {
            set_where(p, "tensor", t->name);
            st = fail(p, "its data [%llu, %llu) overlaps tensor '%.*s' at [%llu, %llu)", (unsigned long long)t->offset,
                      (unsigned long long)(t->offset + t->nbytes), (int)(reach->name.len < 60 ? reach->name.len : 60),
                      reach->name.ptr, (unsigned long long)reach->offset,
                      (unsigned long long)(reach->offset + reach->nbytes));
        }
        if (!reach || t->offset + t->nbytes > reach->offset + reach->nbytes) reach = t;
    }
    free(order);
    return st;
}

/* Places the data section and checks every tensor's bytes lie inside the file, apart. */
static bt_status place_tensor_data(parser *p, bt_gguf *g) {
    uint64_t end_of_infos = p->pos, pad = (g->alignment - end_of_infos % g->alignment) % g->alignment;
    if (pad > UINT64_MAX - end_of_infos) return fail(p, "data section start overflows 64 bits");
    g->data_offset = end_of_infos + pad;
    if (g->n_tensors == 0) {   /* vocab-only files may end without the padding */
        if (g->data_offset > p->size) g->data_offset = p->size;
        return BT_OK;
    }
    if (g->data_offset > p->size)
        return fail(p, "data section starts at %llu, past end of file (size %llu)",
                    (unsigned long long)g->data_offset, (unsigned long long)p->size);
    uint64_t data_size = p->size - g->data_offset;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        bt_gguf_tensor_info *t = &g->tensors[i];
        set_where(p, "tensor", t->name);
        if (t->offset > data_size)
            return fail(p, "data offset %llu is past the end of the data section (%llu bytes from %llu)",
                        (unsigned long long)t->offset, (unsigned long long)data_size, (unsigned long long)g->data_offset);
        uint64_t begin = g->data_offset + t->offset, end;
        if (t->nbytes > data_size - t->offset) {
            if (__builtin_add_overflow(begin, t->nbytes, &end))
                return fail(p, "data at %llu of %llu bytes runs past end of file (size %llu)", (unsigned long long)begin,
                            (unsigned long long)t->nbytes, (unsigned long long)p->size);
            return fail(p, "data [%llu, %llu) runs past end of file (size %llu)", (unsigned long long)begin,
                        (unsigned long long)end, (unsigned long long)p->size);
        }
        t->data = p->data + begin;
    }
    p->where[0] = 0;
    return check_overlaps(p, g);
}

static bt_status parse_tensor_infos(parser *p, bt_gguf *g) {
    if (g->n_tensors && !(g->tensors = calloc(g->n_tensors, sizeof *g->tensors)))
        return bt_set_error(BT_ERR_NOMEM, "%s: out of memory for %llu tensor infos", p->path, (unsigned long long)g->n_tensors);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        bt_status st = parse_tensor_info(p, g, i, &g->tensors[i]);
        if (st != BT_OK) return st;
    }
    p->where[0] = 0;
    return place_tensor_data(p, g);
}

/* Sorts a name index and rejects duplicate names. */
static bt_status sort_names(parser *p, const char *kind, bt_gguf_name_entry *entries /* [n] */, uint64_t n) {
    bt_gguf_str dup;
    if (!bt_gguf_names_sort(entries, n, &dup)) return BT_OK;
    set_where(p, kind, dup);
    return fail(p, "duplicate name");
}

static bt_status index_keys(parser *p, bt_gguf *g) {
    if (g->n_kv == 0) return BT_OK;
    bt_gguf_name_entry *keys = alloc_table(p, g->n_kv, sizeof *keys);   /* [n_kv] */
    if (!keys) return BT_ERR_NOMEM;
    for (uint64_t i = 0; i < g->n_kv; i++) keys[i] = (bt_gguf_name_entry){g->kv[i].key, i};
    g->lookup->keys = keys;
    return sort_names(p, "metadata", keys, g->n_kv);
}

static bt_status index_tensor_names(parser *p, bt_gguf *g) {
    if (g->n_tensors == 0) return BT_OK;
    bt_gguf_name_entry *names = alloc_table(p, g->n_tensors, sizeof *names);   /* [n_tensors] */
    if (!names) return BT_ERR_NOMEM;
    for (uint64_t i = 0; i < g->n_tensors; i++) names[i] = (bt_gguf_name_entry){g->tensors[i].name, i};
    g->lookup->tensor_names = names;
    return sort_names(p, "tensor", names, g->n_tensors);
}

static bt_status parse(bt_gguf *g) {
    parser p = {.path = g->path, .data = g->map.data, .size = g->map.size, .lookup = g->lookup};
    bt_status st = parse_header(&p, g);
    if (st == BT_OK) st = parse_metadata(&p, g);
    if (st == BT_OK) st = index_keys(&p, g);
    if (st == BT_OK) st = read_alignment(&p, g);
    if (st == BT_OK) st = parse_tensor_infos(&p, g);
    if (st == BT_OK) st = index_tensor_names(&p, g);
    return st;
}

bt_status bt_gguf_open(bt_gguf **out, const char *path) {
    *out = NULL;
    bt_gguf *g = calloc(1, sizeof *g);
    size_t path_len = strlen(path);
    if (g) g->path = malloc(path_len + 1);
    if (g && g->path) g->lookup = calloc(1, sizeof *g->lookup);
    if (!g || !g->path || !g->lookup) {
        bt_gguf_close(g);
        return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(g->path, path, path_len + 1);
    bt_status st = bt_map_file(&g->map, path);
    if (st == BT_OK) st = parse(g);
    if (st != BT_OK) {
        bt_gguf_close(g);
        return st;
    }
    *out = g;
    return BT_OK;
}

void bt_gguf_close(bt_gguf *g) {
    if (!g) return;
    if (g->map.data) bt_unmap_file(&g->map);
    bt_gguf_lookup_free(g->lookup);
    free(g->kv);
    free(g->tensors);
    free(g->path);
    free(g);
}
