/* test_ttt_ref.h - what the TTT kernel tests (test_ttt_linear.c, test_ttt_mlp.c)
 * share: the inner LayerNorm and its L2-loss gradient in double (through the
 * explicit Jacobian, not the fused formula the kernels use), f32 tensors from
 * arrays, and the relative tolerance check. */
#ifndef BT_TEST_TTT_REF_H
#define BT_TEST_TTT_REF_H
#include <math.h>
#include <string.h>
#include "runtime/tensor.h"

enum { TTT_REF_MAX_D = 40 };   /* the widest inner LayerNorm the references take */

static inline void layernorm_double(double *y /* [d] */, double *xhat /* [d] */, double *std, const double *z,
                                    const float *w, const float *b, int d, double eps) {
    double mean = 0.0, var = 0.0;
    for (int c = 0; c < d; c++) mean += z[c];
    mean /= d;
    for (int c = 0; c < d; c++) var += (z[c] - mean) * (z[c] - mean);
    *std = sqrt(var / d + eps);
    for (int c = 0; c < d; c++) {
        xhat[c] = (z[c] - mean) / *std;
        y[c] = w[c] * xhat[c] + b[c];
    }
}

/* g = J^T (LN(z) - t) with J[c][k] = dLN(z)_c / dz_k = w_c (delta_ck - 1/d - xhat_c xhat_k / d) / std */
static inline void inner_gradient_double(double *g /* [d] */, const double *z, const double *t, const float *w,
                                         const float *b, int d, double eps) {
    double y[TTT_REF_MAX_D], xhat[TTT_REF_MAX_D], std;
    layernorm_double(y, xhat, &std, z, w, b, d, eps);
    for (int k = 0; k < d; k++) {
        g[k] = 0.0;
        for (int c = 0; c < d; c++) {
            const double jac = w[c] * ((c == k) - 1.0 / d - xhat[c] * xhat[k] / d) / std;
            g[k] += (y[c] - t[c]) * jac;
        }
    }
}

/* A CPU f32 tensor of the shape, filled from values (or uninitialized when NULL); NULL on failure. */
static inline bt_tensor *tensor_of(int ndim, const int64_t *shape, const float *values) {
    bt_tensor *t = NULL;
    if (bt_tensor_new(&t, BT_F32, ndim, shape, BT_CPU) != BT_OK) return NULL;
    if (values) memcpy(bt_tensor_data(t), values, bt_tensor_nbytes(t));
    return t;
}

static inline int close_to(double got, double ref, double tolerance) {
    return fabs(got - ref) <= tolerance * (1.0 + fabs(ref));
}

#endif
