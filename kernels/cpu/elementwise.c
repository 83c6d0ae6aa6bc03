/* elementwise.c - activations, gated products and add / mul / scale.
 * The activations have AVX2 / AVX-512 paths (SiLU needs a vector exp); the
 * arithmetic is plain C, memory-bound whatever the instruction set. The
 * f16 / bf16 conversions are in elementwise_convert.c. */
#include "elementwise.h"
#include "elementwise_exp.h"
#include "cpu_features.h"
#include <math.h>
#include <stddef.h>

enum {
    CHUNK = 4096,              /* elements per unit of OpenMP work */
    PARALLEL_MIN = 1 << 16     /* shorter arrays stay on one thread */
};

/* ---- activations: out = act(x) * (up ? up : 1) ---------------------------- */

/* act is a bt_op_activation value (the ops check it); anything else gives NaN, never a
 * silent SiLU. */
static float act_scalar(float x, bt_op_activation act) {
    switch (act) {
    case BT_OP_RELU2: {
        float r = x > 0.0f ? x : 0.0f;
        return r * r;
    }
    case BT_OP_SILU: return x / (1.0f + expf(-x));
    }
    return NAN;
}

static void act_span_scalar(float *out, const float *x, const float *up, int64_t n, bt_op_activation act) {
    for (int64_t i = 0; i < n; i++) out[i] = up ? act_scalar(x[i], act) * up[i] : act_scalar(x[i], act);
}

#if BT_X86_SIMD
static inline __attribute__((always_inline)) BT_TARGET_AVX2 __m256 act8(__m256 x, bt_op_activation act) {
    switch (act) {
    case BT_OP_RELU2: {
        __m256 r = _mm256_max_ps(x, _mm256_setzero_ps());
        return _mm256_mul_ps(r, r);
    }
    case BT_OP_SILU: {
        __m256 e = bt_exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
        return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    }
    }
    return _mm256_set1_ps(NAN);
}

static BT_TARGET_AVX2 void act_span_avx2(float *out, const float *x, const float *up, int64_t n, bt_op_activation act) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = act8(_mm256_loadu_ps(x + i), act);
        if (up) v = _mm256_mul_ps(v, _mm256_loadu_ps(up + i));
        _mm256_storeu_ps(out + i, v);
    }
    act_span_scalar(out + i, x + i, up ? up + i : NULL, n - i, act);
}

static inline __attribute__((always_inline)) BT_TARGET_AVX512 __m512 act16(__m512 x, bt_op_activation act) {
    switch (act) {
    case BT_OP_RELU2: {
        __m512 r = _mm512_max_ps(x, _mm512_setzero_ps());
        return _mm512_mul_ps(r, r);
    }
    case BT_OP_SILU: {
        __m512 e = bt_exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
        return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    }
    }
    return _mm512_set1_ps(NAN);
}

static BT_TARGET_AVX512 void act_span_avx512(float *out, const float *x, const float *up, int64_t n,
                                             bt_op_activation act) {
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 lanes = bt_lanes16(n - i);
        __m512 v = act16(_mm512_maskz_loadu_ps(lanes, x + i), act);
        if (up) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(lanes, up + i));
        _mm512_mask_storeu_ps(out + i, lanes, v);
    }
}
#endif  /* BT_X86_SIMD */

static void act_run(float *out, const float *x, const float *up, int64_t n, bt_op_activation act) {
    void (*span)(float *, const float *, const float *, int64_t, bt_op_activation) = act_span_scalar;
    switch (bt_simd_level_get()) {
#if BT_X86_SIMD
    case BT_SIMD_AVX512: span = act_span_avx512; break;
    case BT_SIMD_AVX2: span = act_span_avx2; break;
#endif
    default: break;
    }
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (int64_t c = 0; c < n; c += CHUNK)
        span(out + c, x + c, up ? up + c : NULL, n - c < CHUNK ? n - c : CHUNK, act);
}

void bt_activate(float *out, const float *x, int64_t n, bt_op_activation act) { act_run(out, x, NULL, n, act); }

void bt_gated_activate(float *out, const float *gate, const float *up, int64_t n, bt_op_activation act) {
    act_run(out, gate, up, n, act);
}

/* ---- arithmetic ------------------------------------------------------------ */

void bt_add(float *out, const float *a, const float *b, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void bt_mul(float *out, const float *a, const float *b, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void bt_scale(float *out, const float *x, float s, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) out[i] = x[i] * s;
}
