/* ops.h - the entry points model graphs call: one call per layer operation.
 *
 * Each op checks shapes, dtypes and devices once, then runs a kernel on raw
 * pointers (kernels/cpu now; CUDA where the tensors live on a GPU). Activations
 * are f32 row-major [m, n] tensors whose rows are contiguous (a narrow() of the
 * first m rows of a bigger buffer is fine). `out` may alias an input only where
 * the op says so. Errors name the op and what did not match.
 */
#ifndef BT_OPS_H
#define BT_OPS_H
#include <stdint.h>
#include "error.h"
#include "tensor.h"

typedef enum bt_op_activation { BT_OP_SILU = 0, BT_OP_RELU2 = 1 } bt_op_activation;
typedef enum bt_op_rope_style { BT_OP_ROPE_INTERLEAVED = 0, BT_OP_ROPE_NEOX = 1 } bt_op_rope_style;

/* out[i, :] = table[ids[i], :] as f32; table [vocab, d] of any float or Q8_0 dtype; ids i32 [m]. */
bt_status bt_op_get_rows(bt_tensor *out /* [m, d] f32 */, const bt_tensor *table, const bt_tensor *ids);

/* out = x . W^T with W [n, k] float (f32/f16/bf16/q8_0) or ternary (tq2_0/tq1_0/i2_s).
 * Ternary weights always take x as per-token int8 (BitNet: s = 127/max|x|, round half
 * to even). act_quant = 1 gives float weights the same rounded activations (a BitLinear
 * on ternary-valued float weights). A ternary W caches its validated layout in w->prepared. */
bt_status bt_op_linear(bt_tensor *out /* [m, n] */, bt_tensor *w /* [n, k] */, const bt_tensor *x /* [m, k] */,
                       int act_quant);

/* RMSNorm / LayerNorm of each row; w (and b) [n] f32 or NULL; out may be x. */
bt_status bt_op_rmsnorm(bt_tensor *out, const bt_tensor *x, const bt_tensor *w, float eps);
bt_status bt_op_layernorm(bt_tensor *out, const bt_tensor *x, const bt_tensor *w, const bt_tensor *b, float eps);

/* RoPE in place over the first n_heads*head_dim columns of x [m, *], positions i32 [m]. */
bt_status bt_op_rope(bt_tensor *x, const bt_tensor *pos, int n_heads, int head_dim, int rot_dim,
                     float theta, bt_op_rope_style style);

/* Writes k, v ([m, n_kv*hd]) into the caches ([n_kv, ctx, hd]) at positions pos0.., then
 * out[i] = causal GQA attention of q[i] (position pos0+i) over positions 0..pos0+i. */
bt_status bt_op_attention(bt_tensor *out /* [m, n_head*hd] */, const bt_tensor *q,
                          const bt_tensor *k, const bt_tensor *v,
                          bt_tensor *k_cache, bt_tensor *v_cache, int64_t pos0, int n_head, float scale);

/* out = act(gate) * up; out = act(x); out = a + b; out = a * b. out may alias an input. */
bt_status bt_op_gated(bt_tensor *out, const bt_tensor *gate, const bt_tensor *up, bt_op_activation act);
bt_status bt_op_activate(bt_tensor *out, const bt_tensor *x, bt_op_activation act);
bt_status bt_op_add(bt_tensor *out, const bt_tensor *a, const bt_tensor *b);
bt_status bt_op_mul(bt_tensor *out, const bt_tensor *a, const bt_tensor *b);
bt_status bt_op_scale(bt_tensor *out, const bt_tensor *x, float s);

#endif
