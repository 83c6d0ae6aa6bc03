/* matmul_float_avx2.c - AVX2 blocks of bt_matmul_float.
 *
 * A tile is 4 weight rows x 2 tokens (8 ymm accumulators, leaving registers for
 * the loads): each 8-lane slice of a weight row is converted to f32 once and
 * used for both tokens. A single token uses a 4 x 1 tile (the GEMV). While a
 * group of rows is first read, the next group is prefetched. A row tail
 * (k not a multiple of 8) is copied into zero-padded buffers; a Q8_0 block's
 * scale is read once per row and half block. Both tile shapes do the same
 * operations per accumulator, so batched outputs equal single-token outputs
 * bit for bit.
 */
#include "matmul_float_internal.h"
#include <string.h>
#include "kernels/cpu/cpu_features.h"
#if BT_X86_SIMD
#include "f16_simd.h"
#include "quant_q6_k_simd.h"

enum { TILE_ROWS = 4, TILE_TOKENS = 2, LANES = 8 };

#define INLINE static inline __attribute__((always_inline)) BT_TARGET_AVX2

/* W[row, j .. j+8) of an F32 / F16 / BF16 row as f32 */
INLINE __m256 load_weights(const uint8_t *row, int64_t j, bt_dtype type) {
    switch (type) {
    case BT_F32: return _mm256_loadu_ps((const float *)(row + 4 * j));
    case BT_F16: return bt_f16x8_load(row + 2 * j);
    default: return bt_bf16x8_load(row + 2 * j);
    }
}

/* into L2 (T1): into L1 (T0) the next group's rows crowd out the current ones and x
 * (2B4T F16 head, one Zen 4 thread: 59% of the read bandwidth with T0, 80% with T1) */
INLINE void prefetch_rows(const uint8_t *const *prefetch, int64_t byte_offset) {
    if (prefetch)
#pragma GCC unroll 4
        for (int r = 0; r < TILE_ROWS; r++) _mm_prefetch((const char *)prefetch[r] + byte_offset, _MM_HINT_T1);
}

/* acc[r][t] += W[rows[r], j .. j+8) * x[tokens[t], j .. j+8) for F32 / F16 / BF16 */
INLINE void tile_step(__m256 acc[TILE_ROWS][TILE_TOKENS], const uint8_t *const rows[TILE_ROWS],
                      const float *const tokens[TILE_TOKENS], int n_tokens, int64_t j, bt_dtype type,
                      const uint8_t *const *prefetch) {
    prefetch_rows(prefetch, type == BT_F32 ? 4 * j : 2 * j);
    __m256 xv[TILE_TOKENS];
#pragma GCC unroll 2
    for (int t = 0; t < n_tokens; t++) xv[t] = _mm256_loadu_ps(tokens[t] + j);
#pragma GCC unroll 4
    for (int r = 0; r < TILE_ROWS; r++) {
        __m256 wv = load_weights(rows[r], j, type);
#pragma GCC unroll 2
        for (int t = 0; t < n_tokens; t++) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
}

/* The last k - j < 8 values of F32 / F16 / BF16 rows, through zero-padded copies. */
INLINE void tile_step_tail(__m256 acc[TILE_ROWS][TILE_TOKENS], const uint8_t *const rows[TILE_ROWS],
                           const float *const tokens[TILE_TOKENS], int n_tokens, int64_t j, int64_t count,
                           bt_dtype type) {
    const size_t elem = type == BT_F32 ? 4 : 2;
    uint8_t row_pad[TILE_ROWS][LANES * 4];
    float token_pad[TILE_TOKENS][LANES];
    const uint8_t *pad_rows[TILE_ROWS];
    const float *pad_tokens[TILE_TOKENS];
    memset(row_pad, 0, sizeof row_pad);
    memset(token_pad, 0, sizeof token_pad);
    for (int r = 0; r < TILE_ROWS; r++) {
        memcpy(row_pad[r], rows[r] + (size_t)j * elem, (size_t)count * elem);
        pad_rows[r] = row_pad[r];
    }
    for (int t = 0; t < n_tokens; t++) {
        memcpy(token_pad[t], tokens[t] + j, (size_t)count * 4);
        pad_tokens[t] = token_pad[t];
    }
    tile_step(acc, pad_rows, pad_tokens, n_tokens, 0, type, NULL);
}

/* acc[t] += (16 int8 codes q times scale) . the 16 token values (x_lo[t], x_hi[t]) */
INLINE void fma_codes16(__m256 acc[TILE_TOKENS], __m128i q, __m256 scale, const __m256 x_lo[TILE_TOKENS],
                        const __m256 x_hi[TILE_TOKENS], int n_tokens) {
    const __m256 w_lo = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), scale);
    const __m256 w_hi = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q, 8))), scale);
