/* ternary_avx2.c - AVX2 tiles: codes c in {0, 1, 2} times int8 activations
 * with _mm256_maddubs_epi16 (pairs of c * q summed to int16, at most 512 in
 * magnitude, so four fields add up in int16 before one widening madd).
 *
 * Two-bit formats: a 32-byte group is loaded once and shifted by 0, 2, 4 and
 * 6 bits; the field at bit offset 2 f (TQ2_0, BT2) or 6 - 2 f (I2_S) holds
 * columns 32 f + m. The GEMV reads 2 rows at a time, prefetching ahead of
 * them; GEMM tiles are 1 row x 4 tokens sharing the unpacked codes. (This
 * path needs about as many instructions per byte as memory delivers, so the
 * GEMV reaches about 70% of the read bandwidth where AVX-512 VNNI reaches 90%.)
 *
 * TQ1_0: a block's codes are decoded to a 256-byte buffer in column order
 * (digit j of byte q is floor(3 (q 3^j mod 256) / 256), found with signed
 * compares after flipping the top bit) and dotted from there.
 */
#include "ternary_kernels.h"
#include "kernels/cpu/cpu_features.h"
#if BT_X86_SIMD
#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline)) BT_TARGET_AVX2

enum { GEMV_ROWS = 2, TILE_TOKENS = 4 };   /* GEMV: 2 rows x 1 token; GEMM: 1 row x 4 tokens */

INLINE int32_t sum_i32x8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* sum over the 128 columns of a group of codes[f] * x[32 f, 32 f + 32), widened to int32 lanes */
INLINE __m256i dot_group(const __m256i codes[4], const int8_t *x /* [128] */) {
    __m256i s = _mm256_maddubs_epi16(codes[0], _mm256_loadu_si256((const __m256i *)x));
#pragma GCC unroll 3
    for (int f = 1; f < 4; f++)
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(codes[f], _mm256_loadu_si256((const __m256i *)(x + 32 * f))));
    return _mm256_madd_epi16(s, _mm256_set1_epi16(1));
}

/* the four fields of a 32-byte group, as the codes of x[32 f, 32 f + 32) */
INLINE void group_fields(__m256i codes[4], const uint8_t *group /* [32] */, int high_first) {
    const __m256i three = _mm256_set1_epi8(3);
    const __m256i q = _mm256_loadu_si256((const __m256i *)group);
    const __m256i by_shift[4] = {
        _mm256_and_si256(q, three), _mm256_and_si256(_mm256_srli_epi16(q, 2), three),
        _mm256_and_si256(_mm256_srli_epi16(q, 4), three), _mm256_and_si256(_mm256_srli_epi16(q, 6), three)};
#pragma GCC unroll 4
    for (int f = 0; f < 4; f++) codes[f] = by_shift[high_first ? 3 - f : f];
}

/* raw[t * raw_stride + r] for NR rows (row_bytes apart) and NT tokens over groups [g0, g1) */
INLINE void two_bit_rows(const int NR, const int NT, const int high_first, int32_t *raw, int64_t raw_stride,
                         const uint8_t *row, size_t row_bytes, size_t pair_bytes, const int8_t *x, int64_t x_stride,
                         int64_t g0, int64_t g1, const char *prefetch, size_t prefetch_step) {
    __m256i acc[GEMV_ROWS][TILE_TOKENS];
#pragma GCC unroll 2
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++) acc[r][t] = _mm256_setzero_si256();
    for (int64_t g = g0; g < g1; g++) {
        _mm_prefetch(prefetch, _MM_HINT_T1);   /* the first and last byte of the step ahead (no line left out) */
        _mm_prefetch(prefetch + prefetch_step - 1, _MM_HINT_T1);
        prefetch += prefetch_step;
        const size_t off = (size_t)(g >> 1) * pair_bytes + (size_t)(g & 1) * 32;
#pragma GCC unroll 2
        for (int r = 0; r < NR; r++) {
            __m256i codes[4];
            group_fields(codes, row + r * row_bytes + off, high_first);
#pragma GCC unroll 4
            for (int t = 0; t < NT; t++)
                acc[r][t] = _mm256_add_epi32(acc[r][t], dot_group(codes, x + t * x_stride + g * BT_TERNARY_GROUP));
        }
    }
