/* gguf_write.h - builds a GGUF v3 file from metadata and tensors (for converters,
 * the quantize tool and synthetic-model generators).
 *
 *   bt_gguf_writer *w;
 *   bt_gguf_writer_new(&w);
 *   bt_gguf_writer_add_str(w, "general.architecture", "llama");
 *   bt_gguf_writer_add_u32(w, "llama.block_count", 5);
 *   int64_t shape[2] = {512, 64};                     // numpy order: [rows, cols]
 *   bt_gguf_writer_add_tensor(w, "token_embd.weight", BT_F32, 2, shape, data, nbytes);
 *   bt_gguf_writer_write_file(w, "model.gguf");
 *   bt_gguf_writer_free(w);
 *
 * llama.cpp's conventions: tensor ne is the numpy shape reversed (ne[0] is the
 * row length), data is aligned to general.alignment (32 unless that key was
 * added), metadata keeps the order it was added in. Keys and tensor names must be
 * unique (BT_ERR_ARG otherwise). Strings and metadata are copied when added;
 * tensor data is borrowed until bt_gguf_writer_write_file().
 */
#ifndef BT_GGUF_WRITE_H
#define BT_GGUF_WRITE_H
#include <stddef.h>
#include <stdint.h>
#include "base/dtype.h"
#include "base/error.h"
#include "gguf.h"

typedef struct bt_gguf_writer bt_gguf_writer;

bt_status bt_gguf_writer_new(bt_gguf_writer **out);
void bt_gguf_writer_free(bt_gguf_writer *w);   /* NULL is fine */

/* Any value: scalars from v.u / v.i / v.f (range-checked for the narrow types),
 * strings from v.s, arrays of fixed-size elements from arr.data [count] in GGUF
 * (little-endian) layout, and arrays of strings or arrays from a value read by
 * bt_gguf_open (their encoded bytes are copied as they are), so a whole file's
 * metadata can be copied entry by entry. */
bt_status bt_gguf_writer_add_value(bt_gguf_writer *w, const char *key, const bt_gguf_value *v);

bt_status bt_gguf_writer_add_u32(bt_gguf_writer *w, const char *key, uint32_t v);
bt_status bt_gguf_writer_add_i32(bt_gguf_writer *w, const char *key, int32_t v);
bt_status bt_gguf_writer_add_u64(bt_gguf_writer *w, const char *key, uint64_t v);
bt_status bt_gguf_writer_add_f32(bt_gguf_writer *w, const char *key, float v);
bt_status bt_gguf_writer_add_bool(bt_gguf_writer *w, const char *key, int v);
bt_status bt_gguf_writer_add_str(bt_gguf_writer *w, const char *key, const char *v);

/* An array of count fixed-size elements of elem_type held in host C types
 * (uint8_t ... double; bool as uint8_t 0/1). */
bt_status bt_gguf_writer_add_array(bt_gguf_writer *w, const char *key, bt_gguf_type elem_type,
                                   const void *elems /* [count] */, uint64_t count);
/* An array of strings; lens NULL means each string is NUL-terminated. */
bt_status bt_gguf_writer_add_str_array(bt_gguf_writer *w, const char *key, const char *const *strs /* [count] */,
                                       const uint64_t *lens /* [count] or NULL */, uint64_t count);

/* A tensor of n_dims (1..4) with shape in numpy order; nbytes must equal the size
 * the dtype's layout gives (I2_S: n/4 + 32). Data is borrowed until write. */
bt_status bt_gguf_writer_add_tensor(bt_gguf_writer *w, const char *name, bt_dtype dtype, int n_dims,
                                    const int64_t *shape /* [n_dims] */, const void *data, size_t nbytes);

/* Writes the file (replacing it); a failed write removes the partial file. */
bt_status bt_gguf_writer_write_file(bt_gguf_writer *w, const char *path);

#endif
