/* test_cuda_ternary_ref.h - reference encoders of the GGUF ternary formats and a
 * reader of the CUDA backend's packed layout, written from the format
 * descriptions (spec/data/reference/bitnet/README.md and the comment in
 * kernels/cuda/ternary_layout.cuh), for the CUDA ternary tests. */
#ifndef BT_TEST_CUDA_TERNARY_REF_H
#define BT_TEST_CUDA_TERNARY_REF_H
#include <stdint.h>
#include <string.h>
#include "test_cuda_util.h"

/* TQ2_0: per 256 weights qs[64] then fp16 d; byte m of half h holds elements
 * 128h + m + 32s at bits 2s; code = w + 1. d_bits: [n, k/256]. */
static inline void ref_encode_tq2_0(uint8_t *dst, const int8_t *w /* [n, k] */, const uint16_t *d_bits, int n, int k) {
    for (int i = 0; i < n; i++)
        for (int b = 0; b < k / 256; b++) {
            uint8_t *block = dst + ((size_t)i * (k / 256) + b) * 66;
            memset(block, 0, 64);
            for (int e = 0; e < 256; e++) {
                int h = e / 128, s = (e % 128) / 32, m = e % 32;
                block[32 * h + m] |= (uint8_t)((w[(size_t)i * k + 256 * b + e] + 1) << (2 * s));
            }
            uint16_t d = d_bits[(size_t)i * (k / 256) + b];
            block[64] = (uint8_t)(d & 0xFF);
            block[65] = (uint8_t)(d >> 8);
        }
}

/* I2_S: element e of the flattened tensor sits in byte 32*(e/128) + (e%128)%32 at bits
 * 6 - 2*((e%128)/32); code = w + 1; one f32 scale after n*k/4 bytes, then 28 bytes of padding. */
static inline void ref_encode_i2_s(uint8_t *dst, const int8_t *w /* [n, k] */, float scale, int n, int k) {
    size_t total = (size_t)n * k;
    memset(dst, 0, total / 4);
    for (size_t e = 0; e < total; e++) {
        size_t j = e % 128;
        dst[e / 128 * 32 + j % 32] |= (uint8_t)((w[e] + 1) << (6 - 2 * (j / 32)));
    }
    memcpy(dst + total / 4, &scale, 4);
    memset(dst + total / 4 + 4, 0xA5, 28);   /* unspecified padding: readers must ignore it */
}

static inline size_t ref_packed_scale_offset(int n, int k) {
    size_t codes = (size_t)((n + 7) / 8 * 8) * k / 4;
    return (codes + 255) / 256 * 256;
}

/* Code (w + 1) of element [row, col] in the backend's packed layout. */
static inline int ref_packed_code(const uint8_t *packed, int row, int col, int k) {
    size_t tile = (size_t)(row / 8) * (k / 64) + col / 64;
    const uint8_t *row16 = packed + tile * 128 + (row % 8) * 16;
    int q = (col % 64) / 16, j = (col % 16) / 4, b = col % 4;
    return row16[4 * q + b] >> (2 * j) & 3;
}

static inline float ref_packed_scale(const uint8_t *packed, int n, int k, int block_scales, int row, int col) {
    const float *scales = (const float *)(packed + ref_packed_scale_offset(n, k));
    return block_scales ? scales[(size_t)row * (k / 256) + col / 256] : scales[row];
}

/* Random ternary weights, about a third each of -1, 0, +1 (sparse when zero_pct is high). */
static inline void ref_random_ternary(int8_t *w, size_t count, cu_rng *r, int zero_pct) {
    for (size_t i = 0; i < count; i++) {
        int z = cu_int(r, 0, 99) < zero_pct;
        w[i] = z ? 0 : (cu_next(r) & 1 ? 1 : -1);
    }
}

#endif
