/* ops_cuda.h - the CUDA half of runtime/ops.h, compiled only with BT_HAVE_CUDA
 * (runtime/ops_cuda*.c).
 *
 * ops.c checks shapes, dtypes and that every tensor of an op lives on one
 * device, then calls these with the sizes it checked; they take device
 * pointers from the tensors and enqueue kernels on the device's default
 * stream (so everything on one device runs in order; copies to and from the
 * CPU synchronize). CUDA errors come back as BT_ERR_DEVICE with the kernel
 * wrapper's message; faults inside a kernel show at the next copy.
 *
 * Device scratch (int8 activations, attention partials, positions) comes
 * from the pool and grows to the largest call seen: decoding allocates nothing.
 *
 * Weights: a ternary matrix placed on a GPU (bt_op_cuda_place_weight) keeps its
 * dtype and shape [n, k], but its device bytes are the CUDA layout of
 * kernels/cuda/ternary_layout.cuh and its `prepared` field describes them;
 * float weights are plain contiguous copies.
 */
#ifndef BT_OPS_CUDA_H
#define BT_OPS_CUDA_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "ops.h"
#include "ops_ttt.h"
#include "tensor.h"

/* In ops.c and ops_place.c: `BT_OP_ON_CUDA(dev, call);` returns call's status when dev
 * is a CUDA device (BT_ERR_DEVICE in a build without CUDA), and does nothing for the CPU. */
#ifdef BT_HAVE_CUDA
#define BT_OP_ON_CUDA(dev, call) \
    do { if ((dev).type == BT_DEVICE_CUDA) return (call); } while (0)
#else
#define BT_OP_ON_CUDA(dev, call) \
    do { if ((dev).type == BT_DEVICE_CUDA) return bt_set_error(BT_ERR_DEVICE, "cuda:%d: no CUDA support compiled in", (dev).index); } while (0)
#endif

/* ---- the ops (arguments as checked by ops.c) ------------------------------- */
bt_status bt_op_cuda_get_rows(bt_tensor *out /* [m, d] */, const bt_tensor *table /* [vocab, d] */,
                              const bt_tensor *ids /* [m] i32 */, int64_t m, int64_t d, int64_t vocab);
bt_status bt_op_cuda_linear(bt_tensor *out /* [m, n] */, const bt_tensor *w /* [n, k] */, const bt_tensor *x /* [m, k] */,
                            int64_t m, int64_t n, int64_t k, int act_quant);
/* count linears over one x (bt_op_linear_group); n of each from its weight. */
bt_status bt_op_cuda_linear_group(bt_tensor *const *out, bt_tensor *const *w, int count, const bt_tensor *x, int64_t m,
                                  int64_t k, int act_quant);
bt_status bt_op_cuda_rmsnorm(bt_tensor *out /* [m, n] */, const bt_tensor *x /* [m, n] */, const bt_tensor *w /* [n] or NULL */,
                             int64_t m, int64_t n, float eps);
bt_status bt_op_cuda_rope(bt_tensor *x /* [m, cols] */, const bt_tensor *pos /* [m] i32 */, int64_t m, int64_t cols,
                          int n_heads, int head_dim, int rot_dim, float theta, bt_op_rope_style style);
bt_status bt_op_cuda_attention(bt_tensor *out /* [m, n_head*hd] */, const bt_tensor *q /* [m, n_head*hd] */,
                               const bt_tensor *k /* [m, n_kv*hd] */, const bt_tensor *v /* [m, n_kv*hd] */,
                               bt_tensor *k_cache /* [n_kv, ctx, hd] */, bt_tensor *v_cache /* [n_kv, ctx, hd] */,
                               int64_t m, int64_t pos0, int n_head, float scale);
bt_status bt_op_cuda_layernorm(bt_tensor *out /* [m, n] */, const bt_tensor *x /* [m, n] */, const bt_tensor *w /* [n] or NULL */,
                               const bt_tensor *b /* [n] or NULL */, int64_t m, int64_t n, float eps);
