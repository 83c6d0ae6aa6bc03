/* test_quant_q6_k.c - Q6_K quantization: the AVX-512 scale search writes the scalar
 * code's bytes exactly (rows of many kinds), and the written blocks decode to within
 * half a step of the input (the layout itself is held to llama.cpp's tool's bytes in
 * spec/head_quant_spec.lua); a sub-block far smaller than its block's largest may get
 * scale 0, as in llama.cpp. */
#include "check.h"
#include "test_float_kernels.h"
#include "kernels/cpu/quant_q6_k.h"
#include "base/dtype.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { ROWS = 24, K = 1024 };

/* row r of a batch that covers what the search branches on: plain uniform values, an
 * all-zero sub-block and block, one large value per block, tiny values, values that
 * land on halves of the first step, repeated values, and a NaN-free sign mix */
static void fill_row(test_rng *rng, float *x, int r) {
    test_rng_fill(rng, x, K, -1.0f, 1.0f);
    switch (r % 6) {
    case 1: memset(x, 0, 16 * sizeof(float)); memset(x + 256, 0, 256 * sizeof(float)); break;
    case 2: for (int b = 0; b < K / 256; b++) x[256 * b + (int)(test_rng_next(rng) % 256)] = 1e3f; break;
    case 3: for (int j = 0; j < K; j++) x[j] *= 1e-12f; break;
    case 4: for (int j = 0; j < K; j++) x[j] = (float)((int)(test_rng_next(rng) % 65) - 32) * 0.5f / 32.0f; break;
    case 5: for (int j = 0; j < K; j++) x[j] = j % 3 ? 0.25f : -0.75f; break;
    default: break;
    }
}

BT_TEST(q6_k_avx512_search_writes_the_scalar_bytes) {
    if (bt_simd_level_get() < BT_SIMD_AVX512) BT_SKIP("no AVX-512 on this CPU");
    test_rng rng = test_rng_new(61);
    float *x = malloc(sizeof(float) * K);
    uint8_t *scalar = malloc(K / 256 * 210), *wide = malloc(K / 256 * 210);
    int r = 0, same = 1;
    for (; r < ROWS && same; r++) {
        fill_row(&rng, x, r);
        bt_q6_k_quantize_row_at(scalar, x, K, BT_SIMD_SCALAR);
        bt_q6_k_quantize_row_at(wide, x, K, BT_SIMD_AVX512);
        same = memcmp(scalar, wide, K / 256 * 210) == 0;
    }
    free(x);
    free(scalar);
    free(wide);
    BT_CHECK(same, "row %d (kind %d): the AVX-512 bytes differ from the scalar ones", r - 1, (r - 1) % 6);
}

BT_TEST(q6_k_blocks_decode_within_half_a_step) {
    test_rng rng = test_rng_new(62);
    float x[K], back[K];
    uint8_t q[K / 256 * 210];
    char why[256] = "";
    for (int r = 0; r < ROWS && !why[0]; r++) {
        fill_row(&rng, x, r);
        bt_q6_k_quantize_row(q, x, K);
        bt_q6_k_dequantize_row(back, q, K);
        for (int j = 0; j < K && !why[0]; j++) {
            const uint8_t *block = q + j / 256 * 210;
            uint16_t d16;
            memcpy(&d16, block + BT_Q6_K_D, 2);
            const float step = fabsf(bt_f16_to_f32(d16) * (float)(int8_t)block[BT_Q6_K_SCALES + j % 256 / 16]);
            const int clamped = fabsf(x[j]) > 31.0f * step;
            if (step > 0.0f && !clamped && !(fabsf(back[j] - x[j]) <= 0.5f * step * 1.001f))
                snprintf(why, sizeof why, "row %d column %d: %g decodes to %g (step %g)", r, j, x[j], back[j], step);
            /* a sub-block's int8 scale is 0 only when its own is under 1/256 of the block's largest */
            float block_max = 0.0f;
            for (int c = j / 256 * 256; c < j / 256 * 256 + 256; c++) block_max = fmaxf(block_max, fabsf(x[c]));
            /* and d is 0 when max / 4096 is below f16's smallest subnormal (blocks of tiny values) */
            const float zero_under = bt_f16_to_f32(d16) == 0.0f ? 2.5e-4f : block_max / 64.0f;
            if (step == 0.0f && (back[j] != 0.0f || fabsf(x[j]) > zero_under))
                snprintf(why, sizeof why, "row %d column %d: %g in a sub-block of scale 0 (block max %g)", r, j, x[j],
                         block_max);
        }
    }
    BT_CHECK(!why[0], "%s", why);
}
