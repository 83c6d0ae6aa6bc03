/* matmul_float_avx512.c - AVX-512 blocks of bt_matmul_float.
 *
 * A tile is 4 weight rows x 4 tokens (16 zmm accumulators): each 16-lane slice
 * of a weight row is loaded and converted to f32 once and used for 4 tokens.
 * A single token uses a 4 x 1 tile (the GEMV). While a group of rows is first
 * read, the next group is prefetched, which brings the GEMV up to the speed of
 * a plain read of the weights. Row tails use lane masks; a Q8_0 block's scale
 * is read once per row and block. Every accumulator sees the same fused
 * multiply-adds in the same order in both tile shapes, so batched outputs
 * equal single-token outputs bit for bit.
 */
#include "matmul_float_internal.h"
#include <string.h>
#include "kernels/cpu/cpu_features.h"
#if BT_X86_SIMD
#include "f16_simd.h"
#include "quant_q6_k_simd.h"

enum { TILE_ROWS = 4, TILE_TOKENS = 4, LANES = 16 };

#define INLINE static inline __attribute__((always_inline)) BT_TARGET_AVX512

/* W[row, j .. j+16) of an F32 / F16 / BF16 row as f32 (masked lanes read 0) */
INLINE __m512 load_weights(const uint8_t *row, int64_t j, bt_dtype type, __mmask16 lanes) {
    switch (type) {
    case BT_F32: return _mm512_maskz_loadu_ps(lanes, row + 4 * j);
    case BT_F16: return bt_f16x16_load_mask(row + 2 * j, lanes);
    default: return bt_bf16x16_load_mask(row + 2 * j, lanes);
    }
}

/* into L2 (T1): into L1 (T0) the next group's rows crowd out the current ones and x
 * (2B4T F16 head, one Zen 4 thread: 59% of the read bandwidth with T0, 80% with T1) */
INLINE void prefetch_rows(const uint8_t *const *prefetch, int64_t byte_offset) {
    if (prefetch)
#pragma GCC unroll 4
        for (int r = 0; r < TILE_ROWS; r++) _mm_prefetch((const char *)prefetch[r] + byte_offset, _MM_HINT_T1);
}

/* acc[r][t] += W[rows[r], j .. j+16) * x[tokens[t], j .. j+16) for F32 / F16 / BF16 */
INLINE void tile_step(__m512 acc[TILE_ROWS][TILE_TOKENS], const uint8_t *const rows[TILE_ROWS],
                      const float *const tokens[TILE_TOKENS], int n_tokens, int64_t j, bt_dtype type,
                      __mmask16 lanes, const uint8_t *const *prefetch) {
    prefetch_rows(prefetch, type == BT_F32 ? 4 * j : 2 * j);
    __m512 xv[TILE_TOKENS];
#pragma GCC unroll 4
    for (int t = 0; t < n_tokens; t++) xv[t] = _mm512_maskz_loadu_ps(lanes, tokens[t] + j);
#pragma GCC unroll 4
    for (int r = 0; r < TILE_ROWS; r++) {
        __m512 wv = load_weights(rows[r], j, type, lanes);
#pragma GCC unroll 4
        for (int t = 0; t < n_tokens; t++) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
}

/* The same for one Q8_0 block (32 values from j, a multiple of 32): its scale
 * is read once, and each half of the block is one 16-lane step. */
INLINE void tile_step_q8_0(__m512 acc[TILE_ROWS][TILE_TOKENS], const uint8_t *const rows[TILE_ROWS],
                           const float *const tokens[TILE_TOKENS], int n_tokens, int64_t j,
                           const uint8_t *const *prefetch) {
    const int64_t block_offset = j / BT_Q8_0_BLOCK * BT_Q8_0_BLOCK_BYTES;
    prefetch_rows(prefetch, block_offset);
    __m512 x_lo[TILE_TOKENS], x_hi[TILE_TOKENS];
#pragma GCC unroll 4
    for (int t = 0; t < n_tokens; t++) {
        x_lo[t] = _mm512_loadu_ps(tokens[t] + j);
        x_hi[t] = _mm512_loadu_ps(tokens[t] + j + 16);
    }
#pragma GCC unroll 4
    for (int r = 0; r < TILE_ROWS; r++) {
        const uint8_t *block = rows[r] + block_offset;
        uint16_t d;
        memcpy(&d, block, 2);
        const __m512 scale = _mm512_cvtph_ps(_mm256_set1_epi16((short)d));
        const __m512 w_lo = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(block + 2)))), scale);
        const __m512 w_hi = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(block + 18)))), scale);
#pragma GCC unroll 4
        for (int t = 0; t < n_tokens; t++) acc[r][t] = _mm512_fmadd_ps(w_lo, x_lo[t], acc[r][t]);
#pragma GCC unroll 4
        for (int t = 0; t < n_tokens; t++) acc[r][t] = _mm512_fmadd_ps(w_hi, x_hi[t], acc[r][t]);
    }
}

/* codes - 32 of a Q6_K half block (128 columns at ql, qh): columns 0-63 into *c01, 64-127
 * into *c23, byte i = column i. The 32 qh bytes serve both halves of a zmm, shifted by
 * 0 | 2 bits (columns 0-31 | 32-63) or 4 | 6 (64-95 | 96-127). */
