/* quant_q6_k_avx512.c - the scale search of Q6_K quantization (quant_q6_k.c) for the
 * 16 sub-blocks of a block at once, one sub-block per lane. Each lane does the f32
 * operations of the scalar search in the same order (separate multiplies and adds: the
 * build's ISO C mode does not fuse them), so scales and codes are the scalar ones bit for
 * bit (spec/c checks it); the search is ~90% of the time of quantizing a head. */
#include "kernels/cpu/quant_q6_k.h"
#include "kernels/cpu/cpu_features.h"
#if BT_X86_SIMD
#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline)) BT_TARGET_AVX512

enum { SUB = 16, CODE_MAX = 32 };

/* round half to even of |v| < 2^22 through the f32 mantissa, as nearest() */
INLINE __m512i nearest16(__m512 v) {
    const __m512i bits = _mm512_castps_si512(_mm512_add_ps(v, _mm512_set1_ps(12582912.0f)));
    return _mm512_sub_epi32(_mm512_and_si512(bits, _mm512_set1_epi32(0x007fffff)), _mm512_set1_epi32(0x00400000));
}

/* fit() for every lane: X[i] holds value i of each lane's 16 values */
INLINE void fit16(const __m512 X[SUB], __m512 iscale, __m512 *sumlx, __m512 *suml2, __m512i *L /* [16] or NULL */) {
    __m512 slx = _mm512_setzero_ps(), sl2 = _mm512_setzero_ps();
    for (int i = 0; i < SUB; i++) {
        __m512i l = nearest16(_mm512_mul_ps(iscale, X[i]));
        l = _mm512_max_epi32(_mm512_min_epi32(l, _mm512_set1_epi32(CODE_MAX - 1)), _mm512_set1_epi32(-CODE_MAX));
        const __m512 lf = _mm512_cvtepi32_ps(l), w = _mm512_mul_ps(X[i], X[i]);
        slx = _mm512_add_ps(slx, _mm512_mul_ps(_mm512_mul_ps(w, X[i]), lf));
        sl2 = _mm512_add_ps(sl2, _mm512_mul_ps(_mm512_mul_ps(w, lf), lf));
        if (L) L[i] = _mm512_add_epi32(l, _mm512_set1_epi32(CODE_MAX));
    }
    *sumlx = slx, *suml2 = sl2;
}

BT_TARGET_AVX512 void bt_q6_k_sub_block_scales_avx512(float *scales, int8_t *codes, const float *x) {
    __m512 X[SUB];
    const __m512i rows = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                            _mm512_set1_epi32(SUB));
    for (int i = 0; i < SUB; i++) X[i] = _mm512_i32gather_ps(rows, x + i, 4);   /* lane s: x[16 s + i] */
    __m512 max = _mm512_setzero_ps(), amax = _mm512_setzero_ps();
    for (int i = 0; i < SUB; i++) {
        const __m512 a = _mm512_abs_ps(X[i]);
        const __mmask16 larger = _mm512_cmp_ps_mask(a, amax, _CMP_GT_OQ);
        amax = _mm512_mask_mov_ps(amax, larger, a);
        max = _mm512_mask_mov_ps(max, larger, X[i]);
    }
    const __mmask16 live = _mm512_cmp_ps_mask(amax, _mm512_set1_ps(1e-15f), _CMP_NLT_UQ);   /* not all zero */
    __m512i L[SUB], trial[SUB];
    __m512 sumlx, suml2;
    fit16(X, _mm512_div_ps(_mm512_set1_ps(-(float)CODE_MAX), max), &sumlx, &suml2, L);
    __m512 scale = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(suml2, _mm512_setzero_ps(), _CMP_NEQ_UQ), sumlx, suml2);
    __m512 best = _mm512_mul_ps(scale, sumlx);
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        const __m512 iscale = _mm512_div_ps(_mm512_set1_ps(-((float)CODE_MAX + 0.1f * (float)is)), max);
        fit16(X, iscale, &sumlx, &suml2, trial);
        const __mmask16 better = _mm512_cmp_ps_mask(suml2, _mm512_setzero_ps(), _CMP_GT_OQ) &
                                 _mm512_cmp_ps_mask(_mm512_mul_ps(sumlx, sumlx), _mm512_mul_ps(best, suml2), _CMP_GT_OQ);
        if (!better) continue;
        for (int i = 0; i < SUB; i++) L[i] = _mm512_mask_mov_epi32(L[i], better, trial[i]);
        scale = _mm512_mask_div_ps(scale, better, sumlx, suml2);
        best = _mm512_mask_mov_ps(best, better, _mm512_mul_ps(scale, sumlx));
    }
    _mm512_storeu_ps(scales, _mm512_maskz_mov_ps(live, scale));
    int32_t lanes[SUB][SUB];   /* [i][s] */
    for (int i = 0; i < SUB; i++) _mm512_storeu_si512(lanes[i], _mm512_maskz_mov_epi32(live, L[i]));
    for (int s = 0; s < SUB; s++)
        for (int i = 0; i < SUB; i++) codes[SUB * s + i] = (int8_t)lanes[i][s];
}
#endif  /* BT_X86_SIMD */
