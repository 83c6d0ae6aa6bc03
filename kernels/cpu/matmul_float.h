/* matmul_float.h - y = x . W^T for float-ish weights (F32, F16, BF16, Q8_0,
 * Q6_K) and f32 activations, accumulated in f32.
 *
 * W has nn.Linear layout: row i holds the k input weights of output i, rows are
 * contiguous and start w_row_bytes apart (so W can be a view into a mapped file).
 * Q8_0 is ggml's block of 32 values: an f16 scale d, then 32 int8 q, value d*q
 * (34 bytes); Q6_K its super-block of 256 (quant_q6_k.h), each weight
 * d * scale * (code - 32) as an f32 product. m = 1 is the decoding GEMV; m > 1 (a prompt batch) is blocked over
 * tokens so every weight row is read once per block of tokens. Row i of y is
 * bit-for-bit the same whether computed in a batch or alone (at one SIMD level),
 * and does not depend on the thread count. OpenMP threads split the n outputs.
 */
#ifndef BT_MATMUL_FLOAT_H
#define BT_MATMUL_FLOAT_H
#include <stddef.h>
#include <stdint.h>
#include "base/dtype.h"
#include "base/error.h"

/* 1 if bt_matmul_float takes weights of this type. */
int bt_matmul_float_supports(bt_dtype w_type);

/* y[t, i] = sum_j W[i, j] * x[t, j]. Fails with BT_ERR_UNSUPPORTED for other
 * weight types, BT_ERR_ARG for negative sizes, a Q8_0 k that is not a multiple
 * of 32 (Q6_K: of 256), or w_row_bytes shorter than one row. */
bt_status bt_matmul_float(float *y /* [m, n] */, const float *x /* [m, k] */,
                          const void *w /* [n, k] rows, w_row_bytes apart */,
                          bt_dtype w_type, size_t w_row_bytes,
                          int64_t m, int64_t n, int64_t k);

#endif
