/* ops.h - the entry points model graphs call: one call per layer operation.
 *
 * Each op checks shapes, dtypes and devices once, then runs a kernel on raw
 * pointers: kernels/cpu when its tensors live on the CPU, the CUDA kernels
 * (runtime/ops_cuda.h) when they live on a GPU. All tensors of one op must live
 * on one device. Weights go to a GPU through bt_op_place_weight. Activations
 * are f32 row-major [m, n] tensors whose rows are contiguous (a narrow() of the
 * first m rows of a bigger buffer is fine). `out` may alias an input only where
 * the op says so. Errors name the op and what did not match.
 */
#ifndef BT_OPS_H
#define BT_OPS_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "base/kinds.h"   /* bt_op_activation, bt_op_rope_style */
#include "tensor.h"


/* out[i, :] = table[ids[i], :] as f32; table [vocab, d] of any float, Q8_0 or Q6_K dtype (on a GPU: f16, f32); ids i32 [m]. */
bt_status bt_op_get_rows(bt_tensor *out /* [m, d] f32 */, const bt_tensor *table, const bt_tensor *ids);

/* out = x . W^T with W [n, k] float (f32/f16/bf16/q8_0/q6_k) or ternary (tq2_0/tq1_0/i2_s).
 * Ternary weights always take x as per-token int8 (BitNet: s = 127/max|x|, round half
 * to even). act_quant = 1 gives float weights the same rounded activations (a BitLinear
 * on ternary-valued float weights). A ternary W not yet prepared (bt_op_prepare_weight) is
 * prepared by its first product. */
bt_status bt_op_linear(bt_tensor *out /* [m, n] */, bt_tensor *w /* [n, k] */, const bt_tensor *x /* [m, k] */,
                       int act_quant);

/* Prepares weight w for bt_op_linear, once, when a model is loaded: a ternary W
 * (tq2_0, tq1_0, i2_s) on the CPU has its layout validated and cached in w->prepared;
 * a GPU copy made by bt_op_place_weight is prepared already; other weights need
 * nothing. After it products only read w, so threads may share it. Idempotent. */
bt_status bt_op_prepare_weight(bt_tensor *w);

/* out[i] = x . W_i^T for count (1 to BT_OP_LINEAR_GROUP_MAX) weights that read the same x
 * (q, k and v; gate and up): the results of count bt_op_linear calls. On a GPU with
 * ternary weights the activations are quantized once and the products run as one launch. */
#define BT_OP_LINEAR_GROUP_MAX 4
bt_status bt_op_linear_group(bt_tensor *const *out /* [count] -> [m, n_i] */, bt_tensor *const *w /* [count] -> [n_i, k] */,
                             int count, const bt_tensor *x /* [m, k] */, int act_quant);

/* RMSNorm / LayerNorm of each row; w (and b) [n] f32 or NULL; out may be x. */
bt_status bt_op_rmsnorm(bt_tensor *out, const bt_tensor *x, const bt_tensor *w, float eps);
bt_status bt_op_layernorm(bt_tensor *out, const bt_tensor *x, const bt_tensor *w, const bt_tensor *b, float eps);

/* RoPE in place over the first n_heads*head_dim columns of x [m, *], positions i32 [m]
 * (checked to be >= 0 on the CPU; device positions are not read back). */
bt_status bt_op_rope(bt_tensor *x, const bt_tensor *pos, int n_heads, int head_dim, int rot_dim,
                     float theta, bt_op_rope_style style);

/* Writes k, v ([m, n_kv*hd]) into the caches ([n_kv, ctx, hd], f32, f16 or q8_0: both of
 * one type; q8_0 needs hd a multiple of 32) at positions pos0.., then
 * out[i] = causal GQA attention of q[i] (position pos0+i) over positions 0..pos0+i. */
bt_status bt_op_attention(bt_tensor *out /* [m, n_head*hd] */, const bt_tensor *q,
                          const bt_tensor *k, const bt_tensor *v,
                          bt_tensor *k_cache, bt_tensor *v_cache, int64_t pos0, int n_head, float scale);

/* out = act(gate) * up; out = act(x); out = a + b; out = a * b. out may alias an input. */
bt_status bt_op_gated(bt_tensor *out, const bt_tensor *gate, const bt_tensor *up, bt_op_activation act);
bt_status bt_op_activate(bt_tensor *out, const bt_tensor *x, bt_op_activation act);
bt_status bt_op_add(bt_tensor *out, const bt_tensor *a, const bt_tensor *b);
bt_status bt_op_mul(bt_tensor *out, const bt_tensor *a, const bt_tensor *b);
bt_status bt_op_scale(bt_tensor *out, const bt_tensor *x, float s);   /* CPU only */

/* ---- weights on devices (ops_place.c) ------------------------------------------
 * bt_op_place_weight gives a copy of weight w (a CPU tensor, e.g. mapped from a
 * file) on device d in the layout d's kernels read: on a CUDA device a ternary
 * matrix (tq2_0, i2_s) is repacked once into the CUDA layout (its device bytes
 * are then not the file's: only ops read them), f16/f32 are copied as they are.
 * On the CPU it is a view of w. */
bt_status bt_op_place_weight(bt_tensor **out, const bt_tensor *w, bt_device d);
/* Bytes w takes on d once placed. */
bt_status bt_op_placed_bytes(const bt_tensor *w, bt_device d, size_t *out);
/* NULL when linear (with weight w) / attention (with these heads and RoPE) can run
 * on d; otherwise why not, written into why[cap]. Asked without touching a device. */
const char *bt_op_linear_unsupported(const bt_tensor *w, int act_quant, bt_device d, char *why, size_t cap);
const char *bt_op_attention_unsupported(int n_head, int n_kv, int head_dim, int rot_dim, bt_device d, char *why, size_t cap);
/* Device scratch the ops take on d for calls of up to max_rows rows of at most
 * max_k columns, attention at context ctx (0 on the CPU: its scratch is host memory). */
size_t bt_op_scratch_bytes(bt_device d, int64_t max_rows, int64_t max_k, int n_head, int head_dim, int64_t ctx);

#endif
