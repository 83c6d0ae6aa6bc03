/* attention.h - causal grouped-query attention of a block of queries over a
 * KV cache of f32, f16 or Q8_0 rows.
 *
 * Query row r sits at position pos0 + r and attends to cache positions
 * 0 .. pos0 + r (so one call serves decoding, m = 1, and a prompt batch, m > 1,
 * whose rows mask the positions after their own). The cache must already hold
 * keys and values for positions 0 .. pos0 + m - 1; positions past that are
 * never read. Query head h reads kv head h / (n_head / n_kv_head).
 *
 * The softmax runs online over tiles of positions (running max and sum, as in
 * flash attention), so there is no score buffer to pass and nothing is
 * allocated. Work is split over OpenMP threads by (row, head). A row's result
 * is bit-for-bit the same in a batch or alone, whatever the thread count.
 */
#ifndef BT_ATTENTION_H
#define BT_ATTENTION_H
#include <stdint.h>
#include "kv_cache.h"

/* out[r, h*head_dim + d] = sum_t p_t * v_cache[g, t, d] with
 * p = softmax_t(scale * q[r, h*head_dim ..] . k_cache[g, t, ..]), t <= pos0 + r,
 * g = h / (n_head / n_kv_head). n_head is a multiple of n_kv_head; ctx (the
 * cache's allocated length) >= pos0 + m. scale is usually 1/sqrt(head_dim).
 * out must not overlap q or the caches. */
void bt_attention(float *out /* [m, n_head * head_dim] */, const float *q /* [m, n_head * head_dim] */,
                  const float *k_cache /* [n_kv_head, ctx, head_dim] */,
                  const float *v_cache /* [n_kv_head, ctx, head_dim] */,
                  int64_t m, int64_t pos0, int n_head, int n_kv_head, int head_dim, int64_t ctx, float scale);

/* The same over caches of f32, f16 or Q8_0 rows (kv_cache.h): k_cache/v_cache hold
 * [n_kv_head, ctx] rows of bt_kv_row_bytes(type, head_dim) bytes. f16/Q8_0 tiles
 * are converted to f32 on the stack, bt_attention_kv_tile(head_dim) rows at a time
 * (0 when head_dim is too large for that: callers check it is >= 1). */
void bt_attention_kv(float *out, const float *q, const void *k_cache, const void *v_cache, bt_kv_type type, int64_t m,
                     int64_t pos0, int n_head, int n_kv_head, int head_dim, int64_t ctx, float scale);
int64_t bt_attention_kv_tile(int head_dim);

#endif
