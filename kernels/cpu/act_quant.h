/* act_quant.h - per-token int8 activations for the ternary matmul (BitNet b1.58).
 *
 * For each token (row of x): s = 127 / max|x| (the max clamped at 1e-5) and
 * q = clamp(round_half_even(x * s), -128, 127), all in f32, so x ~ q / s.
 * Rows are zero-padded to a multiple of 256 columns (the largest block a
 * ternary format uses), and the sum of q over every 128 columns is kept: the
 * kernels multiply unsigned codes c = w + 1 by q and subtract it.
 *
 * Memory is the caller's: bt_act_i8_init carves the arrays out of one buffer
 * of bt_act_i8_bytes(m, k) bytes (64-byte aligned is best), so quantizing in a
 * decode loop allocates nothing.
 */
#ifndef BT_ACT_QUANT_H
#define BT_ACT_QUANT_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "kernels/cpu/cpu_features.h"

enum { BT_ACT_PAD = 256, BT_ACT_SUM_COLS = 128 };

typedef struct bt_act_i8 {
    int8_t *q;             /* [m, k_pad] quantized values, 0 past column k */
    float *scale;          /* [m] s of each token: x ~ q / s */
    int32_t *group_sum;    /* [m, k_pad / 128] sum of q over columns [128 g, 128 g + 128) */
    int64_t m, k, k_pad;   /* k_pad = k rounded up to a multiple of 256 */
} bt_act_i8;

/* Buffer size for m tokens of k columns; 0 if m < 1 or k < 1 (or absurdly large). */
size_t bt_act_i8_bytes(int64_t m, int64_t k);

/* Points a's arrays into buf. BT_ERR_ARG if m or k < 1 or buf_bytes < bt_act_i8_bytes(m, k). */
bt_status bt_act_i8_init(bt_act_i8 *a, void *buf /* [buf_bytes] */, size_t buf_bytes, int64_t m, int64_t k);

/* Quantizes a->m tokens of x into a, at the best SIMD level (OpenMP over tokens). */
void bt_act_quantize(bt_act_i8 *a, const float *x /* [a->m, a->k] */);

/* The same at a given level (capped at what the CPU has): tests compare levels. */
void bt_act_quantize_at(bt_act_i8 *a, const float *x /* [a->m, a->k] */, bt_simd_level level);

#endif
