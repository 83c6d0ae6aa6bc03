/* ttt_mlp.c - TTT-MLP dual and primal forms on the CPU (see ttt_mlp.h).
 *
 * Per token and head the work is a few d x F products (F = 4d). They run along
 * rows of the weights as axpy and dot calls (ttt_vec.h: scalar, AVX2 or
 * AVX-512, chosen once per call); heads go to OpenMP threads.
 */
#include "ttt_mlp.h"
#include <math.h>
#include <string.h>
#include "ttt_vec.h"

enum { PARALLEL_MIN = 1 << 15 };   /* multiply-adds below which one thread does all heads */

/* The tanh approximation, with the constants of ttt-lm-pytorch's gelu_bwd (sqrt(2/pi) = 0.79788456). */
float bt_gelu_tanh(float x) { return 0.5f * x * (1.0f + tanhf(0.79788456f * x * (1.0f + 0.044715f * x * x))); }

float bt_gelu_tanh_grad(float x) {
    const float t = tanhf(0.79788456f * x * (1.0f + 0.044715f * x * x));
    return 0.5f * x * ((1.0f - t * t) * (0.79788456f + 0.1070322243f * x * x)) + 0.5f * (1.0f + t);
}

void bt_gelu_tanh_gate(float *out, const float *gate, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] *= bt_gelu_tanh(gate[i]);
}

size_t bt_ttt_mlp_head_floats(int head_dim, int hidden) {
    return (size_t)(head_dim + 1) * hidden + (size_t)(hidden + 1) * head_dim;
}

/* One head's scratch for a span of n_tok tokens: X2, g1 [n_tok, F] and g2 [n_tok, d] of the span's
 * keys, then z1, zq1, x2q [F] and z2, zq2 [d] of the token at hand. */
static size_t head_scratch_floats(int n_tok, int d, int F) {
    return (size_t)(n_tok > 1 ? n_tok : 1) * (2 * F + d) + 3 * (size_t)F + 2 * (size_t)d;
}

size_t bt_ttt_mlp_scratch_floats(int max_tok, int n_head, int head_dim, int hidden) {
    return (size_t)n_head * head_scratch_floats(max_tok, head_dim, hidden);
}

/* z += a [x, 1] A for A [n_in + 1, n_out] (bias in the last row) */
static void add_affine(const bt_ttt_vec *v, float *z /* [n_out] */, float a, const float *x /* [n_in] */, int n_in,
                       const float *A, int n_out) {
    for (int r = 0; r < n_in; r++) v->axpy(z, a * x[r], A + (size_t)r * n_out, n_out);
    v->axpy(z, a, A + (size_t)n_in * n_out, n_out);
}

/* A += a [x, 1]^T g for A [n_in + 1, n_out] */
static void add_outer(const bt_ttt_vec *v, float *A, float a, const float *x /* [n_in] */, int n_in,
                      const float *g /* [n_out] */, int n_out) {
    for (int r = 0; r < n_in; r++) v->axpy(A + (size_t)r * n_out, a * x[r], g, n_out);
    v->axpy(A + (size_t)n_in * n_out, a, g, n_out);
}

/* A head's view of the state, the span and its scratch. */
typedef struct head {
    const bt_ttt_vec *v;
    int d, F, col, h, n_head;
    float *W1, *W2, *G1, *G2;                 /* [d + 1, F], [F + 1, d]: start weights and gradient sums */
    const float *ln_w, *ln_b;
    float eps;
    float *x2, *g1, *g2;                      /* [n_tok, F], [n_tok, F], [n_tok, d] */
    float *z1, *zq1, *x2q, *z2, *zq2;         /* the token at hand */
} head;

/* X2_j, g1_j and g2_j of a key (row j of the head's arrays) at the start weights. */
static void key_gradients(const head *H, int j, const float *xk, const float *xv) {
    const int d = H->d, F = H->F;
    float *x2 = H->x2 + (size_t)j * F, *g1 = H->g1 + (size_t)j * F, *g2 = H->g2 + (size_t)j * d;
    memset(H->z1, 0, sizeof(float) * F);
    add_affine(H->v, H->z1, 1.0f, xk, d, H->W1, F);
    for (int f = 0; f < F; f++) x2[f] = bt_gelu_tanh(H->z1[f]);
    memset(H->z2, 0, sizeof(float) * d);
    add_affine(H->v, H->z2, 1.0f, x2, F, H->W2, d);
    for (int c = 0; c < d; c++) g2[c] = xv[c] - xk[c];
    bt_ttt_ln_l2_grad(g2, H->z2, g2, H->ln_w, H->ln_b, d, H->eps);
    for (int f = 0; f < F; f++) g1[f] = H->v->dot(H->W2 + (size_t)f * d, g2, d) * bt_gelu_tanh_grad(H->z1[f]);
}

/* out = XQ + LN(f(XQ)) with the weights of in-batch scale s:
 *   W' - s G            (with_sums; the dual form leaves out G when the span starts the mini-batch: G = 0)
 *   - s sum_{j < n_pairs} eta_j (pair products) g_j   (the span's own keys; the dual form) */
