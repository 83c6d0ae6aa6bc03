/* ttt_fastweight.c - the Bit-TTT `fastweight` rule (see ttt_fastweight.h). */
#include "ttt_fastweight.h"
#include <math.h>
#include "ttt_vec.h"

enum { PARALLEL_MIN = 1 << 15 };   /* multiply-adds below which one thread does all rows */

void bt_fastweight_forward(float *p, float *W, float *k, const float *eta, int64_t n_tok, int d) {
    for (int64_t j = 0; j < n_tok; j++) {
        float *kj = k + j * d;
        double ss = 0.0;
        for (int c = 0; c < d; c++) ss += (double)kj[c] * kj[c];
        const float inv = 1.0f / ((float)sqrt(ss) + BT_FASTWEIGHT_NORM_EPS);
        for (int c = 0; c < d; c++) kj[c] *= inv;
    }
    const bt_ttt_vec v = bt_ttt_vec_get();
#pragma omp parallel for schedule(static) if (n_tok * d * d >= PARALLEL_MIN)
    for (int r = 0; r < d; r++) {
        float *wr = W + (int64_t)r * d;
        for (int64_t j = 0; j < n_tok; j++) {
            const float *kj = k + j * d;
            const float pr = v.dot(wr, kj, d);
            p[j * d + r] = pr;
            v.axpy(wr, -eta[j] * (pr - kj[r]), kj, d);
        }
    }
}
