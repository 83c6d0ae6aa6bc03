/* elementwise_convert.c - f16 / bf16 <-> f32 rows (the bt_convert_* of
 * elementwise.h): F16C / AVX-512 conversions, scalar base/dtype.h ones on
 * the scalar path and for AVX2 tails. */
#include "elementwise.h"
#include "f16_simd.h"
#include "cpu_features.h"
#include "base/dtype.h"

enum {
    CHUNK = 4096,              /* elements per unit of OpenMP work */
    PARALLEL_MIN = 1 << 16     /* shorter rows stay on one thread */
};

typedef enum { F16_TO_F32, F32_TO_F16, BF16_TO_F32, F32_TO_BF16 } conversion;

/* Each span converts in[0 .. n) into out[0 .. n); the element types follow from c. */
static void span_scalar(void *out, const void *in, int64_t n, conversion c) {
    const uint16_t *in16 = in;
    const float *in32 = in;
    uint16_t *out16 = out;
    float *out32 = out;
    for (int64_t i = 0; i < n; i++) {
        switch (c) {
        case F16_TO_F32: out32[i] = bt_f16_to_f32(in16[i]); break;
        case F32_TO_F16: out16[i] = bt_f32_to_f16(in32[i]); break;
        case BF16_TO_F32: out32[i] = bt_bf16_to_f32(in16[i]); break;
        case F32_TO_BF16: out16[i] = bt_f32_to_bf16(in32[i]); break;
        }
    }
}

#if BT_X86_SIMD
static BT_TARGET_AVX2 void span_avx2(void *out, const void *in, int64_t n, conversion c) {
    const uint16_t *in16 = in;
    const float *in32 = in;
    uint16_t *out16 = out;
    float *out32 = out;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        switch (c) {
        case F16_TO_F32: _mm256_storeu_ps(out32 + i, bt_f16x8_load(in16 + i)); break;
        case F32_TO_F16: bt_f16x8_store(out16 + i, _mm256_loadu_ps(in32 + i)); break;
        case BF16_TO_F32: _mm256_storeu_ps(out32 + i, bt_bf16x8_load(in16 + i)); break;
        case F32_TO_BF16: bt_bf16x8_store(out16 + i, _mm256_loadu_ps(in32 + i)); break;
        }
    }
    if (c == F16_TO_F32 || c == BF16_TO_F32) span_scalar(out32 + i, in16 + i, n - i, c);
    else span_scalar(out16 + i, in32 + i, n - i, c);
}

static BT_TARGET_AVX512 void span_avx512(void *out, const void *in, int64_t n, conversion c) {
    const uint16_t *in16 = in;
    const float *in32 = in;
    uint16_t *out16 = out;
    float *out32 = out;
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 lanes = bt_lanes16(n - i);
        switch (c) {
        case F16_TO_F32: _mm512_mask_storeu_ps(out32 + i, lanes, bt_f16x16_load_mask(in16 + i, lanes)); break;
        case F32_TO_F16: bt_f16x16_store_mask(out16 + i, _mm512_maskz_loadu_ps(lanes, in32 + i), lanes); break;
        case BF16_TO_F32: _mm512_mask_storeu_ps(out32 + i, lanes, bt_bf16x16_load_mask(in16 + i, lanes)); break;
        case F32_TO_BF16: bt_bf16x16_store_mask(out16 + i, _mm512_maskz_loadu_ps(lanes, in32 + i), lanes); break;
        }
    }
}
#endif  /* BT_X86_SIMD */

static void convert(void *out, size_t out_size, const void *in, size_t in_size, int64_t n, conversion c) {
    void (*span)(void *, const void *, int64_t, conversion) = span_scalar;
    switch (bt_simd_level_get()) {
#if BT_X86_SIMD
    case BT_SIMD_AVX512: span = span_avx512; break;
    case BT_SIMD_AVX2: span = span_avx2; break;
#endif
    default: break;
    }
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (int64_t i = 0; i < n; i += CHUNK)
        span((char *)out + i * out_size, (const char *)in + i * in_size, n - i < CHUNK ? n - i : CHUNK, c);
}

void bt_convert_f16_to_f32(float *out, const uint16_t *in, int64_t n) { convert(out, 4, in, 2, n, F16_TO_F32); }
void bt_convert_f32_to_f16(uint16_t *out, const float *in, int64_t n) { convert(out, 2, in, 4, n, F32_TO_F16); }
void bt_convert_bf16_to_f32(float *out, const uint16_t *in, int64_t n) { convert(out, 4, in, 2, n, BF16_TO_F32); }
void bt_convert_f32_to_bf16(uint16_t *out, const float *in, int64_t n) { convert(out, 2, in, 4, n, F32_TO_BF16); }
