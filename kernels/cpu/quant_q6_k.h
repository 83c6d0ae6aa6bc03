/* quant_q6_k.h - ggml's Q6_K block layout, written and read back.
 *
 * A Q6_K row of k values (k % 256 == 0) is k / 256 super-blocks of 210 bytes:
 *   ql[128]     low 4 bits of the 256 six-bit codes
 *   qh[64]      their high 2 bits
 *   scales[16]  int8 scale of each 16 values
 *   d           f16 super-block scale
 * value = d * scales[c / 16] * (code - 32), code in 0..63. Within each half of
 * 128 columns (h = 0, 1; ql + 64 h, qh + 32 h), column 32 g + l (g = 0..3,
 * l = 0..31) keeps its low bits in ql[32 (g & 1) + l] (g < 2: low nibble, else
 * high) and its high bits at bits 2 g, 2 g + 1 of qh[l].
 *
 * Quantizing follows llama.cpp's reference rule (no importance matrix) so that
 * our bytes equal its quantize tool's: per 16 values, a scale chosen from 19
 * candidate steps by weighted least squares (weights x^2); the 16 scales in
 * int8 against d = max scale / -128 (f16); codes round(x / (d * scale)) clamped
 * to -32..31; all in f32, rounding half to even.
 */
#ifndef BT_QUANT_Q6_K_H
#define BT_QUANT_Q6_K_H
#include <stdint.h>
#include "kernels/cpu/cpu_features.h"

enum {
    BT_Q6_K_COLS = 256,
    BT_Q6_K_BYTES = 210,
    BT_Q6_K_QH = 128,        /* byte offsets in a block */
    BT_Q6_K_SCALES = 192,
    BT_Q6_K_D = 208
};

void bt_q6_k_quantize_row(uint8_t *out /* [k / 256 * 210] */, const float *x /* [k] */, int64_t k);
/* The same at a given SIMD level (capped at the CPU's): the bytes are the same at every level. */
void bt_q6_k_quantize_row_at(uint8_t *out /* [k / 256 * 210] */, const float *x /* [k] */, int64_t k,
                             bt_simd_level level);
/* quant_q6_k.c's scale search for the 16 sub-blocks of a block at once (AVX-512; x86-64 builds):
 * scales[s] and codes[16 s + i] (0..63) of x[16 s + i], as the scalar search gives them. */
void bt_q6_k_sub_block_scales_avx512(float *scales /* [16] */, int8_t *codes /* [256] */, const float *x /* [256] */);
/* out[j] = d * scales[j / 16] * (code_j - 32), in that order of f32 products (as llama.cpp) */
void bt_q6_k_dequantize_row(float *out /* [k] */, const uint8_t *in /* [k / 256 * 210] */, int64_t k);

/* The code of column c (0..255) of a block, 0..63. */
static inline int bt_q6_k_code(const uint8_t *block, int c) {
    const int h = c / 128, g = (c % 128) / 32, l = c % 32;
    const uint8_t low = block[64 * h + 32 * (g & 1) + l], high = block[BT_Q6_K_QH + 32 * h + l];
    return ((g < 2 ? low : low >> 4) & 15) | ((high >> (2 * g)) & 3) << 4;
}

#endif