#pragma GCC unroll 2
    for (int t = 0; t < n_tokens; t++) acc[t] = _mm256_fmadd_ps(w_lo, x_lo[t], acc[t]);
#pragma GCC unroll 2
    for (int t = 0; t < n_tokens; t++) acc[t] = _mm256_fmadd_ps(w_hi, x_hi[t], acc[t]);
}

/* The same for half a Q8_0 block (16 values from j, a multiple of 16): the
 * scale is read once for two 8-lane steps. */
INLINE void tile_step_q8_0(__m256 acc[TILE_ROWS][TILE_TOKENS], const uint8_t *const rows[TILE_ROWS],
                           const float *const tokens[TILE_TOKENS], int n_tokens, int64_t j,
                           const uint8_t *const *prefetch) {
    const int64_t block_offset = j / BT_Q8_0_BLOCK * BT_Q8_0_BLOCK_BYTES;
    const int64_t q_offset = block_offset + 2 + j % BT_Q8_0_BLOCK;
    prefetch_rows(prefetch, q_offset);
    __m256 x_lo[TILE_TOKENS], x_hi[TILE_TOKENS];
#pragma GCC unroll 2
    for (int t = 0; t < n_tokens; t++) {
        x_lo[t] = _mm256_loadu_ps(tokens[t] + j);
        x_hi[t] = _mm256_loadu_ps(tokens[t] + j + 8);
    }
#pragma GCC unroll 4
    for (int r = 0; r < TILE_ROWS; r++) {
        uint16_t d;
        memcpy(&d, rows[r] + block_offset, 2);
        const __m256 scale = _mm256_cvtph_ps(_mm_set1_epi16((short)d));
        fma_codes16(acc[r], _mm_loadu_si128((const __m128i *)(rows[r] + q_offset)), scale, x_lo, x_hi, n_tokens);
    }
}

/* The same for Q6_K block b (columns 256 b ..): its 16 scales are read once per
 * row; each 16 codes are two 8-lane steps, their weights scale * code in f32. */
INLINE void tile_block_q6_k(__m256 acc[TILE_ROWS][TILE_TOKENS], const uint8_t *const rows[TILE_ROWS],
                            const float *const tokens[TILE_TOKENS], int n_tokens, int64_t b,
                            const uint8_t *const *prefetch) {
    const int64_t block_offset = b * BT_Q6_K_BYTES;
    for (int line = 0; line < BT_Q6_K_BYTES; line += 64) prefetch_rows(prefetch, block_offset + line);
    float scale[TILE_ROWS][16];
#pragma GCC unroll 4
    for (int r = 0; r < TILE_ROWS; r++) bt_q6_k_scales16(scale[r], rows[r] + block_offset);
    for (int s = 0; s < 16; s++) {
        __m256 x_lo[TILE_TOKENS], x_hi[TILE_TOKENS];
#pragma GCC unroll 2
        for (int t = 0; t < n_tokens; t++) {
            const float *x = tokens[t] + b * BT_Q6_K_COLS + 16 * s;
            x_lo[t] = _mm256_loadu_ps(x);
            x_hi[t] = _mm256_loadu_ps(x + 8);
        }
#pragma GCC unroll 4
        for (int r = 0; r < TILE_ROWS; r++) {
            fma_codes16(acc[r], bt_q6_k_codes16(rows[r] + block_offset, s), _mm256_set1_ps(scale[r][s]), x_lo, x_hi,
                        n_tokens);
        }
    }
}

