/* ternary_avx512.c - AVX-512 VNNI tiles: codes c in {0, 1, 2} times int8
 * activations with _mm512_dpbusd_epi32, read straight from the file layouts.
 *
 * Two-bit formats (TQ2_0, I2_S, BT2): a 32-byte group holds four fields of 32
 * codes (columns 32 f + m at two bits of byte m). The group is broadcast to
 * both halves of a zmm and masked, not shifted: "lo" keeps field 0 in the
 * lower half and field 1 in the upper half, "hi" fields 2 and 3, so they line
 * up with x[0, 64) and x[64, 128) of the group as they lie in memory. Each
 * code stays multiplied by 4^(its bit offset / 2); the accumulator lanes are
 * shifted back once at the end (exact: every product in a lane carries the
 * factor). That is 1 load, 2 ands and 2 dpbusd per row and 128 columns, little
 * enough for the decoding GEMV to keep up with memory, with a software
 * prefetch ahead of the row pair being read.
 *
 * The decoding GEMV runs 2 rows at a time; the GEMM tiles of 4 rows x 2
 * tokens reuse each unpacked group for both tokens, with tokens the outer
 * loop so that a chunk's rows are re-read from cache for each pair of tokens.
 *
 * TQ1_0: a block's base-3 bytes are turned into 4 zmm of codes in column order
 * with byte adds (digit j of q is floor(3 (q 3^j mod 256) / 256)), then
 * dotted like the above; one row per tile, up to 4 tokens.
 */
#include "ternary_kernels.h"
#include "kernels/cpu/cpu_features.h"
#if BT_X86_SIMD
#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline)) BT_TARGET_AVX512

/* GEMV tiles are 2 rows (4 rows stream worse from memory); GEMM tiles 4 rows x 2 tokens */
enum { GEMV_ROWS = 2, TILE_ROWS = 4, TILE_TOKENS = 2, TQ1_TOKENS = 4 };

/* acc += a (u8) . b (s8) in place. GCC 12 copies the accumulator of
 * _mm512_dpbusd_epi32 through other registers and the stack in these loops
 * (two extra moves per product) and reloads x for every row; with the asm
 * the accumulators stay put and one load of x serves both rows (GEMM in
 * cache: 1.6x faster). */
INLINE __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}

typedef struct two_bit_layout {
    __m512i lo_mask, hi_mask;     /* bytes: which bits hold fields 0 | 1 and 2 | 3 */
    __m512i lo_shift, hi_shift;   /* dwords: the bit offset of those fields */
    size_t pair_bytes;            /* bytes from group 2 p to group 2 p + 2 (66 in TQ2_0, 64 otherwise) */
} two_bit_layout;

/* field f of a byte sits at bits shift[f], shift[f] + 1 */
INLINE two_bit_layout make_layout(const int shift[4], size_t pair_bytes) {
    two_bit_layout L;
    L.lo_mask = _mm512_inserti64x4(_mm512_set1_epi8((char)(3 << shift[0])), _mm256_set1_epi8((char)(3 << shift[1])), 1);
    L.hi_mask = _mm512_inserti64x4(_mm512_set1_epi8((char)(3 << shift[2])), _mm256_set1_epi8((char)(3 << shift[3])), 1);
    L.lo_shift = _mm512_inserti64x4(_mm512_set1_epi32(shift[0]), _mm256_set1_epi32(shift[1]), 1);
    L.hi_shift = _mm512_inserti64x4(_mm512_set1_epi32(shift[2]), _mm256_set1_epi32(shift[3]), 1);
    L.pair_bytes = pair_bytes;
    return L;
}

INLINE size_t group_offset(int64_t g, size_t pair_bytes) { return (size_t)(g >> 1) * pair_bytes + (size_t)(g & 1) * 32; }

