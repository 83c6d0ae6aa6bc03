/* ttt_mlp.h - TTT-MLP (Sun et al. 2024): the TTT layer whose hidden state is,
 * per head (head dim d, hidden width F = 4d in ttt-lm-pytorch), a two-layer MLP
 *
 *   f(x) = gelu(x W1 + b1) W2 + b2       W1 [d, F], b1 [F], W2 [F, d], b2 [d]
 *
 * (gelu: the tanh approximation) trained by the same mini-batch rule as
 * TTT-Linear (ttt_linear.h). For the tokens j of a mini-batch, all at the start
 * state of the mini-batch:
 *
 *   Z1_j = XK_j W1 + b1,  X2_j = gelu(Z1_j),  Z2_j = X2_j W2 + b2
 *   g2_j = d/dZ2 1/2 || LN(Z2_j) - (XV_j - XK_j) ||^2
 *   g1_j = (g2_j W2^T) * gelu'(Z1_j)
 *   G1_i = sum_{j<=i} eta_j [XK_j, 1]^T g1_j,   G2_i = sum_{j<=i} eta_j [X2_j, 1]^T g2_j
 *   out_i = XQ_i + LN( [gelu([XQ_i, 1] (W1' - s_i G1_i)), 1] (W2' - s_i G2_i) )
 *   after token B-1:  W1' -= s_{B-1} G1,  W2' -= s_{B-1} G2,  G1 = G2 = 0
 *
 * where W1' = [W1; b1] and W2' = [W2; b2] keep the bias as their last row. A
 * head's state is W1' [d + 1, F] followed by W2' [F + 1, d]
 * (bt_ttt_mlp_head_floats); `weights` and `grads` are [n_head, that] f32, like
 * TTT-Linear's: the values at the start of the mini-batch and the lr-weighted
 * gradient sums of the tokens of it seen so far.
 *
 * The dual form (spans of several tokens) computes out_i from token pairs
 * ([XQ_i,1].[XK_j,1] and [X2bar_i,1].[X2_j,1]) without forming per-token
 * weights; the primal form (decode) adds each token's gradient to `grads` and
 * applies W' - s_i G. Both take spans that start anywhere inside a mini-batch
 * (bt_ttt_linear_span: first, n_tok); a span that ends the mini-batch commits.
 * Heads are split over OpenMP threads; the row operations use ttt_vec.h (SIMD).
 */
#ifndef BT_TTT_MLP_H
#define BT_TTT_MLP_H
#include <stddef.h>
#include <stdint.h>
#include "ttt_linear.h"

/* Floats of one head's state: (d + 1) * F + (F + 1) * d. */
size_t bt_ttt_mlp_head_floats(int head_dim, int hidden);

/* Floats of scratch the kernels need for spans of up to max_tok tokens. */
size_t bt_ttt_mlp_scratch_floats(int max_tok, int n_head, int head_dim, int hidden);

/* gelu with the tanh approximation, and its derivative (ttt-lm-pytorch's gelu_bwd constants). */
float bt_gelu_tanh(float x);
float bt_gelu_tanh_grad(float x);

/* out[i] *= gelu_tanh(gate[i]): ttt-lm-pytorch's use_gate on the TTT output. */
void bt_gelu_tanh_gate(float *out /* [n] */, const float *gate /* [n] */, int64_t n);

void bt_ttt_mlp_dual(float *out /* [n_tok, row_stride] */, float *weights /* [n_head, head_floats] */,
                     float *grads /* [n_head, head_floats] */, const bt_ttt_linear_span *span,
                     const bt_ttt_linear_norm *norm, int n_head, int head_dim, int hidden, float *scratch);

void bt_ttt_mlp_primal(float *out /* [n_tok, row_stride] */, float *weights /* [n_head, head_floats] */,
                       float *grads /* [n_head, head_floats] */, const bt_ttt_linear_span *span,
                       const bt_ttt_linear_norm *norm, int n_head, int head_dim, int hidden, float *scratch);

#endif
