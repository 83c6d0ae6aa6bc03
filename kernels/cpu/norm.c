/* norm.c - RMSNorm and LayerNorm over rows (see norm.h). Plain C: a norm is a
 * few microseconds per token, far below the matmuls around it. */
#include "norm.h"
#include <math.h>

enum { PARALLEL_MIN = 1 << 15 };   /* fewer values than this stay on one thread */

/* sum of (x[i] - shift)^2, with four partial sums to keep the adds independent */
static double sum_squares(const float *x, int64_t n, double shift) {
    double s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int u = 0; u < 4; u++) s[u] += (x[i + u] - shift) * (x[i + u] - shift);
    for (; i < n; i++) s[0] += (x[i] - shift) * (x[i] - shift);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

void bt_rmsnorm(float *out, const float *x, const float *w, int64_t m, int64_t n, float eps) {
    if (n <= 0) return;
#pragma omp parallel for schedule(static) if (m > 1 && m * n >= PARALLEL_MIN)
    for (int64_t r = 0; r < m; r++) {
        const float *xr = x + r * n;
        float *outr = out + r * n;
        const float inv = (float)(1.0 / sqrt(sum_squares(xr, n, 0.0) / (double)n + (double)eps));
        for (int64_t i = 0; i < n; i++) outr[i] = w ? w[i] * (inv * xr[i]) : inv * xr[i];
    }
}

void bt_layernorm(float *out, const float *x, const float *w, const float *b, int64_t m, int64_t n, float eps) {
    if (n <= 0) return;
#pragma omp parallel for schedule(static) if (m > 1 && m * n >= PARALLEL_MIN)
    for (int64_t r = 0; r < m; r++) {
        const float *xr = x + r * n;
        float *outr = out + r * n;
        double sum = 0.0;
        for (int64_t i = 0; i < n; i++) sum += xr[i];
        const double mean = sum / (double)n;
        const double inv = 1.0 / sqrt(sum_squares(xr, n, mean) / (double)n + (double)eps);
        for (int64_t i = 0; i < n; i++) {
            float v = (float)((xr[i] - mean) * inv);   /* in double: mean may be large next to the spread */
            if (w) v *= w[i];
            outr[i] = b ? v + b[i] : v;
        }
    }
}
