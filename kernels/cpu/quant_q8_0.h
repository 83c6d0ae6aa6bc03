/* quant_q8_0.h - ggml's Q8_0 block layout, written and read back.
 *
 * A Q8_0 row of k values (k % 32 == 0) is k / 32 blocks of 34 bytes: the f16
 * scale d, then 32 int8 q, value = d * q. Quantizing follows llama.cpp's
 * reference rule so that our files equal its quantize tool's:
 *   d = max|x| / 127 over the block, q = roundf(x / d) (x * (1 / d) in f32), d stored as f16.
 */
#ifndef BT_QUANT_Q8_0_H
#define BT_QUANT_Q8_0_H
#include <stdint.h>

enum { BT_Q8_0_COLS = 32, BT_Q8_0_BYTES = 34 };

void bt_q8_0_quantize_row(uint8_t *out /* [k / 32 * 34] */, const float *x /* [k] */, int64_t k);
/* out[j] = d * q of column j */
void bt_q8_0_dequantize_row(float *out /* [k] */, const uint8_t *in /* [k / 32 * 34] */, int64_t k);

#endif
