/* matmul_float.c - argument checks, the thread split and the scalar path of
 * bt_matmul_float; the SIMD blocks are in matmul_float_avx2.c / _avx512.c. */
#include "matmul_float.h"
#include "matmul_float_internal.h"
#include "cpu_features.h"
#include "quant_q6_k.h"
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum {
    TOKEN_BLOCK = 64,                 /* tokens that share one pass over the weights */
    ROW_GROUP = 4,                    /* threads split the outputs in groups of this many */
    PARALLEL_MIN_WEIGHTS = 1 << 16,   /* smaller matrices run on one thread */
    SCALAR_CHUNK = 256                /* weights converted to f32 at a time (multiple of 32) */
};

int bt_matmul_float_supports(bt_dtype w_type) {
    return w_type == BT_F32 || w_type == BT_F16 || w_type == BT_BF16 || w_type == BT_Q8_0 || w_type == BT_Q6_K;
}

/* W[row, j0 .. j0+len) as f32; for Q8_0, j0 is a multiple of 32; for Q6_K, j0 is a
 * multiple of 256 and len 256 (one block). */
static void row_chunk_to_f32(float *out /* [len] */, const uint8_t *row, bt_dtype type, int64_t j0, int64_t len) {
    switch (type) {
    case BT_F32:
        memcpy(out, row + 4 * j0, (size_t)len * 4);
        break;
    case BT_F16:
    case BT_BF16:
        for (int64_t j = 0; j < len; j++) {
            uint16_t h;
            memcpy(&h, row + 2 * (j0 + j), 2);
            out[j] = type == BT_F16 ? bt_f16_to_f32(h) : bt_bf16_to_f32(h);
        }
        break;
    case BT_Q8_0:
        for (int64_t j = 0; j < len; j++) {
            const uint8_t *block = row + ((j0 + j) / BT_Q8_0_BLOCK) * BT_Q8_0_BLOCK_BYTES;
            uint16_t d;
            memcpy(&d, block, 2);
            out[j] = bt_f16_to_f32(d) * (float)(int8_t)block[2 + (j0 + j) % BT_Q8_0_BLOCK];
        }
        break;
    case BT_Q6_K:
        bt_q6_k_dequantize_row(out, row + j0 / BT_Q6_K_COLS * BT_Q6_K_BYTES, len);
        break;
    default:
        break;
    }
}

void bt_matmul_float_block_scalar(const bt_matmul_job *job, int64_t t0, int64_t t1, int64_t i0, int64_t i1) {
    const int64_t k = job->k, n = job->n;
    float wf[SCALAR_CHUNK];
    float acc[TOKEN_BLOCK];
    for (int64_t tb = t0; tb < t1; tb += TOKEN_BLOCK) {
        const int64_t nt = t1 - tb < TOKEN_BLOCK ? t1 - tb : TOKEN_BLOCK;
        for (int64_t i = i0; i < i1; i++) {
            const uint8_t *row = job->w + (size_t)i * job->w_row_bytes;
            for (int64_t t = 0; t < nt; t++) acc[t] = 0.0f;
            for (int64_t j0 = 0; j0 < k; j0 += SCALAR_CHUNK) {
                const int64_t len = k - j0 < SCALAR_CHUNK ? k - j0 : SCALAR_CHUNK;
                row_chunk_to_f32(wf, row, job->w_type, j0, len);
                for (int64_t t = 0; t < nt; t++) {
                    const float *xt = job->x + (tb + t) * k + j0;
                    float s = acc[t];
                    for (int64_t j = 0; j < len; j++) s += wf[j] * xt[j];
                    acc[t] = s;
                }
            }
            for (int64_t t = 0; t < nt; t++) job->y[(tb + t) * n + i] = acc[t];
        }
    }
}

typedef void (*block_fn)(const bt_matmul_job *, int64_t, int64_t, int64_t, int64_t);

static block_fn pick_block(void) {
    switch (bt_simd_level_get()) {
#if BT_X86_SIMD
    case BT_SIMD_AVX512: return bt_matmul_float_block_avx512;
    case BT_SIMD_AVX2: return bt_matmul_float_block_avx2;
#endif
    default: return bt_matmul_float_block_scalar;
    }
}

/* Outputs [*i0, *i1) of thread `id` of `count`: contiguous, in whole row groups. */
static void thread_outputs(int64_t n, int id, int count, int64_t *i0, int64_t *i1) {
    int64_t groups = (n + ROW_GROUP - 1) / ROW_GROUP;
    *i0 = groups * id / count * ROW_GROUP;
    *i1 = groups * (id + 1) / count * ROW_GROUP;
    if (*i1 > n) *i1 = n;
}

bt_status bt_matmul_float(float *y, const float *x, const void *w, bt_dtype w_type, size_t w_row_bytes,
                          int64_t m, int64_t n, int64_t k) {
    if (!bt_matmul_float_supports(w_type)) {
        const bt_dtype_info *info = bt_dtype_get_info(w_type);
        return bt_set_error(BT_ERR_UNSUPPORTED, "matmul_float: weight type: expected f32, f16, bf16, q8_0 or q6_k, found %s",
                            info ? info->name : "an unknown type");
    }
    if (m < 0 || n < 0 || k < 0)
        return bt_set_error(BT_ERR_ARG, "matmul_float: sizes: expected m, n, k >= 0, found %lld, %lld, %lld",
                            (long long)m, (long long)n, (long long)k);
    size_t row_bytes = bt_dtype_row_bytes(w_type, k);
    if (k > 0 && row_bytes == 0)
        return bt_set_error(BT_ERR_ARG, "matmul_float: k: expected a multiple of %u for %s, found %lld",
                            (unsigned)bt_dtype_get_info(w_type)->block_size, bt_dtype_get_info(w_type)->name, (long long)k);
    if (n > 1 && w_row_bytes < row_bytes)
        return bt_set_error(BT_ERR_ARG, "matmul_float: w_row_bytes: expected at least %zu for %lld values, found %zu",
                            row_bytes, (long long)k, w_row_bytes);
    if (m == 0 || n == 0) return BT_OK;

    const bt_matmul_job job = {y, x, (const uint8_t *)w, w_row_bytes, w_type, m, n, k};
    const block_fn block = pick_block();
#pragma omp parallel if (n >= 2 * ROW_GROUP && n * k >= PARALLEL_MIN_WEIGHTS)
    {
        int id = 0, count = 1;
#ifdef _OPENMP
        id = omp_get_thread_num();
        count = omp_get_num_threads();
#endif
        int64_t i0, i1;
        thread_outputs(n, id, count, &i0, &i1);
        for (int64_t t0 = 0; t0 < m && i0 < i1; t0 += TOKEN_BLOCK)
            block(&job, t0, t0 + TOKEN_BLOCK < m ? t0 + TOKEN_BLOCK : m, i0, i1);
    }
    return BT_OK;
}