/* The TTT ops of ops_ttt.h (ops_cuda_ttt.c), with the sizes ops_ttt.c checked. */
bt_status bt_op_cuda_ttt_eta(bt_tensor *eta /* [m, n_head] */, const bt_tensor *bias /* [n_head] */,
                             const bt_tensor *mult /* [m] or NULL */, float scale, int64_t m, int64_t n_head);
bt_status bt_op_cuda_ttt_linear(bt_tensor *out, bt_tensor *weights, bt_tensor *grads, const bt_tensor *xq,
                                const bt_tensor *xk, const bt_tensor *xv, const bt_tensor *eta,
                                const bt_tensor *token_scale, const bt_tensor *ln_w, const bt_tensor *ln_b, float eps,
                                int64_t pos0, bt_ttt_form form, const bt_ttt_decay *decay, int64_t m, int64_t n_head,
                                int64_t head_dim, int64_t mini_batch);
bt_status bt_op_cuda_causal_conv(bt_tensor *x /* [m, width] */, bt_tensor *history /* [K-1, width] or NULL */,
                                 const bt_tensor *w /* [K, width] */, const bt_tensor *bias /* [width] or NULL */,
                                 int64_t m, int64_t width, int kernel);
/* Elementwise over n values: out = act(gate) * up, act(x), a + b, a * b. */
bt_status bt_op_cuda_gated(bt_tensor *out, const bt_tensor *gate, const bt_tensor *up, int64_t n, bt_op_activation act);
bt_status bt_op_cuda_activate(bt_tensor *out, const bt_tensor *x, int64_t n, bt_op_activation act);
bt_status bt_op_cuda_add(bt_tensor *out, const bt_tensor *a, const bt_tensor *b, int64_t n);
bt_status bt_op_cuda_mul(bt_tensor *out, const bt_tensor *a, const bt_tensor *b, int64_t n);

/* ---- placement (ops_place.c's CUDA side) ------------------------------------ */
/* A copy of w on CUDA device d: ternary (tq2_0, i2_s) repacked into the CUDA layout, f16/f32 as they are. */
bt_status bt_op_cuda_place_weight(bt_tensor **out, const bt_tensor *w, bt_device d);
/* Bytes w takes once placed (TQ2_0: reads every block scale to see whether rows need per-block scales). */
bt_status bt_op_cuda_placed_bytes(const bt_tensor *w, size_t *out);
/* NULL when the op's kernels accept these shapes and dtypes; else a reason in why[cap].
 * Asked without touching a GPU (the kernel wrappers check a zero-row call). */
const char *bt_op_cuda_linear_unsupported(const bt_tensor *w, int act_quant, char *why, size_t cap);
const char *bt_op_cuda_attention_unsupported(int n_head, int n_kv, int head_dim, int rot_dim, char *why, size_t cap);
/* Device scratch the ops take for calls of up to max_rows rows and max_k columns (attention at context ctx). */
size_t bt_op_cuda_scratch_bytes(int64_t max_rows, int64_t max_k, int n_head, int head_dim, int64_t ctx);

/* ---- shared by the ops_cuda files -------------------------------------------- */
/* The CUDA descriptor of a placed ternary weight, or NULL if w was not placed by bt_op_cuda_place_weight. */
const struct bt_cuda_ternary *bt_op_cuda_ternary_of(const bt_tensor *w);
/* BT_ERR_DEVICE "op: <the CUDA message>" when rc != 0. */
bt_status bt_op_cuda_result(int rc, const char *op, const char *err);
/* Device scratch slot `slot` of device dev with at least `bytes` bytes (grown through the pool). */
enum { BT_OP_CUDA_SCRATCH_Q8, BT_OP_CUDA_SCRATCH_ATTENTION, BT_OP_CUDA_SCRATCH_POSITIONS, BT_OP_CUDA_SCRATCH_SLOTS };
bt_status bt_op_cuda_scratch(void **out, bt_device dev, int slot, size_t bytes);

#endif