#pragma GCC unroll 2
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++) raw[t * raw_stride + r] = sum_i32x8(acc[r][t]);
}

static BT_TARGET_AVX2 void two_bit_tile(const bt_ternary_tile *tile, int high_first, size_t pair_bytes) {
    const bt_ternary_matrix *w = tile->w;
    const size_t group_bytes = w->row_bytes / (size_t)((w->k + BT_TERNARY_GROUP - 1) / BT_TERNARY_GROUP);
    const size_t start = (size_t)(tile->g0 >> 1) * pair_bytes + (size_t)(tile->g0 & 1) * 32;
    const int rows = tile->n_tok == 1 ? GEMV_ROWS : 1;
    for (int64_t t = 0; t < tile->n_tok; t += TILE_TOKENS) {
        const int nt = tile->n_tok - t < TILE_TOKENS ? (int)(tile->n_tok - t) : TILE_TOKENS;
        const int8_t *x = tile->x + t * tile->x_stride;
        for (int64_t i = tile->row0; i < tile->row1; i += rows) {
            const int nr = tile->row1 - i < rows ? (int)(tile->row1 - i) : rows;
            const uint8_t *row = w->data + (size_t)i * w->row_bytes;
            int32_t *raw = tile->raw + t * tile->raw_stride + (i - tile->row0);
            const char *prefetch = (const char *)row + start + BT_TERNARY_PREFETCH_BYTES;
#define TWO_BIT_CASE(HF, NR, NT) \
    case HF * 64 + NR * 8 + NT: \
        two_bit_rows(NR, NT, HF, raw, tile->raw_stride, row, w->row_bytes, pair_bytes, x, tile->x_stride, tile->g0, \
                     tile->g1, prefetch, (size_t)NR * group_bytes); \
        break;
            switch (high_first * 64 + nr * 8 + nt) {
                TWO_BIT_CASE(0, 2, 1) TWO_BIT_CASE(0, 1, 1) TWO_BIT_CASE(0, 1, 2) TWO_BIT_CASE(0, 1, 3) TWO_BIT_CASE(0, 1, 4)
                TWO_BIT_CASE(1, 2, 1) TWO_BIT_CASE(1, 1, 1) TWO_BIT_CASE(1, 1, 2) TWO_BIT_CASE(1, 1, 3) TWO_BIT_CASE(1, 1, 4)
            }
#undef TWO_BIT_CASE
        }
    }
}

/* ---- TQ1_0 ---------------------------------------------------------------- */

INLINE __m256i times3(__m256i v) { return _mm256_add_epi8(_mm256_add_epi8(v, v), v); }
INLINE __m256i times9(__m256i v) { return times3(times3(v)); }
/* floor(3 r / 256) of each byte r: 1 from 86, 2 from 171 (unsigned compares as signed ones on r ^ 0x80) */
INLINE __m256i leading_digit(__m256i r) {
    const __m256i s = _mm256_xor_si256(r, _mm256_set1_epi8((char)0x80));
    const __m256i ge86 = _mm256_cmpgt_epi8(s, _mm256_set1_epi8((char)(85 ^ 0x80)));
    const __m256i ge171 = _mm256_cmpgt_epi8(s, _mm256_set1_epi8((char)(170 ^ 0x80)));
    return _mm256_sub_epi8(_mm256_sub_epi8(_mm256_setzero_si256(), ge86), ge171);
}

