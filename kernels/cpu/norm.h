/* norm.h - row normalizations: RMSNorm (Llama, BitNet) and LayerNorm (TTT).
 * Each of the m rows of n values is normalized on its own; `out` may be `x`.
 * Sums are accumulated in double, so the result is within a few float ulps of
 * the exact value whatever n is. Rows are split over OpenMP threads. */
#ifndef BT_NORM_H
#define BT_NORM_H
#include <stdint.h>

/* out = x / sqrt(mean(x^2) + eps) * w;  w NULL means all ones */
void bt_rmsnorm(float *out /* [m, n] */, const float *x /* [m, n] */, const float *w /* [n] or NULL */,
                int64_t m, int64_t n, float eps);

/* out = (x - mean(x)) / sqrt(var(x) + eps) * w + b, var biased (divides by n);
 * w NULL means ones, b NULL means zeros */
void bt_layernorm(float *out /* [m, n] */, const float *x /* [m, n] */, const float *w /* [n] or NULL */,
                  const float *b /* [n] or NULL */, int64_t m, int64_t n, float eps);

#endif
