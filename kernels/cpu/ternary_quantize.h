/* ternary_quantize.h - BitNet b1.58 weight quantization (absmean), for tools
 * that turn float checkpoints into ternary files.
 *
 * As in the BitNet b1.58 reference code: s = 1 / max(mean |W|, 1e-5) over the
 * whole tensor, Wq = clamp(round_half_even(W * s), -1, 1), and the weights
 * become Wq / s. The result is ternary-valued floats, ready for
 * bt_ternary_pack (whose rules keep exactly these codes and this scale).
 */
#ifndef BT_TERNARY_QUANTIZE_H
#define BT_TERNARY_QUANTIZE_H
#include <stdint.h>
#include "base/error.h"

/* out[i] = Wq[i] / s, *scale = 1 / s (the value of a +1 weight). out may be w.
 * The mean is accumulated in double. BT_ERR_ARG if count < 1 or W holds a
 * non-finite value. */
bt_status bt_ternary_quantize_absmean(float *out /* [count] */, float *scale, const float *w /* [count] */,
                                      int64_t count);

#endif
