/* kv_cache.h - the element types a KV cache may hold, and rows in and out of them.
 *
 * A cache row is one position of one kv head: head_dim values stored as f32,
 * f16 (round to nearest even) or Q8_0 (ggml's blocks of 32: an f16 scale
 * d = max|x| / 127, then 32 int8 q = round(x / d); value d * q; head_dim must
 * be a multiple of 32). Attention reads rows back as f32.
 */
#ifndef BT_KV_CACHE_H
#define BT_KV_CACHE_H
#include <stddef.h>
#include <stdint.h>

typedef enum { BT_KV_F32, BT_KV_F16, BT_KV_Q8_0 } bt_kv_type;

/* Bytes of one row of head_dim values (0 when Q8_0 and head_dim is not a multiple of 32). */
size_t bt_kv_row_bytes(bt_kv_type type, int head_dim);

/* Stores head_dim f32 values as one row of the type. */
void bt_kv_store_row(bt_kv_type type, void *row, const float *x, int head_dim);

/* n consecutive rows (row_bytes apart) back to f32: out [n, head_dim]. */
void bt_kv_load_rows(bt_kv_type type, float *out, const void *rows, int64_t n, int head_dim);

#endif
