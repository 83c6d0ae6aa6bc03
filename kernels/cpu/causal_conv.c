/* causal_conv.c - see causal_conv.h. Channels go to OpenMP threads; each keeps
 * its window of the last K inputs in a small array, so x is updated in place. */
#include "causal_conv.h"

enum { PARALLEL_MIN = 1 << 14 };   /* multiply-adds below which one thread does all channels */

void bt_causal_conv(float *x, float *history, const float *w, const float *bias, int64_t n_tok, int64_t width,
                    int kernel) {
    const int K = kernel;
#pragma omp parallel for schedule(static) if (n_tok * width * K >= PARALLEL_MIN)
    for (int64_t c = 0; c < width; c++) {
        float window[BT_CAUSAL_CONV_MAX_KERNEL];   /* window[j]: the input at t - (K-1) + j */
        for (int j = 0; j < K - 1; j++) window[j] = history[(int64_t)j * width + c];
        for (int64_t t = 0; t < n_tok; t++) {
            float *xt = x + t * width + c;
            window[K - 1] = *xt;
            float acc = bias ? bias[c] : 0.0f;
            for (int j = 0; j < K; j++) acc += w[(int64_t)j * width + c] * window[j];
            *xt = acc;
            for (int j = 0; j < K - 1; j++) window[j] = window[j + 1];
        }
        for (int j = 0; j < K - 1; j++) history[(int64_t)j * width + c] = window[j];
    }
}
