/* causal_conv.h - a depthwise causal convolution over time, in place, that
 * carries its last inputs across calls (TTT-Linear's conv_q / conv_k).
 *
 * For each channel c and token t of this call:
 *   y[t, c] = bias[c] + sum_{j<K} w[j, c] * x[t - (K-1) + j, c]
 * where inputs before this call's first token come from history (its row K-2 is
 * the input just before the call; a new stream's history is zeros). Afterwards
 * history holds the last K-1 inputs seen (x before the update), so a stream fed
 * in chunks of any lengths gives what one call over all of it would.
 */
#ifndef BT_KERNELS_CAUSAL_CONV_H
#define BT_KERNELS_CAUSAL_CONV_H
#include <stdint.h>

/* x [n_tok, width] (updated in place), history [K-1, width] (updated), w [K, width],
 * bias [width] or NULL; 1 <= K <= BT_CAUSAL_CONV_MAX_KERNEL. */
enum { BT_CAUSAL_CONV_MAX_KERNEL = 16 };
void bt_causal_conv(float *x, float *history, const float *w, const float *bias, int64_t n_tok, int64_t width,
                    int kernel);

#endif
