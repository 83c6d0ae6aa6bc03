/* rope.c - rotary position embedding (see rope.h). Plain C: a handful of
 * cosf/sinf per row and head dimension, next to the matmuls that make q and k. */
#include "rope.h"
#include <math.h>

enum {
    FREQ_CHUNK = 256,            /* pair frequencies computed at a time (stack array) */
    PARALLEL_MIN = 1 << 14       /* fewer values than this stay on one thread */
};

void bt_rope(float *x, const int32_t *pos, int64_t m, int64_t row_stride, int n_heads, int head_dim, int rot_dim,
             float theta, bt_op_rope_style style) {
    const int pairs = rot_dim / 2;
    int stride = 0, partner = 0;   /* index step from one pair to the next; offset of b from a within a pair */
    switch (style) {
    case BT_OP_ROPE_INTERLEAVED: stride = 2, partner = 1; break;
    case BT_OP_ROPE_NEOX: stride = 1, partner = pairs; break;
    }
    if (!stride) return;   /* not a style: bt_op_rope refuses it before calling */
    for (int i0 = 0; i0 < pairs; i0 += FREQ_CHUNK) {
        const int count = pairs - i0 < FREQ_CHUNK ? pairs - i0 : FREQ_CHUNK;
        float freq[FREQ_CHUNK];
        for (int i = 0; i < count; i++) freq[i] = 1.0f / powf(theta, (float)(2 * (i0 + i)) / (float)rot_dim);
#pragma omp parallel for schedule(static) if (m > 1 && m * n_heads * head_dim >= PARALLEL_MIN)
        for (int64_t r = 0; r < m; r++) {
            float *row = x + r * row_stride;
            const float p = (float)pos[r];
            for (int i = 0; i < count; i++) {
                const float angle = p * freq[i];
                const float c = cosf(angle), s = sinf(angle);
                for (int h = 0; h < n_heads; h++) {
                    float *a = row + (int64_t)h * head_dim + (i0 + i) * stride, *b = a + partner;
                    const float a0 = *a, b0 = *b;
                    *a = a0 * c - b0 * s;
                    *b = a0 * s + b0 * c;
                }
            }
        }
    }
}