/* One group (128 columns) of NR rows at q (rows row_bytes apart) times NT tokens of x (x_stride apart). */
INLINE void two_bit_group(const int NR, const int NT, __m512i lo[TILE_ROWS][TILE_TOKENS], __m512i hi[TILE_ROWS][TILE_TOKENS],
                          const uint8_t *q, size_t row_bytes, const int8_t *x, int64_t x_stride, const two_bit_layout *L) {
    __m512i code_lo[TILE_ROWS], code_hi[TILE_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++) {
        const __m512i b = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(q + r * row_bytes)));
        code_lo[r] = _mm512_and_si512(b, L->lo_mask);
        code_hi[r] = _mm512_and_si512(b, L->hi_mask);
    }
#pragma GCC unroll 2
    for (int t = 0; t < NT; t++) {
        const __m512i x_lo = _mm512_loadu_si512(x + t * x_stride);
        const __m512i x_hi = _mm512_loadu_si512(x + t * x_stride + 64);
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            lo[r][t] = dpbusd(lo[r][t], code_lo[r], x_lo);
            hi[r][t] = dpbusd(hi[r][t], code_hi[r], x_hi);
        }
    }
}

/* raw[t * raw_stride + r] for NR rows (row_bytes apart) and NT tokens over groups [g0, g1).
 * The groups are walked in pairs by pointer (a pair is a TQ2_0 block; g0 is even
 * there), with one prefetch per row and pair: few scalar instructions per vector one,
 * as the decoding GEMV is bound by the core's issue width in cache. */
INLINE void two_bit_block(const int NR, const int NT, int32_t *raw, int64_t raw_stride, const uint8_t *row,
                          size_t row_bytes, const int8_t *x, int64_t x_stride, int64_t g0, int64_t g1,
                          const two_bit_layout *L, const char *prefetch, size_t prefetch_step) {
    __m512i lo[TILE_ROWS][TILE_TOKENS], hi[TILE_ROWS][TILE_TOKENS];
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 2
        for (int t = 0; t < NT; t++) lo[r][t] = hi[r][t] = _mm512_setzero_si512();
    const uint8_t *q = row + group_offset(g0, L->pair_bytes);
    const int8_t *xg = x + g0 * BT_TERNARY_GROUP;
    for (int64_t pairs = (g1 - g0) / 2; pairs > 0; pairs--) {
        /* the first and the last byte of the step ahead: a TQ2_0 step (66 bytes) can end in the
         * line after the next, and a line left out is a full memory latency later (2x slower) */
#pragma GCC unroll 4
        for (int r = 0; r < NR; r++) {
            _mm_prefetch(prefetch + r * row_bytes, _MM_HINT_T1);
            _mm_prefetch(prefetch + r * row_bytes + prefetch_step - 1, _MM_HINT_T1);
        }
        prefetch += prefetch_step;
        two_bit_group(NR, NT, lo, hi, q, row_bytes, xg, x_stride, L);
        two_bit_group(NR, NT, lo, hi, q + 32, row_bytes, xg + BT_TERNARY_GROUP, x_stride, L);
        q += L->pair_bytes;
        xg += 2 * BT_TERNARY_GROUP;
    }
    if ((g1 - g0) & 1) two_bit_group(NR, NT, lo, hi, q, row_bytes, xg, x_stride, L);
#pragma GCC unroll 4
    for (int r = 0; r < NR; r++)
#pragma GCC unroll 2
        for (int t = 0; t < NT; t++)
            raw[t * raw_stride + r] = _mm512_reduce_add_epi32(
                _mm512_add_epi32(_mm512_srav_epi32(lo[r][t], L->lo_shift), _mm512_srav_epi32(hi[r][t], L->hi_shift)));
}

