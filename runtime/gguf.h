/* gguf.h - zero-copy reader for GGUF v2/v3 files (ggml's model format).
 *
 * bt_gguf_open() maps the file, validates every count, length, offset and size
 * against the file, and indexes the metadata and tensor infos. Nothing is
 * copied: strings and tensor data point into the mapping, which lives until
 * bt_gguf_close(). Errors name the file and the field ("x.gguf: tensor
 * 'blk.0.attn_q.weight': data [off, off+size) runs past end of file (size N)").
 *
 * Lookups are cheap: keys and tensor names are found by binary search, and
 * element i of a string array (128256 tokens) or of an array of arrays is found
 * in O(1) through an index built at open time.
 */
#ifndef BT_GGUF_H
#define BT_GGUF_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "base/dtype.h"
#include "platform/platform.h"

/* GGUF metadata value types (the file's numbering). */
typedef enum bt_gguf_type {
    BT_GGUF_UINT8 = 0, BT_GGUF_INT8 = 1, BT_GGUF_UINT16 = 2, BT_GGUF_INT16 = 3,
    BT_GGUF_UINT32 = 4, BT_GGUF_INT32 = 5, BT_GGUF_FLOAT32 = 6, BT_GGUF_BOOL = 7,
    BT_GGUF_STRING = 8, BT_GGUF_ARRAY = 9, BT_GGUF_UINT64 = 10, BT_GGUF_INT64 = 11,
    BT_GGUF_FLOAT64 = 12
} bt_gguf_type;
#define BT_GGUF_TYPE_COUNT 13
#define BT_GGUF_DEFAULT_ALIGNMENT 32
#define BT_GGUF_MAX_ARRAY_DEPTH 16   /* arrays of arrays nest at most this deep */

typedef struct bt_gguf_str {
    const char *ptr;   /* NOT NUL-terminated; points into the mapping */
    uint64_t len;
} bt_gguf_str;

/* One metadata value. Scalars are decoded; arrays keep a pointer to their raw
 * elements in the file (elements of fixed-size types are contiguous little-endian;
 * string and nested-array elements are reached with bt_gguf_array_*). */
typedef struct bt_gguf_value {
    bt_gguf_type type;
    union {
        uint64_t u;   /* UINT8..UINT64; BOOL as 0 or 1 */
        int64_t i;    /* INT8..INT64 */
        double f;     /* FLOAT32, FLOAT64 */
        bt_gguf_str s;
        struct {
            bt_gguf_type elem_type;
            uint64_t count;
            const uint8_t *data;   /* first element in the file */
            uint64_t nbytes;       /* bytes spanned by all elements */
            const void *index;     /* private: element index for STRING/ARRAY elements (built at open) */
        } arr;
    } v;
} bt_gguf_value;

typedef struct bt_gguf_kv {
    bt_gguf_str key;
    bt_gguf_value value;
} bt_gguf_kv;

#define BT_GGUF_MAX_DIMS 4
typedef struct bt_gguf_tensor_info {
    bt_gguf_str name;
    uint32_t n_dims;
    uint64_t ne[BT_GGUF_MAX_DIMS];   /* ggml order: ne[0] is the fastest (row length); unused dims are 1 */
    uint32_t ggml_type;              /* ggml type id as stored */
    bt_dtype dtype;                  /* the runtime dtype of that ggml type */
    uint64_t offset;                 /* relative to the data section */
    const uint8_t *data;             /* absolute pointer into the mapping */
    uint64_t nbytes;                 /* from the type's block layout (see bt_ggml_tensor_nbytes) */
} bt_gguf_tensor_info;

typedef struct bt_gguf {
    char *path;
    bt_mapped_file map;
    uint32_t version;
    uint64_t n_kv, n_tensors;
    bt_gguf_kv *kv;                  /* [n_kv] in file order */
    bt_gguf_tensor_info *tensors;    /* [n_tensors] in file order */
    uint64_t alignment;
    uint64_t data_offset;            /* start of the tensor data section */
    struct bt_gguf_lookup *lookup;   /* private to gguf.c: sorted names and element indexes */
} bt_gguf;

/* ggml tensor types this reader knows (the one table is in gguf.c); unknown ids
 * are an error naming the tensor. Block layouts come from the runtime dtype
 * (dtype.h). trailer_bytes is extra per-tensor data after the blocks: I2_S keeps
 * one f32 scale there, padded to 32 bytes. */
typedef struct bt_ggml_type_info {
    uint32_t ggml_type;
    bt_dtype dtype;
    uint32_t trailer_bytes;
} bt_ggml_type_info;
/* NULL for an unknown type id. Id 36 is read as bitnet.cpp's I2_S (see gguf.c). */
const bt_ggml_type_info *bt_ggml_type_info_get(uint32_t ggml_type);
/* The ggml type id that stores a runtime dtype; 0 (not found) for dtypes GGUF cannot hold. */
int bt_ggml_type_from_dtype(bt_dtype dtype, uint32_t *out_ggml_type);
/* Bytes of a tensor of ggml_type with ne[0..n_dims) (ggml order). BT_ERR_FORMAT with
 * a message (no file name) for an unknown type, a row length that is not a multiple
 * of the block size, or a size that overflows 64 bits. */
bt_status bt_ggml_tensor_nbytes(uint64_t *out_nbytes, uint32_t ggml_type, const uint64_t *ne, uint32_t n_dims);

bt_status bt_gguf_open(bt_gguf **out, const char *path);
void bt_gguf_close(bt_gguf *g);   /* NULL is fine */

const bt_gguf_kv *bt_gguf_find(const bt_gguf *g, const char *key);       /* NULL if absent */
const bt_gguf_tensor_info *bt_gguf_find_tensor(const bt_gguf *g, const char *name);

/* Typed getters: BT_ERR_FORMAT (naming the file and key) if present with another type,
 * BT_ERR_ARG if absent. Integer getters accept any integer type that fits; the float
 * getter also accepts integers. */
bt_status bt_gguf_get_int(const bt_gguf *g, const char *key, int64_t *out);
bt_status bt_gguf_get_float(const bt_gguf *g, const char *key, double *out);
bt_status bt_gguf_get_str(const bt_gguf *g, const char *key, bt_gguf_str *out);
bt_status bt_gguf_get_bool(const bt_gguf *g, const char *key, int *out);

/* Array element access in O(1) (bounds already validated at open). BT_ERR_ARG for a
 * value that is not an array, an index out of range, or (array_str) non-string elements. */
bt_status bt_gguf_array_str(const bt_gguf_value *arr, uint64_t i, bt_gguf_str *out);
bt_status bt_gguf_array_value(const bt_gguf_value *arr, uint64_t i, bt_gguf_value *out);

const char *bt_gguf_type_name(bt_gguf_type t);   /* "uint32", "string", ...; "?" if invalid */
size_t bt_gguf_type_size(bt_gguf_type t);        /* bytes of a fixed-size value; 0 for STRING/ARRAY */
int bt_gguf_str_eq(bt_gguf_str s, const char *cstr);   /* 1 if equal */

#endif
