/* rope.h - rotary position embedding, in place, for rows of several heads.
 *
 * In each head the first rot_dim values form rot_dim/2 pairs; pair i turns by
 * angle pos * theta^(-2i/rot_dim). Values past rot_dim are left alone. Two
 * pairings: interleaved (2i, 2i+1) as in llama2.c, GGUF `llama` and TTT, and
 * NeoX half-split (i, i + rot_dim/2) as in HF rotate_half and BitNet b1.58:
 *     a' = a cos - b sin,   b' = a sin + b cos.
 *
 * Angles follow the float32 recipe of llama2.c and of PyTorch's inv_freq:
 * freq_i = 1 / powf(theta, (float)(2i) / rot_dim), angle = (float)pos * freq_i,
 * cosf / sinf. The interleaved path therefore reproduces llama2.c's run.c bit
 * for bit. Against exact math the angle is off by a few float ulps (at most
 * 5.4e-7 * |angle| for theta <= 1e6, rot_dim <= 256), as in those references.
 */
#ifndef BT_ROPE_H
#define BT_ROPE_H
#include <stdint.h>
#include "base/kinds.h"   /* bt_op_rope_style */

/* Rotates x[r, h*head_dim ...] for every row r < m and head h < n_heads by the
 * row's own position pos[r] (any value >= 0: TTT uses position % mini_batch).
 * rot_dim is even and <= head_dim; rows start row_stride floats apart. */
void bt_rope(float *x /* [m, row_stride], n_heads * head_dim used */, const int32_t *pos /* [m] */,
             int64_t m, int64_t row_stride, int n_heads, int head_dim, int rot_dim, float theta,
             bt_op_rope_style style);

#endif
