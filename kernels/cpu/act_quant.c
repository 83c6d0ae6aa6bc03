/* act_quant.c - per-token int8 quantization of activations (see act_quant.h):
 * scalar, AVX2 and AVX-512 paths that give identical bytes (the conversions
 * round half to even under the default MXCSR, like rintf). */
#include "act_quant.h"
#include "cpu_features.h"
#include <math.h>
#include <string.h>


enum { PARALLEL_MIN_VALUES = 1 << 16 };

static int64_t padded(int64_t k) { return (k + BT_ACT_PAD - 1) / BT_ACT_PAD * BT_ACT_PAD; }

size_t bt_act_i8_bytes(int64_t m, int64_t k) {
    if (m < 1 || k < 1 || m > (INT64_C(1) << 32) || k > (INT64_C(1) << 32)) return 0;
    const int64_t kp = padded(k);
    if ((uint64_t)m > (SIZE_MAX / 2) / (uint64_t)kp) return 0;
    const size_t q_bytes = (size_t)(m * kp), scale_bytes = (size_t)m * 4;
    const size_t sum_bytes = (size_t)(m * (kp / BT_ACT_SUM_COLS)) * 4;
    return q_bytes + ((scale_bytes + 63) & ~(size_t)63) + sum_bytes;
}

bt_status bt_act_i8_init(bt_act_i8 *a, void *buf, size_t buf_bytes, int64_t m, int64_t k) {
    const size_t need = bt_act_i8_bytes(m, k);
    if (!need) return bt_set_error(BT_ERR_ARG, "act_i8: m = %lld, k = %lld: expected both >= 1", (long long)m, (long long)k);
    if (!buf || buf_bytes < need)
        return bt_set_error(BT_ERR_ARG, "act_i8: [%lld, %lld] needs a buffer of %zu bytes, got %zu", (long long)m,
                            (long long)k, need, buf ? buf_bytes : 0);
    const int64_t kp = padded(k);
    uint8_t *p = buf;
    a->q = (int8_t *)p;
    a->scale = (float *)(p + m * kp);
    a->group_sum = (int32_t *)(p + m * kp + (((size_t)m * 4 + 63) & ~(size_t)63));
    a->m = m;
    a->k = k;
    a->k_pad = kp;
    return BT_OK;
}

static float scale_from_max(float max_abs) { return 127.0f / fmaxf(max_abs, 1e-5f); }

/* ---- scalar --------------------------------------------------------------- */

static void token_scalar(int8_t *q /* [k_pad] */, float *scale, const float *x /* [k] */, int64_t k, int64_t k_pad) {
    float m = 0.0f;
    for (int64_t j = 0; j < k; j++) m = fmaxf(m, fabsf(x[j]));
    const float s = scale_from_max(m);
    for (int64_t j = 0; j < k; j++) {
        const float v = rintf(x[j] * s);
        q[j] = (int8_t)(v < -128.0f ? -128.0f : v > 127.0f ? 127.0f : v);
    }
    memset(q + k, 0, (size_t)(k_pad - k));
    *scale = s;
}

#if BT_X86_SIMD
#include <immintrin.h>

/* ---- AVX2: 32 values per step, scalar tail ---------------------------------- */

static BT_TARGET_AVX2 void token_avx2(int8_t *q, float *scale, const float *x, int64_t k, int64_t k_pad) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 vmax = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    float m = _mm_cvtss_f32(m4);
    for (; j < k; j++) m = fmaxf(m, fabsf(x[j]));
    const float s = scale_from_max(m);
    const __m256 vs = _mm256_set1_ps(s);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (j = 0; j + 32 <= k; j += 32) {
        __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j), vs));
        __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8), vs));
        __m256i c = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 16), vs));
        __m256i d = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 24), vs));
        __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, d));
        _mm256_storeu_si256((__m256i *)(q + j), _mm256_permutevar8x32_epi32(bytes, order));
    }
    for (; j < k; j++) {
        const float v = rintf(x[j] * s);
        q[j] = (int8_t)(v < -128.0f ? -128.0f : v > 127.0f ? 127.0f : v);
    }
    memset(q + k, 0, (size_t)(k_pad - k));
    *scale = s;
}

/* ---- AVX-512: 16 values per step, masked tail --------------------------------- */

static BT_TARGET_AVX512 void token_avx512(int8_t *q, float *scale, const float *x, int64_t k, int64_t k_pad) {
    __m512 vmax = _mm512_setzero_ps();
    for (int64_t j = 0; j < k; j += 16) {
        const __mmask16 lanes = k - j >= 16 ? 0xffff : (__mmask16)((1u << (k - j)) - 1);
        vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_maskz_loadu_ps(lanes, x + j)));
    }
    const float s = scale_from_max(_mm512_reduce_max_ps(vmax));
    const __m512 vs = _mm512_set1_ps(s);
    for (int64_t j = 0; j < k; j += 16) {
        const __mmask16 lanes = k - j >= 16 ? 0xffff : (__mmask16)((1u << (k - j)) - 1);
        const __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, x + j), vs));
        _mm_mask_storeu_epi8(q + j, lanes, _mm512_cvtsepi32_epi8(v));
    }
    memset(q + k, 0, (size_t)(k_pad - k));
    *scale = s;
}

#endif  /* BT_X86_SIMD */

static void group_sums(int32_t *sum /* [k_pad / 128] */, const int8_t *q /* [k_pad] */, int64_t k_pad) {
    for (int64_t g = 0; g < k_pad / BT_ACT_SUM_COLS; g++) {
        int32_t s = 0;
        for (int j = 0; j < BT_ACT_SUM_COLS; j++) s += q[g * BT_ACT_SUM_COLS + j];
        sum[g] = s;
    }
}

void bt_act_quantize_at(bt_act_i8 *a, const float *x, bt_simd_level level) {
    const bt_simd_level best = bt_simd_level_get();
    if (level > best) level = best;
    const int64_t k = a->k, kp = a->k_pad;
#pragma omp parallel for schedule(static) if (a->m * k >= PARALLEL_MIN_VALUES)
    for (int64_t t = 0; t < a->m; t++) {
        int8_t *q = a->q + t * kp;
#if BT_X86_SIMD
        if (level == BT_SIMD_AVX512) token_avx512(q, &a->scale[t], x + t * k, k, kp);
        else if (level == BT_SIMD_AVX2) token_avx2(q, &a->scale[t], x + t * k, k, kp);
        else
#endif
            token_scalar(q, &a->scale[t], x + t * k, k, kp);
        group_sums(a->group_sum + t * (kp / BT_ACT_SUM_COLS), q, kp);
    }
}

void bt_act_quantize(bt_act_i8 *a, const float *x) { bt_act_quantize_at(a, x, bt_simd_level_get()); }