INLINE void q6_k_half_codes(__m512i *c01, __m512i *c23, const uint8_t *ql /* [64] */, const uint8_t *qh /* [32] */) {
    const __m512i low4 = _mm512_set1_epi8(15), low2 = _mm512_set1_epi8(3), bias = _mm512_set1_epi8(32);
    const __m512i shift01 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i shift23 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
    const __m512i a = _mm512_loadu_si512(ql);
    const __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)qh));
    const __m512i h01 = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(h, shift01), low2), 4);
    const __m512i h23 = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(h, shift23), low2), 4);
    *c01 = _mm512_sub_epi8(_mm512_or_si512(_mm512_and_si512(a, low4), h01), bias);
    *c23 = _mm512_sub_epi8(_mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(a, 4), low4), h23), bias);
}

/* 16-byte lane `lane` of c (the extract needs an immediate, which -O1 builds do not propagate) */
INLINE __m128i lane128(__m512i c, int lane) {
    switch (lane) {
    case 0: return _mm512_castsi512_si128(c);
    case 1: return _mm512_extracti32x4_epi32(c, 1);
    case 2: return _mm512_extracti32x4_epi32(c, 2);
    default: return _mm512_extracti32x4_epi32(c, 3);
    }
}

/* The 16 codes of 16-byte lane `lane` of c, as f32 times scale. */
INLINE __m512 q6_k_weights16(__m512i c, int lane, float scale) {
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lane128(c, lane))), _mm512_set1_ps(scale));
}

/* The same as tile_step for Q6_K block b (columns 256 b ..): a row's 16 scales are read
 * once, its codes unpacked 128 at a time; each 16 codes are one 16-lane step, their
 * weights scale * code in f32 (as the scalar dequantization). */
INLINE void tile_block_q6_k(__m512 acc[TILE_ROWS][TILE_TOKENS], const uint8_t *const rows[TILE_ROWS],
                            const float *const tokens[TILE_TOKENS], int n_tokens, int64_t b,
                            const uint8_t *const *prefetch) {
    const int64_t block_offset = b * BT_Q6_K_BYTES;
    for (int line = 0; line < BT_Q6_K_BYTES; line += 64) prefetch_rows(prefetch, block_offset + line);
#pragma GCC unroll 4
    for (int r = 0; r < TILE_ROWS; r++) {
        const uint8_t *block = rows[r] + block_offset;
        float scale[16];
        bt_q6_k_scales16(scale, block);
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m512i c[2];
            q6_k_half_codes(&c[0], &c[1], block + 64 * h, block + BT_Q6_K_QH + 32 * h);
#pragma GCC unroll 8
            for (int p = 0; p < 8; p++) {   /* columns 128 h + 16 p .. */
                const __m512 w = q6_k_weights16(c[p / 4], p % 4, scale[8 * h + p]);
                const int64_t j = b * BT_Q6_K_COLS + 128 * h + 16 * p;
#pragma GCC unroll 4
                for (int t = 0; t < n_tokens; t++) acc[r][t] = _mm512_fmadd_ps(w, _mm512_loadu_ps(tokens[t] + j), acc[r][t]);
            }
        }
    }
}

/* out[r][t] = dot(W[rows[r], :k], x[tokens[t], :k]) for n_tokens = 1 or 4 */
INLINE void tile(float out[TILE_ROWS][TILE_TOKENS], const uint8_t *const rows[TILE_ROWS],
                 const float *const tokens[TILE_TOKENS], int n_tokens, int64_t k, bt_dtype type,
                 const uint8_t *const *prefetch) {
    __m512 acc[TILE_ROWS][TILE_TOKENS];
#pragma GCC unroll 4
    for (int r = 0; r < TILE_ROWS; r++)
#pragma GCC unroll 4
        for (int t = 0; t < n_tokens; t++) acc[r][t] = _mm512_setzero_ps();
    if (type == BT_Q8_0) {   /* k is a multiple of 32 */
        for (int64_t j = 0; j < k; j += BT_Q8_0_BLOCK) tile_step_q8_0(acc, rows, tokens, n_tokens, j, prefetch);
    } else if (type == BT_Q6_K) {   /* k is a multiple of 256 */
        for (int64_t b = 0; b < k / BT_Q6_K_COLS; b++) tile_block_q6_k(acc, rows, tokens, n_tokens, b, prefetch);
    } else {
        int64_t j = 0;
        for (; j + LANES <= k; j += LANES) tile_step(acc, rows, tokens, n_tokens, j, type, 0xffff, prefetch);
        if (j < k) tile_step(acc, rows, tokens, n_tokens, j, type, bt_lanes16(k - j), NULL);
    }
#pragma GCC unroll 4
    for (int r = 0; r < TILE_ROWS; r++)
#pragma GCC unroll 4
        for (int t = 0; t < n_tokens; t++) out[r][t] = _mm512_reduce_add_ps(acc[r][t]);
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
            const float *tokens[TILE_TOKENS];
            int n_valid;
            if (t1 - t == 1) {
                tokens[0] = job->x + t * k;
                tile(out, rows, tokens, 1, k, type, prefetch);
                n_valid = 1;
            } else {   /* a short last group repeats its last token */
                for (int u = 0; u < TILE_TOKENS; u++) tokens[u] = job->x + (t + u < t1 ? t + u : t1 - 1) * k;
                tile(out, rows, tokens, TILE_TOKENS, k, type, prefetch);
                n_valid = t1 - t < TILE_TOKENS ? (int)(t1 - t) : TILE_TOKENS;
            }
            for (int u = 0; u < n_valid; u++)
                for (int r = 0; r < n_rows; r++) job->y[(t + u) * n + i + r] = out[r][u];
            t += n_valid;
            prefetch = NULL;
        }
    }
}

BT_TARGET_AVX512 void bt_matmul_float_block_avx512(const bt_matmul_job *job, int64_t t0, int64_t t1, int64_t i0,
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
