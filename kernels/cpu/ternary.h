/* ternary.h - y = W . x for ternary weights W (BitNet b1.58) and int8
 * activations x, straight from the bytes of a model file.
 *
 *   bt_ternary_matrix w;
 *   bt_ternary_prepare(&w, BT_TERNARY_TQ2_0, data, data_bytes, n, k);  // once, at load
 *   bt_act_quantize(&xq, x);                                            // per call
 *   bt_ternary_matmul(y, &w, &xq);                                      // y [m, n]
 *
 * prepare validates the sizes and, for TQ2_0 / TQ1_0, folds the per-block f16
 * scales into one tensor scale when every block that holds a nonzero weight
 * has the same d (BitNet files do); otherwise matmul rescales block by block.
 * That reads the d of every block once (a pass over the tensor's pages).
 * prepare copies nothing: w points into the caller's (mapped) data,
 * which must outlive it.
 *
 * matmul computes integer dot products of codes c = w + 1 with the int8
 * activations (dot(c, q) - sum(q)) and rescales once per row (or per block):
 * y[t, i] = dot_i32 * scale / s_t. The integer results are the same at every
 * SIMD level and thread count, so y does not depend on either. OpenMP threads
 * (omp_set_num_threads / bt_set_num_threads) split the rows.
 */
#ifndef BT_TERNARY_H
#define BT_TERNARY_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "kernels/cpu/act_quant.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/ternary_format.h"

typedef struct bt_ternary_matrix {
    bt_ternary_format format;
    const uint8_t *data;      /* row 0; row i starts at data + i * row_bytes */
    size_t row_bytes;
    int64_t n, k;             /* rows (outputs) and columns (inputs) */
    int64_t n_blocks;         /* blocks per row (of bt_ternary_format_info.block_cols columns) */
    int per_block_scales;     /* 1: TQ blocks with different d; 0: one scale for all */
    float scale;              /* the weight of code 2 (+1) when per_block_scales == 0 */
    void *owned;              /* a repacked copy data points into (bt_ternary_repack), or NULL */
} bt_ternary_matrix;

/* Validates and describes W [n, k] stored at data (data_bytes readable).
 * BT_ERR_ARG: unknown format, n or k < 1, k not a multiple of the format's
 * block (256 for TQ2_0 / TQ1_0, 128 for I2_S), data_bytes too small for the
 * rows and the tensor scale. BT_ERR_FORMAT: a non-finite (or, for I2_S and
 * BT2, negative) tensor scale or folded block scale. */
bt_status bt_ternary_prepare(bt_ternary_matrix *out, bt_ternary_format format, const void *data /* [data_bytes] */,
                             size_t data_bytes, int64_t n, int64_t k);

/* Optional, after prepare: TQ1_0 (base-3, unpacked by arithmetic: compute-bound)
 * becomes a TQ2_0 copy on the heap, block for block: the same codes and the same
 * f16 d bits, 66 bytes per 256 weights instead of 54 (+22%), which decodes at the
 * speed of TQ2_0. The integer results do not change. Other formats are left as
 * they are. The mapped TQ1_0 pages are no longer read (clean: the kernel may drop
 * them). BT_ERR_NOMEM if the copy cannot be allocated. bt_ternary_release frees it. */
bt_status bt_ternary_repack(bt_ternary_matrix *w);
void bt_ternary_release(bt_ternary_matrix *w);

/* y[t, i] = sum_j W[i, j] * q[t, j] / s_t for t < x->m. BT_ERR_ARG if x->k != w->k. */
bt_status bt_ternary_matmul(float *y /* [x->m, w->n] */, const bt_ternary_matrix *w /* [n, k] */,
                            const bt_act_i8 *x /* [m, k] */);
/* The same at a given SIMD level (capped at bt_simd_level_get()), for tests and benchmarks. */
bt_status bt_ternary_matmul_at(float *y /* [x->m, w->n] */, const bt_ternary_matrix *w, const bt_act_i8 *x,
                               bt_simd_level level);

/* Row i of W as floats: (c - 1) * d_block (TQ) or (c - 1) * scale. */
void bt_ternary_dequantize_row(float *out /* [w->k] */, const bt_ternary_matrix *w, int64_t row);

/* The integer results matmul rescales, exposed so tests can hold every SIMD
 * path to the scalar one: out[t, i] = sum_j (c[i, j] - 1) * q[t, j] over the
 * whole row (the path matmul takes for x->m tokens), and per block
 * out[t, i, b] over the columns of block b (the per-block-scale path). */
bt_status bt_ternary_dot_rows(int32_t *out /* [x->m, w->n] */, const bt_ternary_matrix *w, const bt_act_i8 *x,
                              bt_simd_level level);
bt_status bt_ternary_dot_blocks(int32_t *out /* [x->m, w->n, w->n_blocks] */, const bt_ternary_matrix *w,
                                const bt_act_i8 *x, bt_simd_level level);

#endif
