/* ttt_linear.c - TTT-Linear dual and primal forms on the CPU (see ttt_linear.h).
 *
 * Per token and head the work is a few d x d products (d = 32..128). They run
 * along rows of W as axpy and dot calls (ttt_vec.h: scalar, AVX2 or AVX-512,
 * chosen once per call); heads go to OpenMP threads. The O(d) LayerNorm steps
 * are plain C with sums in double.
 */
#include "ttt_linear.h"
#include <math.h>
#include <string.h>
#include "ttt_vec.h"

enum { PARALLEL_MIN = 1 << 15 };   /* multiply-adds below which one thread does all heads */

/* Floats of scratch one head uses for a span of n_tok tokens:
 * dual: the gradients [n_tok, d] and one query row [d]; primal: z, g, query row [d] each. */
static size_t head_scratch_floats(int n_tok, int d) { return (size_t)(n_tok > 2 ? n_tok : 2) * d + d; }

size_t bt_ttt_linear_scratch_floats(int max_tok, int n_head, int head_dim) {
    return (size_t)n_head * head_scratch_floats(max_tok, head_dim);
}

void bt_ttt_linear_decay(float *weights, const float *toward, float keep, size_t n) {
    for (size_t i = 0; i < n; i++) weights[i] = toward[i] + keep * (weights[i] - toward[i]);
}

void bt_ttt_eta(float *eta, const float *logit, const float *bias, const float *mult, float scale, int64_t n_tok,
                int n_head) {
    for (int64_t j = 0; j < n_tok; j++) {
        const float m = mult ? scale * mult[j] : scale;
        for (int h = 0; h < n_head; h++) {
            const float a = logit[j * n_head + h] + bias[h];
            eta[j * n_head + h] = m / (1.0f + expf(-a));
        }
    }
}

/* mean and 1/sqrt(var + eps) of z [d] (biased variance, sums in double) */
static void moments(const float *z, int d, float eps, double *mean, double *inv_std) {
    double s = 0.0, ss = 0.0;
    for (int c = 0; c < d; c++) s += z[c];
    *mean = s / d;
    for (int c = 0; c < d; c++) ss += (z[c] - *mean) * (z[c] - *mean);
    *inv_std = 1.0 / sqrt(ss / d + (double)eps);
}

/* LN(z) = w * (z - mean) / sqrt(var + eps) + b, and its L2 loss gradient:
 * with e = LN(z) - t and ge = e * w,  dL/dz = (d ge - sum(ge) - zhat sum(ge zhat)) / (d std). */
void bt_ttt_ln_l2_grad(float *g, const float *z, const float *target, const float *w, const float *b, int d,
                       float eps) {
    double mean, inv_std;
    moments(z, d, eps, &mean, &inv_std);
    double sum_ge = 0.0, sum_ge_zhat = 0.0;
    for (int c = 0; c < d; c++) {
        const float zhat = (float)((z[c] - mean) * inv_std);
        const float ge = (w[c] * zhat + b[c] - target[c]) * w[c];   /* reads target[c] before g[c] is written */
        sum_ge += ge;
        sum_ge_zhat += (double)ge * zhat;
        g[c] = ge;
    }
    const float k = (float)(inv_std / d);
    for (int c = 0; c < d; c++) {
        const float zhat = (float)((z[c] - mean) * inv_std);
        g[c] = k * (float)(d * (double)g[c] - sum_ge - zhat * sum_ge_zhat);
    }
}

void bt_ttt_add_layernorm(float *out, const float *x, const float *z, const float *w, const float *b, int d,
                          float eps) {
    double mean, inv_std;
    moments(z, d, eps, &mean, &inv_std);
    for (int c = 0; c < d; c++) out[c] = x[c] + (w[c] * (float)((z[c] - mean) * inv_std) + b[c]);
}

/* z += a [x, 1] A for a [d + 1, d] matrix A (bias in row d) */
static void add_affine(const bt_ttt_vec *v, float *z /* [d] */, float a, const float *x /* [d] */,
                       const float *A /* [d + 1, d] */, int d) {
    for (int r = 0; r < d; r++) v->axpy(z, a * x[r], A + (size_t)r * d, d);
    v->axpy(z, a, A + (size_t)d * d, d);
}

/* A += a [x, 1]^T g (the outer product, bias row included) */
static void add_outer(const bt_ttt_vec *v, float *A /* [d + 1, d] */, float a, const float *x /* [d] */,
                      const float *g /* [d] */, int d) {
    for (int r = 0; r < d; r++) v->axpy(A + (size_t)r * d, a * x[r], g, d);
    v->axpy(A + (size_t)d * d, a, g, d);
}

/* gradient of token j of the span at the start weights W: g = grad(LN, [XK_j, 1] W, XV_j - XK_j) */
static void token_gradient(const bt_ttt_vec *v, float *g /* [d] */, float *z /* [d] */, const float *xk,
                           const float *xv, const float *W /* [d + 1, d] */, const float *ln_w, const float *ln_b,
                           int d, float eps) {
    memset(z, 0, sizeof(float) * d);
    add_affine(v, z, 1.0f, xk, W, d);
    for (int c = 0; c < d; c++) g[c] = xv[c] - xk[c];
    bt_ttt_ln_l2_grad(g, z, g, ln_w, ln_b, d, eps);
}

