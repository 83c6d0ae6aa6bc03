/* softmax.c - row softmax and the exp-and-sum step (see softmax.h). */
#include "softmax.h"
#include "elementwise_exp.h"
#include "cpu_features.h"
#include <math.h>

enum { PARALLEL_MIN = 1 << 15 };   /* fewer values than this stay on one thread */

static float exp_shifted_sum_scalar(float *x, int64_t n, float shift) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - shift);
        sum += x[i];
    }
    return sum;
}

#if BT_X86_SIMD
static BT_TARGET_AVX2 float exp_shifted_sum_avx2(float *x, int64_t n, float shift) {
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = bt_exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_set1_ps(shift)));
        _mm256_storeu_ps(x + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s) + exp_shifted_sum_scalar(x + i, n - i, shift);
}

static BT_TARGET_AVX512 float exp_shifted_sum_avx512(float *x, int64_t n, float shift) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 lanes = bt_lanes16(n - i);
        __m512 e = bt_exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, x + i), _mm512_set1_ps(shift)));
        _mm512_mask_storeu_ps(x + i, lanes, e);
        acc = _mm512_add_ps(acc, _mm512_maskz_mov_ps(lanes, e));
    }
    return _mm512_reduce_add_ps(acc);
}
#endif  /* BT_X86_SIMD */

float bt_exp_shifted_sum(float *x, int64_t n, float shift) {
    switch (bt_simd_level_get()) {
#if BT_X86_SIMD
    case BT_SIMD_AVX512: return exp_shifted_sum_avx512(x, n, shift);
    case BT_SIMD_AVX2: return exp_shifted_sum_avx2(x, n, shift);
#endif
    default: return exp_shifted_sum_scalar(x, n, shift);
    }
}

void bt_softmax(float *x, int64_t m, int64_t n) {
    if (n <= 0) return;
#pragma omp parallel for schedule(static) if (m > 1 && m * n >= PARALLEL_MIN)
    for (int64_t r = 0; r < m; r++) {
        float *row = x + r * n;
        float max = row[0];
        for (int64_t i = 1; i < n; i++) max = row[i] > max ? row[i] : max;
        const float inv = 1.0f / bt_exp_shifted_sum(row, n, max);
        for (int64_t i = 0; i < n; i++) row[i] *= inv;
    }
}
