/* safetensors.h - zero-copy reader for .safetensors files (Hugging Face).
 *
 * Layout: u64 little-endian header length N, N bytes of JSON, then the data.
 * The JSON maps each tensor name to {"dtype", "shape", "data_offsets": [begin,
 * end)} (offsets relative to the data start) and may hold "__metadata__", a map
 * of strings. bt_safetensors_open() maps the file and checks every entry: known
 * dtype, shape sizes, begin <= end <= data size, end - begin == the shape's
 * bytes, no two tensors overlapping, unique names. Errors name the file and the
 * tensor. Tensor data points into the mapping; nothing is copied.
 */
#ifndef BT_SAFETENSORS_H
#define BT_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>
#include "base/dtype.h"
#include "base/error.h"
#include "json.h"
#include "platform/platform.h"

#define BT_SAFETENSORS_MAX_DIMS 8

typedef struct bt_safetensors_tensor {
    const char *name;             /* NUL-terminated, owned by the file object */
    const char *file_dtype;       /* as in the header: "F32", "BF16", "I64", ... */
    int has_dtype;                /* 0 for dtypes the runtime lacks (BOOL, I16, U16, U32, I64, U64, F8_E4M3, F8_E5M2) */
    bt_dtype dtype;               /* BT_DTYPE_COUNT when !has_dtype */
    int n_dims;                   /* 0 (a scalar) to BT_SAFETENSORS_MAX_DIMS */
    int64_t shape[BT_SAFETENSORS_MAX_DIMS];   /* numpy order */
    uint64_t offset;              /* absolute byte offset in the file */
    uint64_t nbytes;
    const uint8_t *data;          /* [nbytes] into the mapping; not necessarily aligned to the element size */
} bt_safetensors_tensor;

typedef struct bt_safetensors_meta {
    const char *key, *value;      /* NUL-terminated */
} bt_safetensors_meta;

typedef struct bt_safetensors {
    char *path;
    bt_mapped_file map;
    uint64_t data_offset;                 /* 8 + header length */
    size_t n_tensors;
    bt_safetensors_tensor *tensors;       /* [n_tensors] in header order */
    size_t n_metadata;
    bt_safetensors_meta *metadata;        /* [n_metadata] the __metadata__ map */
    bt_json_doc *header;                  /* the parsed header; names and strings live in it */
    const bt_safetensors_tensor **by_name;   /* private: [n_tensors] sorted by name */
} bt_safetensors;

bt_status bt_safetensors_open(bt_safetensors **out, const char *path);
void bt_safetensors_close(bt_safetensors *st);   /* NULL is fine */
const bt_safetensors_tensor *bt_safetensors_find(const bt_safetensors *st, const char *name);   /* NULL if absent */
const char *bt_safetensors_metadata(const bt_safetensors *st, const char *key);   /* NULL if absent */

/* Parses the config.json that sits in the same directory as model_path. */
bt_status bt_safetensors_load_config(bt_json_doc **out, const char *model_path);

#endif