/* At the end of a mini-batch: W -= s_last G, G = 0. */
static void commit(const bt_ttt_vec *v, float *W /* [d + 1, d] */, float *G /* [d + 1, d] */, float s_last, int d) {
    for (int r = 0; r <= d; r++) v->axpy(W + (size_t)r * d, -s_last, G + (size_t)r * d, d);
    memset(G, 0, sizeof(float) * (size_t)(d + 1) * d);
}

static int span_ends_batch(const bt_ttt_linear_span *sp) { return sp->first + sp->n_tok == sp->mini_batch; }

/* Dual form for head h. */
static void dual_head(const bt_ttt_vec *v, float *out, float *W, float *G, const bt_ttt_linear_span *sp,
                      const bt_ttt_linear_norm *nm, int h, int n_head, int d, float *scratch) {
    const int K = sp->n_tok;
    const int64_t rs = sp->row_stride;
    const size_t col = (size_t)h * d;
    const float *ln_w = nm->weight + col, *ln_b = nm->bias + col;
    const float *s = sp->token_scale + sp->first;
    float *grad = scratch;                    /* [K, d] */
    float *zq = scratch + (size_t)K * d;      /* [d] */

    for (int j = 0; j < K; j++)
        token_gradient(v, grad + (size_t)j * d, zq, sp->xk + j * rs + col, sp->xv + j * rs + col, W, ln_w, ln_b, d,
                       nm->eps);

    for (int i = 0; i < K; i++) {
        const float *xq = sp->xq + i * rs + col;
        memset(zq, 0, sizeof(float) * d);
        add_affine(v, zq, 1.0f, xq, W, d);                    /* XQ_i W + b */
        if (sp->first > 0) add_affine(v, zq, -s[i], xq, G, d);   /* earlier tokens of this mini-batch (G = 0 at 0) */
        for (int j = 0; j <= i; j++) {        /* - s_i sum_j eta_j ([XQ_i, 1] . [XK_j, 1]) g_j */
            const float dot = 1.0f + v->dot(xq, sp->xk + j * rs + col, d);
            v->axpy(zq, -s[i] * sp->eta[j * n_head + h] * dot, grad + (size_t)j * d, d);
        }
        bt_ttt_add_layernorm(out + i * rs + col, xq, zq, ln_w, ln_b, d, nm->eps);
    }

    for (int j = 0; j < K; j++)
        add_outer(v, G, sp->eta[j * n_head + h], sp->xk + j * rs + col, grad + (size_t)j * d, d);
    if (span_ends_batch(sp)) commit(v, W, G, sp->token_scale[sp->mini_batch - 1], d);
}

/* Primal form for head h: one token at a time. */
static void primal_head(const bt_ttt_vec *v, float *out, float *W, float *G, const bt_ttt_linear_span *sp,
                        const bt_ttt_linear_norm *nm, int h, int n_head, int d, float *scratch) {
    const int64_t rs = sp->row_stride;
    const size_t col = (size_t)h * d;
    const float *ln_w = nm->weight + col, *ln_b = nm->bias + col;
    float *z = scratch, *g = scratch + d, *zq = scratch + 2 * (size_t)d;   /* [d] each */

    for (int i = 0; i < sp->n_tok; i++) {
        const float *xq = sp->xq + i * rs + col, *xk = sp->xk + i * rs + col;
        token_gradient(v, g, z, xk, sp->xv + i * rs + col, W, ln_w, ln_b, d, nm->eps);
        add_outer(v, G, sp->eta[i * n_head + h], xk, g, d);
        /* [XQ_i, 1] (W - s_i G): the token's own weights */
        memset(zq, 0, sizeof(float) * d);
        add_affine(v, zq, 1.0f, xq, W, d);
        add_affine(v, zq, -sp->token_scale[sp->first + i], xq, G, d);
        bt_ttt_add_layernorm(out + i * rs + col, xq, zq, ln_w, ln_b, d, nm->eps);
    }
    if (span_ends_batch(sp)) commit(v, W, G, sp->token_scale[sp->mini_batch - 1], d);
}

typedef void (*head_fn)(const bt_ttt_vec *, float *, float *, float *, const bt_ttt_linear_span *,
                        const bt_ttt_linear_norm *, int, int, int, float *);

static void over_heads(head_fn fn, float *out, float *weights, float *grads, const bt_ttt_linear_span *sp,
                       const bt_ttt_linear_norm *nm, int n_head, int d, float *scratch) {
    const bt_ttt_vec v = bt_ttt_vec_get();
    const size_t per_head = (size_t)(d + 1) * d;
    const size_t head_scratch = head_scratch_floats(sp->n_tok, d);
    const int64_t work = (int64_t)n_head * (sp->n_tok + 3) * d * d;
#pragma omp parallel for schedule(static) if (n_head > 1 && work >= PARALLEL_MIN)
    for (int h = 0; h < n_head; h++)
        fn(&v, out, weights + h * per_head, grads + h * per_head, sp, nm, h, n_head, d, scratch + h * head_scratch);
}

void bt_ttt_linear_dual(float *out, float *weights, float *grads, const bt_ttt_linear_span *span,
                        const bt_ttt_linear_norm *norm, int n_head, int head_dim, float *scratch) {
    over_heads(dual_head, out, weights, grads, span, norm, n_head, head_dim, scratch);
}

void bt_ttt_linear_primal(float *out, float *weights, float *grads, const bt_ttt_linear_span *span,
                          const bt_ttt_linear_norm *norm, int n_head, int head_dim, float *scratch) {
    over_heads(primal_head, out, weights, grads, span, norm, n_head, head_dim, scratch);
}
