/* ternary_quantize.c - absmean quantization of float weights to ternary values
 * (see ternary_quantize.h). */
#include "ternary_quantize.h"
#include <math.h>

bt_status bt_ternary_quantize_absmean(float *out, float *scale, const float *w, int64_t count) {
    if (count < 1) return bt_set_error(BT_ERR_ARG, "absmean quantization: %lld weights, expected at least 1", (long long)count);
    double sum = 0.0;
    for (int64_t i = 0; i < count; i++) {
        if (!isfinite(w[i]))
            return bt_set_error(BT_ERR_ARG, "absmean quantization: weight %lld is %g, expected a finite value", (long long)i, (double)w[i]);
        sum += fabs((double)w[i]);
    }
    const float mean = (float)(sum / (double)count);
    const float s = 1.0f / fmaxf(mean, 1e-5f);
    for (int64_t i = 0; i < count; i++) {
        const float q = fminf(fmaxf(rintf(w[i] * s), -1.0f), 1.0f);
        out[i] = q / s;
    }
    *scale = 1.0f / s;
    return BT_OK;
}
