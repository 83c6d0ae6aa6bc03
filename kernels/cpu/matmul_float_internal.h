/* matmul_float_internal.h - what matmul_float.c shares with its SIMD files:
 * the job description and the per-level block functions. Not a public API. */
#ifndef BT_MATMUL_FLOAT_INTERNAL_H
#define BT_MATMUL_FLOAT_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "base/dtype.h"

typedef struct bt_matmul_job {
    float *y;              /* [m, n] */
    const float *x;        /* [m, k] */
    const uint8_t *w;      /* [n, k] rows, w_row_bytes apart */
    size_t w_row_bytes;
    bt_dtype w_type;       /* F32, F16, BF16, Q8_0 or Q6_K */
    int64_t m, n, k;
} bt_matmul_job;

/* Q8_0 block: f16 scale first, then 32 int8 values. */
enum { BT_Q8_0_BLOCK = 32, BT_Q8_0_BLOCK_BYTES = 34 };

/* Each computes y[t, i] for tokens t in [t0, t1) and outputs i in [i0, i1).
 * Every y[t, i] comes from the same sequence of operations whatever the block
 * bounds, which is what makes batched rows equal single rows. */
void bt_matmul_float_block_scalar(const bt_matmul_job *job, int64_t t0, int64_t t1, int64_t i0, int64_t i1);
void bt_matmul_float_block_avx2(const bt_matmul_job *job, int64_t t0, int64_t t1, int64_t i0, int64_t i1);
void bt_matmul_float_block_avx512(const bt_matmul_job *job, int64_t t0, int64_t t1, int64_t i0, int64_t i1);

#endif
