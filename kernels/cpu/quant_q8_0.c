/* quant_q8_0.c - Q8_0 rows: see quant_q8_0.h. */
#include "kernels/cpu/quant_q8_0.h"
#include <math.h>
#include <string.h>
#include "kernels/cpu/elementwise.h"

/* roundf (halves away from zero) of |v| <= 128 without a libm call; NaN -> 0 */
static inline int round_small(float v) {
    if (!(v == v)) return 0;
    int q = (int)v;                     /* toward zero; exact: |v| < 2^24 */
    const float frac = v - (float)q;    /* exact */
    return q + (frac >= 0.5f) - (frac <= -0.5f);
}

enum { CHUNK_BLOCKS = 64 };   /* blocks whose scales are converted to f16 in one call */

void bt_q8_0_quantize_row(uint8_t *out, const float *x, int64_t k) {
    for (int64_t b0 = 0; b0 < k / BT_Q8_0_COLS; b0 += CHUNK_BLOCKS) {
        const int nb = (int)(k / BT_Q8_0_COLS - b0 < CHUNK_BLOCKS ? k / BT_Q8_0_COLS - b0 : CHUNK_BLOCKS);
        float d[CHUNK_BLOCKS];
        uint16_t d16[CHUNK_BLOCKS];
        for (int b = 0; b < nb; b++) {
            const float *xb = x + (b0 + b) * BT_Q8_0_COLS;
            float amax = 0.0f;
            for (int j = 0; j < BT_Q8_0_COLS; j++) {   /* llama.cpp's MAX(amax, |x|) (a NaN wins, as there) */
                const float a = fabsf(xb[j]);
                amax = amax > a ? amax : a;
            }
            d[b] = amax / 127.0f;
        }
        bt_convert_f32_to_f16(d16, d, nb);
        for (int b = 0; b < nb; b++) {
            const float *xb = x + (b0 + b) * BT_Q8_0_COLS;
            uint8_t *ob = out + (b0 + b) * BT_Q8_0_BYTES;
            const float id = d[b] != 0.0f ? 1.0f / d[b] : 0.0f;
            memcpy(ob, &d16[b], 2);
            for (int j = 0; j < BT_Q8_0_COLS; j++) ob[2 + j] = (uint8_t)(int8_t)round_small(xb[j] * id);
        }
    }
}

void bt_q8_0_dequantize_row(float *out, const uint8_t *in, int64_t k) {
    for (int64_t b = 0; b < k / BT_Q8_0_COLS; b++, in += BT_Q8_0_BYTES, out += BT_Q8_0_COLS) {
        uint16_t d16;
        float d;
        memcpy(&d16, in, 2);
        bt_convert_f16_to_f32(&d, &d16, 1);
        for (int j = 0; j < BT_Q8_0_COLS; j++) out[j] = d * (float)(int8_t)in[2 + j];
    }
}
