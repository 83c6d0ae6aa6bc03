/* quant_q6_k.c - Q6_K rows: see quant_q6_k.h. */
#include "kernels/cpu/quant_q6_k.h"
#include <math.h>
#include <string.h>
#include "base/dtype.h"
#include "kernels/cpu/cpu_features.h"

enum { SUB = 16, CODE_MAX = 32 };   /* values per scale; codes -32..31 */
static const float ZERO_EPS = 1e-15f;   /* below this a block (or its largest scale) counts as zero */

/* round half to even for |v| < 2^22, through the f32 mantissa (llama.cpp's trick; no libm call) */
static inline int nearest(float v) {
    const float shifted = v + 12582912.0f;   /* 1.5 * 2^23 */
    int32_t bits;
    memcpy(&bits, &shifted, 4);
    return (bits & 0x007fffff) - 0x00400000;
}

static inline int clamp_code(int l) { return l < -CODE_MAX ? -CODE_MAX : l > CODE_MAX - 1 ? CODE_MAX - 1 : l; }

/* sum of w x l and of w l^2 (w = x^2) for the codes of x under step 1 / iscale; codes into L if given */
static void fit(const float *x, float iscale, float *sumlx, float *suml2, int8_t *L) {
    float slx = 0.0f, sl2 = 0.0f;
    for (int i = 0; i < SUB; i++) {
        const int l = clamp_code(nearest(iscale * x[i]));
        const float w = x[i] * x[i];
        const float lx = w * x[i] * (float)l, l2 = w * (float)l * (float)l;   /* own statements: never fused */
        slx += lx;
        sl2 += l2;
        if (L) L[i] = (int8_t)(l + CODE_MAX);
    }
    *sumlx = slx, *suml2 = sl2;
}

/* The scale of 16 values: the least-squares one for the best of 19 steps around max / -32. */
static float sub_block_scale(const float *x, int8_t *L /* [16] codes 0..63 */) {
    float max = 0.0f, amax = 0.0f;
    for (int i = 0; i < SUB; i++) {
        const float a = fabsf(x[i]);
        if (a > amax) amax = a, max = x[i];
    }
    if (amax < ZERO_EPS) {
        memset(L, 0, SUB);
        return 0.0f;
    }
    float sumlx, suml2;
    fit(x, -(float)CODE_MAX / max, &sumlx, &suml2, L);
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f, best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        const float iscale = -((float)CODE_MAX + 0.1f * (float)is) / max;
        fit(x, iscale, &sumlx, &suml2, NULL);
        if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
            fit(x, iscale, &sumlx, &suml2, L);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

static void pack_codes(uint8_t *block, const int8_t *L /* [256] codes 0..63 */) {
    for (int h = 0; h < 2; h++) {
        const int8_t *c = L + 128 * h;
        uint8_t *ql = block + 64 * h, *qh = block + BT_Q6_K_QH + 32 * h;
        for (int l = 0; l < 32; l++) {
            ql[l] = (uint8_t)((c[l] & 15) | (c[l + 64] & 15) << 4);
            ql[l + 32] = (uint8_t)((c[l + 32] & 15) | (c[l + 96] & 15) << 4);
            qh[l] = (uint8_t)(c[l] >> 4 | (c[l + 32] >> 4) << 2 | (c[l + 64] >> 4) << 4 | (c[l + 96] >> 4) << 6);
        }
    }
}

static void quantize_block(uint8_t *block, const float *x, bt_simd_level level) {
    int8_t L[BT_Q6_K_COLS];
    float scales[BT_Q6_K_COLS / SUB], max_scale = 0.0f, max_abs = 0.0f;
#if BT_X86_SIMD
    if (level == BT_SIMD_AVX512) bt_q6_k_sub_block_scales_avx512(scales, L, x);
    else
#endif
        for (int s = 0; s < BT_Q6_K_COLS / SUB; s++) scales[s] = sub_block_scale(x + SUB * s, L + SUB * s);
    (void)level;
    for (int s = 0; s < BT_Q6_K_COLS / SUB; s++)
        if (fabsf(scales[s]) > max_abs) max_abs = fabsf(scales[s]), max_scale = scales[s];
    memset(block, 0, BT_Q6_K_BYTES);
    if (max_abs < ZERO_EPS) return;   /* d = 0, all codes 0 */
    const float iscale = -128.0f / max_scale;
    const uint16_t d16 = bt_f32_to_f16(1.0f / iscale);
    memcpy(block + BT_Q6_K_D, &d16, 2);
    const float d = bt_f16_to_f32(d16);
    for (int s = 0; s < BT_Q6_K_COLS / SUB; s++) {
        const int q = nearest(iscale * scales[s]);
        const int8_t sc = (int8_t)(q < 127 ? q : 127);
        block[BT_Q6_K_SCALES + s] = (uint8_t)sc;
        const float step = d * (float)sc;
        if (step == 0.0f) continue;   /* the codes of the fit stay, as there */
        for (int i = 0; i < SUB; i++) L[SUB * s + i] = (int8_t)(clamp_code(nearest(x[SUB * s + i] / step)) + CODE_MAX);
    }
    pack_codes(block, L);
}

void bt_q6_k_quantize_row_at(uint8_t *out, const float *x, int64_t k, bt_simd_level level) {
    const bt_simd_level best = bt_simd_level_get();
    if (level > best) level = best;
    for (int64_t b = 0; b < k / BT_Q6_K_COLS; b++) quantize_block(out + b * BT_Q6_K_BYTES, x + b * BT_Q6_K_COLS, level);
}

void bt_q6_k_quantize_row(uint8_t *out, const float *x, int64_t k) {
    bt_q6_k_quantize_row_at(out, x, k, bt_simd_level_get());
}

void bt_q6_k_dequantize_row(float *out, const uint8_t *in, int64_t k) {
    for (int64_t b = 0; b < k / BT_Q6_K_COLS; b++, in += BT_Q6_K_BYTES, out += BT_Q6_K_COLS) {
        uint16_t d16;
        memcpy(&d16, in + BT_Q6_K_D, 2);
        const float d = bt_f16_to_f32(d16);
        for (int c = 0; c < BT_Q6_K_COLS; c++)
            out[c] = d * (float)(int8_t)in[BT_Q6_K_SCALES + c / SUB] * (float)(bt_q6_k_code(in, c) - CODE_MAX);
    }
}
