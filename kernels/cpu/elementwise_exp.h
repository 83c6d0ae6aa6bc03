/* elementwise_exp.h - exp(x) on AVX2 / AVX-512 float vectors, for silu,
 * softmax and attention.
 *
 * exp(x) = 2^n * e^r with n = round(x / ln 2) and |r| <= ln(2)/2; e^r is
 * 1 + r + r^2 p(r) with the classic Cephes expf coefficients for p, within a
 * few ulp of the true value for normal results. exp of a large x is +inf, of a
 * very negative x (or -inf) is 0; the AVX2 version also flushes results below
 * the smallest normal float to 0. NaN inputs are not supported. Like
 * f16_simd.h: `static inline` helpers with their own target attributes.
 */
#ifndef BT_ELEMENTWISE_EXP_H
#define BT_ELEMENTWISE_EXP_H
#include "f16_simd.h"
#if BT_X86_SIMD

#define BT_EXP_LOG2E 1.44269504088896341f
#define BT_EXP_LN2_HI 0.693359375f           /* ln 2 = HI + LO, HI with few mantissa bits */
#define BT_EXP_LN2_LO (-2.12194440e-4f)
#define BT_EXP_X_MAX 88.7228391116729996f    /* ln(FLT_MAX) */
#define BT_EXP_X_MIN (-110.0f)                /* far below ln(smallest subnormal) = -103.3: exp is 0 */
#define BT_EXP_X_MIN_NORMAL (-87.3365447505531f) /* ln(FLT_MIN) */

/* e^r for |r| <= ln(2)/2 */
static inline BT_TARGET_AVX512 __m512 bt_exp_reduced16(__m512 r) {
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    return _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
}

static inline BT_TARGET_AVX2 __m256 bt_exp_reduced8(__m256 r) {
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    return _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
}

static inline BT_TARGET_AVX512 __m512 bt_exp16(__m512 x) {
    __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(BT_EXP_X_MIN)), _mm512_set1_ps(BT_EXP_X_MAX + 1.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(BT_EXP_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(BT_EXP_LN2_HI), xc);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(BT_EXP_LN2_LO), r);
    __m512 er = bt_exp_reduced16(r);
    return _mm512_scalef_ps(er, n);   /* er * 2^n, overflowing to inf and underflowing to 0 */
}

static inline BT_TARGET_AVX2 __m256 bt_exp8(__m256 x) {
    __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(BT_EXP_X_MIN_NORMAL)), _mm256_set1_ps(BT_EXP_X_MAX));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(BT_EXP_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(BT_EXP_LN2_HI), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(BT_EXP_LN2_LO), r);
    __m256 er = bt_exp_reduced8(r);
    /* n is in [-126, 128]: apply 2^n as two halves that each fit a normal exponent */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    __m256 e = _mm256_mul_ps(_mm256_mul_ps(er, s1), s2);
    e = _mm256_blendv_ps(e, _mm256_set1_ps(__builtin_inff()), _mm256_cmp_ps(x, _mm256_set1_ps(BT_EXP_X_MAX), _CMP_GT_OQ));
    return _mm256_blendv_ps(e, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(BT_EXP_X_MIN_NORMAL), _CMP_LT_OQ));
}

#endif  /* BT_X86_SIMD */
#endif