static BT_TARGET_AVX512 void two_bit_tile(const bt_ternary_tile *tile, const two_bit_layout *L) {
    const bt_ternary_matrix *w = tile->w;
    const size_t row_bytes = w->row_bytes;
    /* each row is prefetched BT_TERNARY_PREFETCH_BYTES ahead of where it is read, a pair at a time */
    const size_t start = group_offset(tile->g0, L->pair_bytes);
    const int rows = tile->n_tok == 1 ? GEMV_ROWS : TILE_ROWS;
    for (int64_t t = 0; t < tile->n_tok; t += TILE_TOKENS) {
        const int nt = tile->n_tok - t < TILE_TOKENS ? (int)(tile->n_tok - t) : TILE_TOKENS;
        const int8_t *x = tile->x + t * tile->x_stride;
        for (int64_t i = tile->row0; i < tile->row1; i += rows) {
            const int nr = tile->row1 - i < rows ? (int)(tile->row1 - i) : rows;
            const uint8_t *row = w->data + (size_t)i * row_bytes;
            int32_t *raw = tile->raw + t * tile->raw_stride + (i - tile->row0);
            const char *prefetch = (const char *)row + start + BT_TERNARY_PREFETCH_BYTES;
            const size_t step = L->pair_bytes;
#define TWO_BIT_CASE(NR, NT) \
    case NR * 8 + NT: \
        two_bit_block(NR, NT, raw, tile->raw_stride, row, row_bytes, x, tile->x_stride, tile->g0, tile->g1, L, prefetch, step); \
        break;
            switch (nr * 8 + nt) {
                TWO_BIT_CASE(1, 1) TWO_BIT_CASE(2, 1) TWO_BIT_CASE(3, 1) TWO_BIT_CASE(4, 1)
                TWO_BIT_CASE(1, 2) TWO_BIT_CASE(2, 2) TWO_BIT_CASE(3, 2) TWO_BIT_CASE(4, 2)
            }
#undef TWO_BIT_CASE
        }
    }
}

/* ---- TQ1_0 ---------------------------------------------------------------- */

INLINE __m512i times3(__m512i v) { return _mm512_add_epi8(_mm512_add_epi8(v, v), v); }
INLINE __m512i times9(__m512i v) { return times3(times3(v)); }
/* v * 3 (mod 256) in the bytes selected by m, v elsewhere */
INLINE __m512i times3_where(__m512i v, __mmask64 m) { return _mm512_mask_blend_epi8(m, v, times3(v)); }
/* the leading base-3 digit floor(3 r / 256) of each byte r: 1 from 86, 2 from 171 */
INLINE __m512i leading_digit(__m512i r) {
    const __m512i one = _mm512_set1_epi8(1);
    return _mm512_add_epi8(_mm512_maskz_mov_epi8(_mm512_cmpge_epu8_mask(r, _mm512_set1_epi8(86)), one),
                           _mm512_maskz_mov_epi8(_mm512_cmpge_epu8_mask(r, _mm512_set1_epi8((char)171)), one));
}

/* codes[c] = the codes of columns [64 c, 64 c + 64) of a TQ1_0 block */
INLINE void tq1_codes(__m512i codes[4], const uint8_t *block /* [54] */) {
    /* qs[0, 32): digit j of byte m is column 32 j + m */
    __m512i a = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)block));
    a = times3_where(a, 0xffffffff00000000ull);                 /* digits 0 | 1: columns 0-63 */
    codes[0] = leading_digit(a);
    a = times9(a);                                              /* digits 2 | 3: columns 64-127 */
    codes[1] = leading_digit(a);
    a = times9(a);                                              /* digit 4 in the lower half: 128-159 */
    /* qs[32, 48): digit j of byte m is column 160 + 16 j + m; one 16-byte lane per digit */
    __m512i b = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(block + 32)));
    b = times3_where(b, 0xffffffffffff0000ull);
    b = times3_where(b, 0xffffffff00000000ull);
    b = times3_where(b, 0xffff000000000000ull);                 /* digits 0-3: columns 160-223 */
    codes[2] = leading_digit(_mm512_shuffle_i64x2(a, b, 0x44)); /* 128-159 | 160-191 */
    /* qh[m]: digit j is column 240 + 4 j + m; one dword per digit in the top lane */
    int32_t qh;
    __builtin_memcpy(&qh, block + 48, 4);
    __m512i h = _mm512_set1_epi32(qh);
    h = times3_where(h, 0xfff0000000000000ull);
    h = times3_where(h, 0xff00000000000000ull);
    h = times3_where(h, 0xf000000000000000ull);
    codes[3] = leading_digit(_mm512_mask_blend_epi64(0xc0, times9(b), h)); /* 192-239 | 240-255 */
}

