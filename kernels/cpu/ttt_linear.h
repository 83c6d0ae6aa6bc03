/* ttt_linear.h - TTT-Linear (Sun et al. 2024, "Learning to (Learn at Test
 * Time)"): a layer whose hidden state is, per head, a linear model that takes
 * one gradient step per mini-batch of tokens while it reads them.
 *
 * Per head (head dim d), with fast weights W [d, d], b [d] and LN, a LayerNorm
 * with its own weight and bias, for the tokens j of a mini-batch of B tokens:
 *
 *   Z_j   = XK_j W + b                                (row vector times W)
 *   g_j   = d/dZ 1/2 || LN(Z) - (XV_j - XK_j) ||^2   at Z_j   (all at the start state)
 *   G_i   = sum_{j<=i} eta_j XK_j^T g_j,   Gb_i = sum_{j<=i} eta_j g_j
 *   out_i = XQ_i + LN(XQ_i (W - s_i G_i) + b - s_i Gb_i)
 *   after token B-1:  W <- W - s_{B-1} G_{B-1},  b <- b - s_{B-1} Gb_{B-1},  G = Gb = 0
 *
 * eta_j is the token's inner learning rate (bt_ttt_eta), s_i the position scale
 * of in-batch index i (max(0, 1/(i+1) + learnable_token_idx[i])).
 *
 * Storage: b is kept as row d of the weights, so a head's fast weights are one
 * [d + 1, d] matrix (Z = [x, 1] W); G and Gb likewise. The whole state of a
 * layer is `weights` and `grads`, each [n_head, d + 1, d] float32. `weights`
 * holds the values at the start of the current mini-batch, `grads` the
 * lr-weighted gradients summed over the tokens of it seen so far (zero at a
 * mini-batch boundary).
 *
 * Two forms compute the same thing for a span of tokens inside one mini-batch:
 *   dual   - matrix products over the span (XQ XK^T-like token pairs); no
 *            per-token weights; used for prompts;
 *   primal - one token at a time: add its gradient to `grads`, then apply
 *            W - s_i G; used for decoding.
 * A span ending at in-batch index B-1 commits the step (the op may then decay the
 * weights toward their initial values: bt_ttt_linear_decay). Spans may start
 * anywhere inside a mini-batch (a prompt ending mid-batch continues in decode);
 * `grads` must be zero when a span starts a mini-batch (first == 0), as the
 * kernels leave them after a commit and as a fresh state has them.
 *
 * Heads are split over OpenMP threads. Kernels allocate nothing: the caller
 * passes `scratch` of bt_ttt_linear_scratch_floats() floats.
 */
#ifndef BT_TTT_LINEAR_H
#define BT_TTT_LINEAR_H
#include <stddef.h>
#include <stdint.h>

/* The tokens of one span: in-batch indexes first .. first + n_tok - 1 of a
 * mini-batch of mini_batch tokens (first + n_tok <= mini_batch). */
typedef struct bt_ttt_linear_span {
    const float *xq, *xk, *xv;   /* [n_tok, row_stride] each; head h at columns h*d .. h*d + d - 1 (RoPE applied) */
    const float *eta;            /* [n_tok, n_head] inner learning rates */
    const float *token_scale;    /* [mini_batch] s_i of every in-batch index */
    int64_t row_stride;          /* floats between rows of xq, xk, xv and out (>= n_head * d) */
    int first, n_tok, mini_batch;
} bt_ttt_linear_span;

/* The inner model's LayerNorm. */
typedef struct bt_ttt_linear_norm {
    const float *weight, *bias;  /* [n_head, d] each */
    float eps;
} bt_ttt_linear_norm;

/* Forgetting after a committed step: weights = toward + keep * (weights - toward), n floats. */
void bt_ttt_linear_decay(float *weights, const float *toward, float keep, size_t n);

/* Floats of scratch the kernels need for spans of up to max_tok tokens. */
size_t bt_ttt_linear_scratch_floats(int max_tok, int n_head, int head_dim);

/* eta[j, h] = scale * mult[j] * sigmoid(logit[j, h] + bias[h]); eta may be logit;
 * mult NULL means all ones. TTT-Linear uses scale = base_lr / head_dim. */
void bt_ttt_eta(float *eta /* [n_tok, n_head] */, const float *logit /* [n_tok, n_head] */,
                const float *bias /* [n_head] */, const float *mult /* [n_tok] or NULL */, float scale,
                int64_t n_tok, int n_head);

/* g = d/dz 1/2 || LN(z) - target ||^2 (LayerNorm with weight w, bias b, biased
 * variance); g may be the same array as target. */
void bt_ttt_ln_l2_grad(float *g /* [d] */, const float *z /* [d] */, const float *target /* [d] */,
                       const float *w /* [d] */, const float *b /* [d] */, int d, float eps);

/* out = x + LN(z) (the inner LayerNorm with weight w, bias b; biased variance). */
void bt_ttt_add_layernorm(float *out /* [d] */, const float *x /* [d] */, const float *z /* [d] */, const float *w,
                          const float *b, int d, float eps);

/* out[j] = XQ_j + LN(...) for every token of the span, per head; updates grads and,
 * when the span ends the mini-batch, weights. Dual form. */
void bt_ttt_linear_dual(float *out /* [n_tok, row_stride] */, float *weights /* [n_head, d + 1, d] */,
                        float *grads /* [n_head, d + 1, d] */, const bt_ttt_linear_span *span,
                        const bt_ttt_linear_norm *norm, int n_head, int head_dim, float *scratch);

/* The same, primal form: token by token. */
void bt_ttt_linear_primal(float *out /* [n_tok, row_stride] */, float *weights /* [n_head, d + 1, d] */,
                          float *grads /* [n_head, d + 1, d] */, const bt_ttt_linear_span *span,
                          const bt_ttt_linear_norm *norm, int n_head, int head_dim, float *scratch);

#endif
