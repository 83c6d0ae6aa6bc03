/* quant_q6_k_simd.h - the codes of a Q6_K block 16 at a time in an SSE
 * register, for the AVX2 and AVX-512 matmul tiles (layout: quant_q6_k.h).
 * static inline with the AVX2 target: call only where AVX2 is available (the AVX-512 tile
 * unpacks 128 codes at a time instead). */
#ifndef BT_QUANT_Q6_K_SIMD_H
#define BT_QUANT_Q6_K_SIMD_H
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/quant_q6_k.h"
#if BT_X86_SIMD
#include <immintrin.h>

/* code - 32 (int8, -32..31) of columns [16 s, 16 s + 16) of a block; s = 0..15 (a constant when unrolled) */
static inline __attribute__((always_inline)) BT_TARGET_AVX2 __m128i bt_q6_k_codes16(const uint8_t *block, int s) {
    const int h = s / 8, g = (s % 8) / 2, l0 = 16 * (s % 2);
    __m128i low = _mm_loadu_si128((const __m128i *)(block + 64 * h + 32 * (g & 1) + l0));
    if (g >= 2) low = _mm_srli_epi16(low, 4);
    __m128i high = _mm_loadu_si128((const __m128i *)(block + BT_Q6_K_QH + 32 * h + l0));
    high = _mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(high, 2 * g), _mm_set1_epi8(3)), 4);
    const __m128i code = _mm_or_si128(_mm_and_si128(low, _mm_set1_epi8(15)), high);
    return _mm_sub_epi8(code, _mm_set1_epi8(32));
}

/* the 16 scales d * scale[s] of a block as f32, into out[16] */
static inline __attribute__((always_inline)) BT_TARGET_AVX2 void bt_q6_k_scales16(float *out, const uint8_t *block) {
    uint16_t d;
    __builtin_memcpy(&d, block + BT_Q6_K_D, 2);
    const __m256 dv = _mm256_cvtph_ps(_mm_set1_epi16((short)d));
    const __m128i sc = _mm_loadu_si128((const __m128i *)(block + BT_Q6_K_SCALES));
    _mm256_storeu_ps(out, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc))));
    _mm256_storeu_ps(out + 8, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8)))));
}

#endif  /* BT_X86_SIMD */
#endif
