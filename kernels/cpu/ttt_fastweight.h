/* ttt_fastweight.h - the `fastweight` rule of the original Bit-TTT engine, kept
 * for its models. Per layer a matrix W [d, d] (d is a quarter of the model
 * width), zero at the start of a sequence; for each token j in order:
 *
 *   k_j = f_j / (||f_j|| + 1e-6)          f_j = down(x_j), the token's features
 *   p_j = W k_j                            (W before this token's update)
 *   W  <- W - eta_j (p_j - k_j) k_j^T      one gradient step on 1/2 ||W k - k||^2
 *
 * and the layer outputs up(p_j). The inner loss asks W to reproduce k from k
 * itself (an autoencoder of the features that drifts towards the identity on
 * the subspace it has seen), so unlike a key -> value memory it cannot recall
 * anything it was not given: it is not an associative memory.
 *
 * Row r of W only ever meets row r of the update, so rows are split over
 * OpenMP threads and each thread walks all tokens for its rows.
 */
#ifndef BT_TTT_FASTWEIGHT_H
#define BT_TTT_FASTWEIGHT_H
#include <stdint.h>

#define BT_FASTWEIGHT_NORM_EPS 1e-6f

/* Normalizes k in place (features in, k_j out), then p and the updated W. */
void bt_fastweight_forward(float *p /* [n_tok, d] */, float *W /* [d, d] */, float *k /* [n_tok, d] */,
                           const float *eta /* [n_tok] */, int64_t n_tok, int d);

#endif