/* codes [256] of a TQ1_0 block in column order */
INLINE void tq1_codes(uint8_t *codes /* [256] */, const uint8_t *block /* [54] */) {
    /* qs[0, 32): digit j of byte m is column 32 j + m */
    __m256i r = _mm256_loadu_si256((const __m256i *)block);
#pragma GCC unroll 5
    for (int j = 0; j < 5; j++) {
        _mm256_storeu_si256((__m256i *)(codes + 32 * j), leading_digit(r));
        r = times3(r);
    }
    /* qs[32, 48): digit j of byte m is column 160 + 16 j + m; digits j | j + 1 per ymm */
    __m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(block + 32)));
    b = _mm256_blend_epi32(b, times3(b), 0xf0);                    /* digits 0 | 1 */
    _mm256_storeu_si256((__m256i *)(codes + 160), leading_digit(b));
    b = times9(b);                                                 /* digits 2 | 3 */
    _mm256_storeu_si256((__m256i *)(codes + 192), leading_digit(b));
    b = times9(b);                                                 /* digit 4 in the lower lane */
    /* qh[m]: digit j is column 240 + 4 j + m; dword j of the upper lane */
    int32_t qh;
    __builtin_memcpy(&qh, block + 48, 4);
    __m256i h = _mm256_set1_epi32(qh);
    h = _mm256_blend_epi32(h, times3(h), 0xe0);
    h = _mm256_blend_epi32(h, times3(h), 0xc0);
    h = _mm256_blend_epi32(h, times3(h), 0x80);
    _mm256_storeu_si256((__m256i *)(codes + 224), leading_digit(_mm256_blend_epi32(b, h, 0xf0)));
}

static BT_TARGET_AVX2 void tq1_tile(const bt_ternary_tile *tile) {
    const bt_ternary_matrix *w = tile->w;
    const int64_t b0 = tile->g0 / 2, b1 = tile->g1 / 2;
    __attribute__((aligned(32))) uint8_t codes[BT_TQ_BLOCK];
    for (int64_t t0 = 0; t0 < tile->n_tok; t0 += TILE_TOKENS) {
        const int64_t nt = tile->n_tok - t0 < TILE_TOKENS ? tile->n_tok - t0 : TILE_TOKENS;
        for (int64_t i = tile->row0; i < tile->row1; i++) {
            const uint8_t *row = w->data + (size_t)i * w->row_bytes;
            __m256i acc[TILE_TOKENS] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                                        _mm256_setzero_si256()};
            for (int64_t b = b0; b < b1; b++) {
                _mm_prefetch((const char *)row + b * BT_TQ1_0_BLOCK_BYTES + BT_TERNARY_PREFETCH_BYTES, _MM_HINT_T1);
                tq1_codes(codes, row + b * BT_TQ1_0_BLOCK_BYTES);
                for (int64_t t = 0; t < nt; t++) {
                    const int8_t *x = tile->x + (t0 + t) * tile->x_stride + b * BT_TQ_BLOCK;
                    __m256i s = _mm256_setzero_si256();
                    for (int c = 0; c < BT_TQ_BLOCK; c += 32)
                        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(codes + c)),
                                                                      _mm256_loadu_si256((const __m256i *)(x + c))));
                    acc[t] = _mm256_add_epi32(acc[t], _mm256_madd_epi16(s, _mm256_set1_epi16(1)));
                }
            }
            for (int64_t t = 0; t < nt; t++)
                tile->raw[(t0 + t) * tile->raw_stride + (i - tile->row0)] = sum_i32x8(acc[t]);
        }
    }
}

BT_TARGET_AVX2 void bt_ternary_tile_avx2(const bt_ternary_tile *tile) {
    switch (tile->w->format) {
    case BT_TERNARY_TQ2_0: two_bit_tile(tile, 0, BT_TQ2_0_BLOCK_BYTES); break;
    case BT_TERNARY_I2_S: two_bit_tile(tile, 1, 64); break;
    case BT_TERNARY_BT2: two_bit_tile(tile, 0, 64); break;
    case BT_TERNARY_TQ1_0: tq1_tile(tile); break;
    case BT_TERNARY_FORMAT_COUNT: break;   /* not a format: bt_ternary_prepare refuses it */
    }
}
#endif  /* BT_X86_SIMD */