static void query_output(const head *H, float *out, const float *xq, float s, int with_sums, int n_pairs,
                         const float *eta, const float *xk, int64_t rs) {
    const bt_ttt_vec *v = H->v;
    const int d = H->d, F = H->F;
    memset(H->zq1, 0, sizeof(float) * F);
    add_affine(v, H->zq1, 1.0f, xq, d, H->W1, F);
    if (with_sums) add_affine(v, H->zq1, -s, xq, d, H->G1, F);
    for (int j = 0; j < n_pairs; j++) {
        const float dot = 1.0f + v->dot(xq, xk + j * rs, d);
        v->axpy(H->zq1, -s * eta[j * H->n_head] * dot, H->g1 + (size_t)j * F, F);
    }
    for (int f = 0; f < F; f++) H->x2q[f] = bt_gelu_tanh(H->zq1[f]);
    memset(H->zq2, 0, sizeof(float) * d);
    add_affine(v, H->zq2, 1.0f, H->x2q, F, H->W2, d);
    if (with_sums) add_affine(v, H->zq2, -s, H->x2q, F, H->G2, d);
    for (int j = 0; j < n_pairs; j++) {
        const float dot = 1.0f + v->dot(H->x2q, H->x2 + (size_t)j * F, F);
        v->axpy(H->zq2, -s * eta[j * H->n_head] * dot, H->g2 + (size_t)j * d, d);
    }
    bt_ttt_add_layernorm(out, xq, H->zq2, H->ln_w, H->ln_b, d, H->eps);
}

/* G += eta [XK_j, 1]^T g1_j and eta [X2_j, 1]^T g2_j */
static void add_key_gradients(const head *H, int j, float eta, const float *xk) {
    add_outer(H->v, H->G1, eta, xk, H->d, H->g1 + (size_t)j * H->F, H->F);
    add_outer(H->v, H->G2, eta, H->x2 + (size_t)j * H->F, H->F, H->g2 + (size_t)j * H->d, H->d);
}

/* At the end of a mini-batch: W' -= s_last G, G = 0 (both layers: they are contiguous). */
static void commit(const head *H, float s_last) {
    const size_t n = bt_ttt_mlp_head_floats(H->d, H->F);
    H->v->axpy(H->W1, -s_last, H->G1, (int)n);
    memset(H->G1, 0, sizeof(float) * n);
}

static void dual_head(const head *H, float *out, const bt_ttt_linear_span *sp) {
    const int64_t rs = sp->row_stride;
    const float *eta = sp->eta + H->h, *xk = sp->xk + H->col;
    for (int j = 0; j < sp->n_tok; j++) key_gradients(H, j, xk + j * rs, sp->xv + j * rs + H->col);
    for (int i = 0; i < sp->n_tok; i++)
        query_output(H, out + i * rs + H->col, sp->xq + i * rs + H->col, sp->token_scale[sp->first + i],
                     sp->first > 0, i + 1, eta, xk, rs);
    for (int j = 0; j < sp->n_tok; j++) add_key_gradients(H, j, eta[j * H->n_head], xk + j * rs);
}

static void primal_head(const head *H, float *out, const bt_ttt_linear_span *sp) {
    const int64_t rs = sp->row_stride;
    for (int i = 0; i < sp->n_tok; i++) {
        const float *xk = sp->xk + i * rs + H->col;
        key_gradients(H, 0, xk, sp->xv + i * rs + H->col);
        add_key_gradients(H, 0, sp->eta[i * H->n_head + H->h], xk);
        query_output(H, out + i * rs + H->col, sp->xq + i * rs + H->col, sp->token_scale[sp->first + i], 1, 0,
                     NULL, NULL, rs);
    }
}

static void over_heads(int dual, float *out, float *weights, float *grads, const bt_ttt_linear_span *sp,
                       const bt_ttt_linear_norm *nm, int n_head, int d, int F, float *scratch) {
    const bt_ttt_vec v = bt_ttt_vec_get();
    const size_t per_head = bt_ttt_mlp_head_floats(d, F), w1 = (size_t)(d + 1) * F;
    const int K = sp->n_tok > 1 ? sp->n_tok : 1;
    const size_t head_scratch = head_scratch_floats(K, d, F);
    const int64_t work = (int64_t)n_head * (sp->n_tok + 4) * 4 * d * F;
    const int ends_batch = sp->first + sp->n_tok == sp->mini_batch;
#pragma omp parallel for schedule(static) if (n_head > 1 && work >= PARALLEL_MIN)
    for (int h = 0; h < n_head; h++) {
        float *s = scratch + h * head_scratch;
        head H = {.v = &v, .d = d, .F = F, .col = h * d, .h = h, .n_head = n_head,
                  .W1 = weights + h * per_head, .W2 = weights + h * per_head + w1,
                  .G1 = grads + h * per_head, .G2 = grads + h * per_head + w1,
                  .ln_w = nm->weight + (size_t)h * d, .ln_b = nm->bias + (size_t)h * d, .eps = nm->eps,
                  .x2 = s, .g1 = s + (size_t)K * F, .g2 = s + (size_t)2 * K * F};
        float *t = s + (size_t)K * (2 * F + d);
        H.z1 = t, H.zq1 = t + F, H.x2q = t + 2 * F, H.z2 = t + 3 * F, H.zq2 = t + 3 * F + d;
        (dual ? dual_head : primal_head)(&H, out, sp);
        if (ends_batch) commit(&H, sp->token_scale[sp->mini_batch - 1]);
    }
}

void bt_ttt_mlp_dual(float *out, float *weights, float *grads, const bt_ttt_linear_span *span,
                     const bt_ttt_linear_norm *norm, int n_head, int head_dim, int hidden, float *scratch) {
    over_heads(1, out, weights, grads, span, norm, n_head, head_dim, hidden, scratch);
}

void bt_ttt_mlp_primal(float *out, float *weights, float *grads, const bt_ttt_linear_span *span,
                       const bt_ttt_linear_norm *norm, int n_head, int head_dim, int hidden, float *scratch) {
    over_heads(0, out, weights, grads, span, norm, n_head, head_dim, hidden, scratch);
}
