/* ops_ternary.h - ternary weight tools on tensors, for converters, synthetic models
 * and tests: BitNet absmean quantization, packing into GGUF's ternary dtypes, random
 * ternary matrices, unpacking, the Hugging Face packed layout, and Q8_0 / Q6_K for output heads.
 * In front of kernels/cpu/ternary*.h, quant_q8_0.h and quant_q6_k.h; CPU tensors only. Each op makes a new tensor in *out
 * (NULL on failure); errors name the op and what did not match.
 */
#ifndef BT_OPS_TERNARY_H
#define BT_OPS_TERNARY_H
#include <stdint.h>
#include "base/error.h"
#include "tensor.h"
#include "kernels/cpu/ternary_hf.h"   /* bt_hf_scale_use */

/* BitNet absmean: *out = round-clip(w / mean|w|) * mean|w| (same shape, f32), *scale = mean|w|.
 * w: a contiguous f32 CPU tensor of finite values. */
bt_status bt_op_ternary_quantize(bt_tensor **out, float *scale, const bt_tensor *w);
/* w [n, k] f32 of ternary values ({-s, 0, +s}) packed as dtype d (BT_TQ2_0 or BT_TQ1_0). */
bt_status bt_op_ternary_pack(bt_tensor **out /* [n, k] d */, const bt_tensor *w /* [n, k] f32 */, bt_dtype d);
/* [n, k] of dtype d (BT_TQ2_0 or BT_TQ1_0) whose values are -scale, 0, +scale with
 * probability 1/3 each, drawn from splitmix64 seeded with seed (same seed, same matrix). */
bt_status bt_op_ternary_random(bt_tensor **out, int64_t n, int64_t k, bt_dtype d, uint64_t seed, float scale);
/* The values of a packed ternary weight (TQ2_0, TQ1_0, I2_S) as f32. */
bt_status bt_op_ternary_dequantize(bt_tensor **out /* [n, k] f32 */, const bt_tensor *w /* [n, k] */);

/* Hugging Face BitNet: packed u8 [p, k] (4 rows per byte) and its weight_scale into
 * TQ2_0 [4p, k] (k a multiple of 256); `use` says whether the scale divides or multiplies. */
bt_status bt_op_ternary_from_hf(bt_tensor **out /* [4p, k] tq2_0 */, const bt_tensor *packed /* [p, k] u8 */,
                                float weight_scale, bt_hf_scale_use use);
/* The reverse: w [n, k] f32 (n a multiple of 4) of values {-s, 0, +s} into u8 [n/4, k], *scale = s. */
bt_status bt_op_ternary_to_hf(bt_tensor **out /* [n/4, k] u8 */, float *scale, const bt_tensor *w /* [n, k] f32 */);

/* Not ternary, but the converters' other weight tool: w [n, k] (a contiguous f32, f16 or bf16
 * CPU matrix) as ggml's Q8_0 (k % 32 == 0) or Q6_K (k % 256 == 0), row by row with llama.cpp's
 * rules (an f16 head is never held as f32 whole). BT_ERR_ARG for another `to`. */
bt_status bt_op_quantize_head(bt_tensor **out /* [n, k] of `to` */, const bt_tensor *w /* [n, k] */, bt_dtype to);

#endif
