/* elementwise.h - element-by-element float kernels on contiguous arrays:
 * activations (SiLU, ReLU^2), gated products act(gate) * up, add / mul /
 * scale, and f16 / bf16 <-> f32 conversion of rows.
 *
 * n counts elements (a whole [rows, cols] tensor is one call). `out` may be the
 * same array as an input (in-place residual adds, x = x + y), but must not
 * overlap an input partially. Large calls are split over OpenMP threads.
 */
#ifndef BT_ELEMENTWISE_H
#define BT_ELEMENTWISE_H
#include <stdint.h>
#include "base/kinds.h"   /* bt_op_activation */

void bt_activate(float *out /* [n] */, const float *x /* [n] */, int64_t n, bt_op_activation act);
/* out = act(gate) * up (the gated FFN: SwiGLU for SiLU) */
void bt_gated_activate(float *out /* [n] */, const float *gate /* [n] */, const float *up /* [n] */, int64_t n,
                       bt_op_activation act);

void bt_add(float *out /* [n] */, const float *a /* [n] */, const float *b /* [n] */, int64_t n);
void bt_mul(float *out /* [n] */, const float *a /* [n] */, const float *b /* [n] */, int64_t n);
void bt_scale(float *out /* [n] */, const float *x /* [n] */, float s, int64_t n);

/* Conversions, rounding to nearest even like bt_f32_to_f16 / bt_f32_to_bf16. */
void bt_convert_f16_to_f32(float *out /* [n] */, const uint16_t *in /* [n] */, int64_t n);
void bt_convert_f32_to_f16(uint16_t *out /* [n] */, const float *in /* [n] */, int64_t n);
void bt_convert_bf16_to_f32(float *out /* [n] */, const uint16_t *in /* [n] */, int64_t n);
void bt_convert_f32_to_bf16(uint16_t *out /* [n] */, const float *in /* [n] */, int64_t n);

#endif