INLINE void tq1_block(const int NT, int32_t *raw, int64_t raw_stride, const uint8_t *row, const int8_t *x,
                      int64_t x_stride, int64_t b0, int64_t b1, const char *prefetch) {
    __m512i acc[TQ1_TOKENS];
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) acc[t] = _mm512_setzero_si512();
    for (int64_t b = b0; b < b1; b++) {
        _mm_prefetch(prefetch + b * BT_TQ1_0_BLOCK_BYTES, _MM_HINT_T1);
        __m512i codes[4];
        tq1_codes(codes, row + b * BT_TQ1_0_BLOCK_BYTES);
#pragma GCC unroll 4
        for (int t = 0; t < NT; t++)
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++)
                acc[t] = dpbusd(acc[t], codes[c], _mm512_loadu_si512(x + t * x_stride + b * BT_TQ_BLOCK + 64 * c));
    }
#pragma GCC unroll 4
    for (int t = 0; t < NT; t++) raw[t * raw_stride] = _mm512_reduce_add_epi32(acc[t]);
}

static BT_TARGET_AVX512 void tq1_tile(const bt_ternary_tile *tile) {
    const bt_ternary_matrix *w = tile->w;
    for (int64_t t = 0; t < tile->n_tok; t += TQ1_TOKENS) {
        const int nt = tile->n_tok - t < TQ1_TOKENS ? (int)(tile->n_tok - t) : TQ1_TOKENS;
        for (int64_t i = tile->row0; i < tile->row1; i++) {
            const uint8_t *row = w->data + (size_t)i * w->row_bytes;
            int32_t *raw = tile->raw + t * tile->raw_stride + (i - tile->row0);
            const int8_t *x = tile->x + t * tile->x_stride;
            const char *prefetch = (const char *)row + BT_TERNARY_PREFETCH_BYTES;
            const int64_t b0 = tile->g0 / 2, b1 = tile->g1 / 2;
            switch (nt) {
            case 1: tq1_block(1, raw, tile->raw_stride, row, x, tile->x_stride, b0, b1, prefetch); break;
            case 2: tq1_block(2, raw, tile->raw_stride, row, x, tile->x_stride, b0, b1, prefetch); break;
            case 3: tq1_block(3, raw, tile->raw_stride, row, x, tile->x_stride, b0, b1, prefetch); break;
            default: tq1_block(4, raw, tile->raw_stride, row, x, tile->x_stride, b0, b1, prefetch); break;
            }
        }
    }
}

BT_TARGET_AVX512 void bt_ternary_tile_avx512(const bt_ternary_tile *tile) {
    static const int low_first[4] = {0, 2, 4, 6}, high_first[4] = {6, 4, 2, 0};
    two_bit_layout L;
    switch (tile->w->format) {
    case BT_TERNARY_TQ2_0: L = make_layout(low_first, BT_TQ2_0_BLOCK_BYTES); break;
    case BT_TERNARY_I2_S: L = make_layout(high_first, 64); break;
    case BT_TERNARY_BT2: L = make_layout(low_first, 64); break;
    case BT_TERNARY_TQ1_0: tq1_tile(tile); return;
    case BT_TERNARY_FORMAT_COUNT: return;   /* not a format: bt_ternary_prepare refuses it */
    }
    two_bit_tile(tile, &L);
}
#endif  /* BT_X86_SIMD */
