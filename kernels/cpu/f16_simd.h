/* f16_simd.h - AVX2 and AVX-512 helpers that convert f16 / bf16 lanes to and
 * from f32 vectors, for the float matmul and the row conversion kernels.
 *
 * Everything here is `static inline` with its own target attribute, so a file
 * compiled for baseline x86-64 can include this header and call the helpers
 * from functions that carry the same (or a wider) target. Only call them after
 * bt_simd_level_get() said the level is available. Rounding to f16 and bf16 is
 * to nearest even, like the scalar bt_f32_to_f16 / bt_f32_to_bf16. The target
 * attribute macros BT_TARGET_AVX2 / BT_TARGET_AVX512 and the lane mask helper
 * bt_lanes16 defined here serve the other float kernel files too.
 */
#ifndef BT_F16_SIMD_H
#define BT_F16_SIMD_H
#include <stdint.h>
#include "kernels/cpu/cpu_features.h"   /* BT_X86_SIMD, BT_TARGET_AVX2, BT_TARGET_AVX512 */
#if BT_X86_SIMD
#include <immintrin.h>

/* ---- AVX2: 8 lanes ---------------------------------------------------- */

static inline BT_TARGET_AVX2 __m256 bt_f16x8_load(const void *p /* [8] u16 */) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline BT_TARGET_AVX2 __m256 bt_bf16x8_load(const void *p /* [8] u16 */) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

static inline BT_TARGET_AVX2 void bt_f16x8_store(void *p /* [8] u16 */, __m256 v) {
    _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* bf16 bits of 8 floats in the low 16 bits of each 32-bit lane (nan stays a quiet nan). */
static inline BT_TARGET_AVX2 __m256i bt_bf16x8_round(__m256 v) {
    __m256i u = _mm256_castps_si256(v);
    __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_add_epi32(u, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff)));
    __m256i quiet_nan = _mm256_or_si256(u, _mm256_set1_epi32(0x400000));
    __m256i is_nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    return _mm256_srli_epi32(_mm256_blendv_epi8(rounded, quiet_nan, is_nan), 16);
}

static inline BT_TARGET_AVX2 void bt_bf16x8_store(void *p /* [8] u16 */, __m256 v) {
    __m256i lanes = bt_bf16x8_round(v);
    /* packus works per 128-bit half: gather the two low quadwords into the low half */
    __m256i packed = _mm256_packus_epi32(lanes, _mm256_setzero_si256());
    packed = _mm256_permute4x64_epi64(packed, 0x08);
    _mm_storeu_si128((__m128i *)p, _mm256_castsi256_si128(packed));
}

/* ---- AVX-512: 16 lanes, with a lane mask for row tails ------------------ */

static inline BT_TARGET_AVX512 __m512 bt_f16x16_load_mask(const void *p /* [16] u16 */, __mmask16 lanes) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(lanes, p));
}

static inline BT_TARGET_AVX512 __m512 bt_bf16x16_load_mask(const void *p /* [16] u16 */, __mmask16 lanes) {
    __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(lanes, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
}

static inline BT_TARGET_AVX512 void bt_f16x16_store_mask(void *p /* [16] u16 */, __m512 v, __mmask16 lanes) {
    __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_mask_storeu_epi16(p, lanes, h);
}

static inline BT_TARGET_AVX512 void bt_bf16x16_store_mask(void *p /* [16] u16 */, __m512 v, __mmask16 lanes) {
    __m512i u = _mm512_castps_si512(v);
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i rounded = _mm512_add_epi32(u, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)));
    __m512i quiet_nan = _mm512_or_si512(u, _mm512_set1_epi32(0x400000));
    __mmask16 is_nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    __m512i bits = _mm512_srli_epi32(_mm512_mask_mov_epi32(rounded, is_nan, quiet_nan), 16);
    _mm256_mask_storeu_epi16(p, lanes, _mm512_cvtepi32_epi16(bits));
}

/* Lane mask selecting the first `count` lanes (count >= 0; above 16 means all). */
static inline __mmask16 bt_lanes16(int64_t count) {
    return count >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << count) - 1u);
}

#endif  /* BT_X86_SIMD */
#endif
