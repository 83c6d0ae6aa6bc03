/* ops_ttt.h - the test-time-training layer operations model graphs call
 * (TTT-Linear, TTT-MLP and the Bit-TTT `fastweight` rule), in front of
 * kernels/cpu/ttt_linear.h, ttt_mlp.h and ttt_fastweight.h.
 *
 * Like runtime/ops.h: each op checks shapes, dtypes and devices once and runs
 * the kernel on raw pointers; errors name the op and what did not match. The
 * fast-weight state is always f32, whatever the projections around it are.
 */
#ifndef BT_OPS_TTT_H
#define BT_OPS_TTT_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "tensor.h"
#include "kernels/cpu/causal_conv.h"   /* BT_CAUSAL_CONV_MAX_KERNEL, for callers of bt_op_causal_conv */

typedef enum bt_ttt_form {
    BT_TTT_FORM_AUTO = 0,   /* dual form for spans of several tokens, primal for single tokens */
    BT_TTT_FORM_DUAL,
    BT_TTT_FORM_PRIMAL
} bt_ttt_form;

/* eta [m, n_head] in place: eta = scale * mult[j] * sigmoid(eta + bias[h]);
 * bias: n_head values; mult: m values, or NULL for ones. */
bt_status bt_op_ttt_eta(bt_tensor *eta, const bt_tensor *bias, const bt_tensor *mult, float scale);

/* Forgetting: after each completed mini-batch the fast weights keep `keep` of their
 * distance from `toward` (the layer's initial weights, [n_head, head_dim + 1, head_dim]). */
typedef struct bt_ttt_decay {
    const bt_tensor *toward;
    float keep;   /* in [0, 1]; 1: no decay */
} bt_ttt_decay;

/* How bt_op_ttt_linear splits its tokens (on every device): the span starting `done` tokens
 * into a call at pos0 has in-batch index *first and runs to the end of its mini-batch or
 * of the call; its length. After it, a decay step is due when *first + length == mini_batch. */
static inline int64_t bt_ttt_span_at(int64_t pos0, int64_t done, int64_t m, int64_t mini_batch, int64_t *first) {
    *first = (pos0 + done) % mini_batch;
    return m - done < mini_batch - *first ? m - done : mini_batch - *first;
}
/* 1 when a span of n tokens takes the primal form (decode) rather than the dual (prefill). */
static inline int bt_ttt_span_primal(bt_ttt_form form, int64_t n) {
    switch (form) {
    case BT_TTT_FORM_AUTO: return n == 1;
    case BT_TTT_FORM_DUAL: return 0;
    case BT_TTT_FORM_PRIMAL: return 1;
    }
    return 0;   /* not a form: bt_op_ttt_linear refuses it before any span */
}

/* Floats of scratch bt_op_ttt_linear needs for up to max_tok tokens per call
 * (spans never exceed the mini-batch, so min(max_tok, mini_batch) is enough). */
size_t bt_op_ttt_linear_scratch_floats(int64_t max_tok, int n_head, int head_dim);

/* TTT-Linear over m tokens at absolute positions pos0 .. pos0 + m - 1: splits
 * them at mini-batch boundaries (the mini-batch size is token_scale's length)
 * and runs each span in the dual or primal form (see bt_ttt_form).
 *   out, xq, xk, xv: [m, n_head * head_dim] f32 (xq, xk after RoPE); out may not alias them
 *   weights, grads:  [n_head, head_dim + 1, head_dim] f32 (the layer's state, updated)
 *   eta:             [m, n_head] (bt_op_ttt_eta's output)
 *   token_scale:     [mini_batch] s_i = max(0, 1/(i+1) + learnable_token_idx[i])
 *   ln_w, ln_b:      n_head * head_dim values: the inner LayerNorm of every head
 *   scratch:         CPU: f32 of at least bt_op_ttt_linear_scratch_floats(m, ...) values;
 *                    with the tensors on a GPU it is not used (may be NULL)
 *   decay:           forgetting after each completed mini-batch, or NULL for none
 * Every tensor lives on one device: the CPU or a CUDA device (kernels/cuda/ttt_linear.cu). */
bt_status bt_op_ttt_linear(bt_tensor *out, bt_tensor *weights, bt_tensor *grads, const bt_tensor *xq,
                           const bt_tensor *xk, const bt_tensor *xv, const bt_tensor *eta,
                           const bt_tensor *token_scale, const bt_tensor *ln_w, const bt_tensor *ln_b, float eps,
                           int64_t pos0, bt_tensor *scratch, bt_ttt_form form,
                           const bt_ttt_decay *decay);

/* Floats of scratch bt_op_ttt_mlp needs for up to max_tok tokens per call. */
size_t bt_op_ttt_mlp_scratch_floats(int64_t max_tok, int n_head, int head_dim, int hidden);

/* TTT-MLP (kernels/cpu/ttt_mlp.h) over m tokens at positions pos0 .., split like bt_op_ttt_linear:
 *   weights, grads: [n_head, (d + 1) * hidden + (hidden + 1) * d] f32 (per head W1' then W2', biases
 *                   as the last rows; the layer's state, updated); hidden: the MLP's width (4 d)
 *   the other arguments as bt_op_ttt_linear's. CPU only (no CUDA kernels yet). */
bt_status bt_op_ttt_mlp(bt_tensor *out, bt_tensor *weights, bt_tensor *grads, const bt_tensor *xq,
                        const bt_tensor *xk, const bt_tensor *xv, const bt_tensor *eta, const bt_tensor *token_scale,
                        const bt_tensor *ln_w, const bt_tensor *ln_b, float eps, int64_t pos0, int hidden,
                        bt_tensor *scratch, bt_ttt_form form);

/* x [m, width] *= gelu_tanh(gate [m, width]) in place (the TTT layers' use_gate). CPU only. */
bt_status bt_op_gelu_gate(bt_tensor *x, const bt_tensor *gate);

/* The fastweight rule over m tokens: k [m, d] holds down(x) and is normalized in
 * place; p [m, d] gets W k_j (before each update); W [d, d] is updated; eta: m values. */
bt_status bt_op_fastweight(bt_tensor *p, bt_tensor *W, bt_tensor *k, const bt_tensor *eta);

/* x [m, width] in place through a depthwise causal conv of kernel K (kernels/cpu/causal_conv.h):
 *   history: [K-1, width], the stream's last K-1 inputs (updated; zeros for a new stream; NULL when K = 1)
 *   w: [K, width] (row K-1 multiplies the current token); bias: width values or NULL */
bt_status bt_op_causal_conv(bt_tensor *x, bt_tensor *history, const bt_tensor *w, const bt_tensor *bias);

#endif
