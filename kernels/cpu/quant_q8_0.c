/* quant_q8_0.c - Q8_0 rows: see quant_q8_0.h. */
#include "kernels/cpu/quant_q8_0.h"
#include <math.h>
#include <string.h>
#include "kernels/cpu/elementwise.h"

void bt_q8_0_quantize_row(uint8_t *out, const float *x, int64_t k) {
    for (int64_t b = 0; b < k / BT_Q8_0_COLS; b++, x += BT_Q8_0_COLS, out += BT_Q8_0_BYTES) {
        float amax = 0.0f;
        for (int j = 0; j < BT_Q8_0_COLS; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        uint16_t d16;
        bt_convert_f32_to_f16(&d16, &d, 1);
        memcpy(out, &d16, 2);
        for (int j = 0; j < BT_Q8_0_COLS; j++) out[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
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