INLINE float reduce_add(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* out[r][t] = dot(W[rows[r], :k], x[tokens[t], :k]) for n_tokens = 1 or 2 */
INLINE void tile(float out[TILE_ROWS][TILE_TOKENS], const uint8_t *const rows[TILE_ROWS],
                 const float *const tokens[TILE_TOKENS], int n_tokens, int64_t k, bt_dtype type,
                 const uint8_t *const *prefetch) {
    __m256 acc[TILE_ROWS][TILE_TOKENS];
#pragma GCC unroll 4
    for (int r = 0; r < TILE_ROWS; r++)
#pragma GCC unroll 2
        for (int t = 0; t < n_tokens; t++) acc[r][t] = _mm256_setzero_ps();
    if (type == BT_Q8_0) {   /* k is a multiple of 32 */
        for (int64_t j = 0; j < k; j += BT_Q8_0_BLOCK / 2) tile_step_q8_0(acc, rows, tokens, n_tokens, j, prefetch);
    } else if (type == BT_Q6_K) {   /* k is a multiple of 256 */
        for (int64_t b = 0; b < k / BT_Q6_K_COLS; b++) tile_block_q6_k(acc, rows, tokens, n_tokens, b, prefetch);
    } else {
        int64_t j = 0;
        for (; j + LANES <= k; j += LANES) tile_step(acc, rows, tokens, n_tokens, j, type, prefetch);
        if (j < k) tile_step_tail(acc, rows, tokens, n_tokens, j, k - j, type);
    }
#pragma GCC unroll 4
    for (int r = 0; r < TILE_ROWS; r++)
#pragma GCC unroll 2
        for (int t = 0; t < n_tokens; t++) out[r][t] = reduce_add(acc[r][t]);
}

INLINE void block_of_type(const bt_matmul_job *job, int64_t t0, int64_t t1, int64_t i0, int64_t i1, bt_dtype type) {
    const int64_t k = job->k, n = job->n;
    for (int64_t i = i0; i < i1; i += TILE_ROWS) {
        /* a short last group repeats its last row; the extra results are dropped */
        const uint8_t *rows[TILE_ROWS];
        for (int r = 0; r < TILE_ROWS; r++)
            rows[r] = job->w + (size_t)(i + r < i1 ? i + r : i1 - 1) * job->w_row_bytes;
        const int n_rows = i1 - i < TILE_ROWS ? (int)(i1 - i) : TILE_ROWS;
        /* the first pass over this group's rows also prefetches the next group's:
         * the GEMV is bound by memory, and the hardware prefetcher restarts at each row */
        const uint8_t *next[TILE_ROWS];
        const uint8_t *const *prefetch = NULL;
        if (i + 2 * TILE_ROWS <= i1) {
            for (int r = 0; r < TILE_ROWS; r++) next[r] = rows[r] + TILE_ROWS * job->w_row_bytes;
            prefetch = next;
        }
        for (int64_t t = t0; t < t1;) {
            float out[TILE_ROWS][TILE_TOKENS];
            const float *tokens[TILE_TOKENS] = {job->x + t * k, job->x + t * k};
            int n_valid = 1;
            if (t1 - t == 1) {
                tile(out, rows, tokens, 1, k, type, prefetch);
            } else {
                tokens[1] = job->x + (t + 1) * k;
                tile(out, rows, tokens, TILE_TOKENS, k, type, prefetch);
                n_valid = TILE_TOKENS;
            }
            for (int u = 0; u < n_valid; u++)
                for (int r = 0; r < n_rows; r++) job->y[(t + u) * n + i + r] = out[r][u];
            t += n_valid;
            prefetch = NULL;
        }
    }
}

BT_TARGET_AVX2 void bt_matmul_float_block_avx2(const bt_matmul_job *job, int64_t t0, int64_t t1, int64_t i0,
                                               int64_t i1) {
    switch (job->w_type) {
    case BT_F32: block_of_type(job, t0, t1, i0, i1, BT_F32); break;
    case BT_F16: block_of_type(job, t0, t1, i0, i1, BT_F16); break;
    case BT_BF16: block_of_type(job, t0, t1, i0, i1, BT_BF16); break;
    case BT_Q8_0: block_of_type(job, t0, t1, i0, i1, BT_Q8_0); break;
    case BT_Q6_K: block_of_type(job, t0, t1, i0, i1, BT_Q6_K); break;
    default: break;
    }
}
#endif  /* BT_X86_SIMD */
