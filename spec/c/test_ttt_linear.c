/* test_ttt_linear.c - TTT-Linear and fastweight kernels against naive double
 * references of the equations in kernels/cpu/ttt_linear.h and ttt_fastweight.h,
 * through the ops (runtime/ops_ttt.h) that split tokens at mini-batch boundaries.
 *
 * The reference materializes each token's weights W_i = W - s_i sum_{j<=i}
 * eta_j XK_j^T g_j in double and takes g_j through the LayerNorm's explicit
 * Jacobian (not the fused formula the kernels use). Inputs are random at
 * odd sizes, fed in chunks of random lengths (so spans start and end anywhere
 * inside a mini-batch) in the dual, primal and automatic forms, with and without
 * forgetting (decay toward the initial weights after each mini-batch), at every
 * SIMD level the CPU has. Float kernels
 * accumulate over d-long dot products and carry the state across mini-batches:
 * the check allows 2e-5 * (1 + |ref|) (a wrong sign, scale or index moves
 * outputs by 1e-2 or more).
 */
#include "check.h"
#include "test_float_kernels.h"
#include "kernels/cpu/ttt_fastweight.h"
#include "kernels/cpu/ttt_linear.h"
#include "runtime/ops_ttt.h"
#include "test_ttt_ref.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_HEADS = 4, MAX_D = 40, MAX_TOK = 64, MAX_B = 16 };
#define TOLERANCE 2e-5

typedef struct ttt_case {
    int n_head, d, B, n;
    float W0[MAX_HEADS * (MAX_D + 1) * MAX_D];    /* [n_head, d + 1, d], b in row d */
    float xq[MAX_TOK * MAX_HEADS * MAX_D];        /* [n, n_head * d] (also xk, xv) */
    float xk[MAX_TOK * MAX_HEADS * MAX_D];
    float xv[MAX_TOK * MAX_HEADS * MAX_D];
    float eta[MAX_TOK * MAX_HEADS];               /* [n, n_head] */
    float scale[MAX_B];                           /* [B] */
    float ln_w[MAX_HEADS * MAX_D], ln_b[MAX_HEADS * MAX_D];   /* [n_head, d] */
    float keep;                                   /* forgetting after each mini-batch (1: none) */
} ttt_case;

static void random_case(ttt_case *c, test_rng *rng, int n_head, int d, int B, int n) {
    c->n_head = n_head, c->d = d, c->B = B, c->n = n;
    const int width = n_head * d;
    test_rng_fill(rng, c->W0, (int64_t)n_head * (d + 1) * d, -0.3f, 0.3f);
    test_rng_fill(rng, c->xq, (int64_t)n * width, -1.0f, 1.0f);
    test_rng_fill(rng, c->xk, (int64_t)n * width, -1.0f, 1.0f);
    test_rng_fill(rng, c->xv, (int64_t)n * width, -1.0f, 1.0f);
    test_rng_fill(rng, c->eta, (int64_t)n * n_head, 0.0f, 0.08f);
    for (int i = 0; i < B; i++) c->scale[i] = 1.0f / (float)(i + 1) + test_rng_uniform(rng, -0.05f, 0.05f);
    test_rng_fill(rng, c->ln_w, width, 0.5f, 1.5f);
    test_rng_fill(rng, c->ln_b, width, -0.3f, 0.3f);
    c->keep = test_rng_next(rng) % 2 ? 1.0f : test_rng_uniform(rng, 0.3f, 1.0f);
}

/* ---- the double reference --------------------------------------------- */

/* out [n, n_head * d], and the state after the last token: W [n_head, d+1, d] at the
 * start of the unfinished mini-batch and G its gradient sum. */
static void reference(double *out, double *W_end, double *G_end, const ttt_case *c, double eps) {
    const int d = c->d, width = c->n_head * d, rows = d + 1;
    for (int h = 0; h < c->n_head; h++) {
        double *W = W_end + (size_t)h * rows * d, *G = G_end + (size_t)h * rows * d;
        for (int e = 0; e < rows * d; e++) W[e] = c->W0[(size_t)h * rows * d + e], G[e] = 0.0;
        const float *ln_w = c->ln_w + h * d, *ln_b = c->ln_b + h * d;
        for (int i = 0; i < c->n; i++) {
            const int ii = i % c->B;
            const float *xq = c->xq + i * width + h * d, *xk = c->xk + i * width + h * d, *xv = c->xv + i * width + h * d;
            double z[MAX_D], t[MAX_D], g[MAX_D], zq[MAX_D], y[MAX_D], xhat[MAX_D], std;
            for (int col = 0; col < d; col++) {
                z[col] = W[(size_t)d * d + col];
                for (int r = 0; r < d; r++) z[col] += xk[r] * W[(size_t)r * d + col];
                t[col] = (double)xv[col] - xk[col];
            }
            inner_gradient_double(g, z, t, ln_w, ln_b, d, eps);
            const double eta = c->eta[i * c->n_head + h];
            for (int r = 0; r < rows; r++)
                for (int col = 0; col < d; col++) G[(size_t)r * d + col] += eta * (r < d ? xk[r] : 1.0) * g[col];
            /* W_i = W - s_i G, materialized */
            const double s = c->scale[ii];
            for (int col = 0; col < d; col++) {
                zq[col] = W[(size_t)d * d + col] - s * G[(size_t)d * d + col];
                for (int r = 0; r < d; r++) zq[col] += xq[r] * (W[(size_t)r * d + col] - s * G[(size_t)r * d + col]);
            }
            layernorm_double(y, xhat, &std, zq, ln_w, ln_b, d, eps);
            for (int col = 0; col < d; col++) out[(size_t)i * width + h * d + col] = xq[col] + y[col];
            if (ii == c->B - 1)
                for (int e = 0; e < rows * d; e++) {
                    const double w0 = c->W0[(size_t)h * rows * d + e];
                    W[e] = w0 + c->keep * (W[e] - s * G[e] - w0), G[e] = 0.0;
                }
        }
    }
}

/* ---- running the op ------------------------------------------------------ */

static int close_enough(double got, double ref) { return close_to(got, ref, TOLERANCE); }

/* Feeds the case to bt_op_ttt_linear in chunks of 1..max_chunk tokens (random) in
 * `form`; compares outputs and the final state with the reference. */
static int run_case(const ttt_case *c, bt_ttt_form form, int max_chunk, test_rng *rng, char *why, size_t why_size) {
    const float eps = 1e-6f;
    const int d = c->d, H = c->n_head, width = H * d;
    const size_t state_n = (size_t)H * (d + 1) * d;
    static double ref_out[MAX_TOK * MAX_HEADS * MAX_D], ref_W[MAX_HEADS * (MAX_D + 1) * MAX_D],
        ref_G[MAX_HEADS * (MAX_D + 1) * MAX_D];
    reference(ref_out, ref_W, ref_G, c, eps);

    const int64_t state_shape[3] = {H, d + 1, d}, hd_shape[1] = {width}, b_shape[1] = {c->B};
    const int64_t scratch_shape[1] = {(int64_t)bt_op_ttt_linear_scratch_floats(max_chunk, H, d)};
    bt_tensor *W = tensor_of(3, state_shape, c->W0), *G = tensor_of(3, state_shape, NULL),
              *W0 = tensor_of(3, state_shape, c->W0);
    bt_tensor *scale = tensor_of(1, b_shape, c->scale), *ln_w = tensor_of(1, hd_shape, c->ln_w),
              *ln_b = tensor_of(1, hd_shape, c->ln_b), *scratch = tensor_of(1, scratch_shape, NULL);
    int ok = W && G && W0 && scale && ln_w && ln_b && scratch;
    if (!ok) snprintf(why, why_size, "allocation failed");
    for (int i = 0; ok && i < c->n;) {
        int m = 1 + (int)(test_rng_next(rng) % (uint64_t)max_chunk);
        if (m > c->n - i) m = c->n - i;
        const int64_t rows_shape[2] = {m, width}, eta_shape[2] = {m, H};
        bt_tensor *out = tensor_of(2, rows_shape, NULL), *xq = tensor_of(2, rows_shape, c->xq + i * width),
                  *xk = tensor_of(2, rows_shape, c->xk + i * width), *xv = tensor_of(2, rows_shape, c->xv + i * width),
                  *eta = tensor_of(2, eta_shape, c->eta + i * H);
        const bt_ttt_decay decay = {W0, c->keep};
        bt_status st = bt_op_ttt_linear(out, W, G, xq, xk, xv, eta, scale, ln_w, ln_b, eps, i, scratch, form,
                                        c->keep < 1 ? &decay : NULL);
        if (st != BT_OK) {
            ok = 0;
            snprintf(why, why_size, "op failed: %s", bt_last_error());
        }
        const float *o = out ? bt_tensor_data(out) : NULL;
        for (int e = 0; ok && e < m * width; e++) {
            ok = close_enough(o[e], ref_out[(size_t)i * width + e]);
            if (!ok)
                snprintf(why, why_size, "H=%d d=%d B=%d n=%d form=%d keep=%g: out[%d, %d] = %.7g, expected %.7g", H, d,
                         c->B, c->n, (int)form, c->keep, i + e / width, e % width, o[e], ref_out[(size_t)i * width + e]);
        }
        bt_tensor_free(out), bt_tensor_free(xq), bt_tensor_free(xk), bt_tensor_free(xv), bt_tensor_free(eta);
        i += m;
    }
    for (size_t e = 0; ok && e < state_n; e++) {
        const float w = ((const float *)bt_tensor_data(W))[e], g = ((const float *)bt_tensor_data(G))[e];
        ok = close_enough(w, ref_W[e]) && close_enough(g, ref_G[e]);
        if (!ok)
            snprintf(why, why_size, "H=%d d=%d B=%d n=%d form=%d: state %zu: W %.7g vs %.7g, G %.7g vs %.7g", H, d,
                     c->B, c->n, (int)form, e, w, ref_W[e], g, ref_G[e]);
    }
    bt_tensor_free(W), bt_tensor_free(G), bt_tensor_free(W0), bt_tensor_free(scale), bt_tensor_free(ln_w), bt_tensor_free(ln_b);
    bt_tensor_free(scratch);
    return ok;
}

/* Every size, prompt length and form at the current SIMD level. */
static int every_case(void *ctx, char *why, size_t why_size) {
    static ttt_case c;
    test_rng *rng = ctx;
    const int dims[][3] = {{1, 7, 5}, {3, 13, 8}, {2, 32, 16}, {4, 37, 3}};   /* heads, d, mini-batch */
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
        const int B = dims[k][2];
        const int lengths[] = {1, B - 1 > 0 ? B - 1 : 1, B, B + 1, 3 * B + 2 < MAX_TOK ? 3 * B + 2 : MAX_TOK};
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
            random_case(&c, rng, dims[k][0], dims[k][1], B, lengths[li]);
            if (!run_case(&c, BT_TTT_FORM_DUAL, lengths[li], rng, why, why_size) ||
                !run_case(&c, BT_TTT_FORM_PRIMAL, lengths[li], rng, why, why_size) ||
                !run_case(&c, BT_TTT_FORM_AUTO, 3, rng, why, why_size))
                return 0;
        }
    }
    return 1;
}

BT_TEST(ttt_linear_matches_double_reference_in_every_form) {
    test_rng rng = test_rng_new(51);
    char why[600] = "";
    BT_CHECK(test_at_every_simd_level(every_case, &rng, why, sizeof why), "%s", why);
}

/* 1/2 || LN(z) - t ||^2 in double */
static double inner_loss(const double *z, const double *t, const float *w, const float *b, int d, double eps) {
    double y[TTT_REF_MAX_D], xhat[TTT_REF_MAX_D], std, loss = 0.0;
    layernorm_double(y, xhat, &std, z, w, b, d, eps);
    for (int c = 0; c < d; c++) loss += 0.5 * (y[c] - t[c]) * (y[c] - t[c]);
    return loss;
}

BT_TEST(ttt_inner_gradient_matches_finite_differences) {
    test_rng rng = test_rng_new(52);
    const int sizes[] = {2, 7, 32, 39};
    const float eps = 1e-6f;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const int d = sizes[k];
        float z[MAX_D], t[MAX_D], w[MAX_D], b[MAX_D], g[MAX_D];
        test_rng_fill(&rng, z, d, -2.0f, 2.0f);
        test_rng_fill(&rng, t, d, -1.5f, 1.5f);
        test_rng_fill(&rng, w, d, 0.3f, 1.7f);
        test_rng_fill(&rng, b, d, -0.5f, 0.5f);
        bt_ttt_ln_l2_grad(g, z, t, w, b, d, eps);
        double zd[MAX_D], td[MAX_D], gmax = 0.0;
        for (int c = 0; c < d; c++) zd[c] = z[c], td[c] = t[c], gmax = fmax(gmax, fabs(g[c]));
        for (int c = 0; c < d; c++) {
            const double step = 1e-6, keep = zd[c];   /* small: LayerNorm over 2 values is sharply curved */
            zd[c] = keep + step;
            const double up = inner_loss(zd, td, w, b, d, eps);
            zd[c] = keep - step;
            const double down = inner_loss(zd, td, w, b, d, eps);
            zd[c] = keep;
            const double fd = (up - down) / (2 * step);
            BT_CHECK(fabs(g[c] - fd) <= 1e-5 * (1.0 + gmax), "d=%d: g[%d] = %.8g, finite differences %.8g", d, c, g[c], fd);
        }
        /* g may be the target array */
        float g2[MAX_D];
        memcpy(g2, t, sizeof(float) * d);
        bt_ttt_ln_l2_grad(g2, z, g2, w, b, d, eps);
        BT_CHECK(memcmp(g, g2, sizeof(float) * d) == 0, "d=%d: gradient in place differs", d);
    }
}

BT_TEST(ttt_eta_matches_double) {
    test_rng rng = test_rng_new(53);
    enum { N = 11, H = 5 };
    float logit[N * H], bias[H], mult[N], eta[N * H];
    test_rng_fill(&rng, logit, N * H, -4.0f, 4.0f);
    test_rng_fill(&rng, bias, H, -1.0f, 1.0f);
    test_rng_fill(&rng, mult, N, 0.0f, 2.0f);
    mult[3] = 0.0f;
    const float scale = 0.5f / 32;
    for (int with_mult = 0; with_mult < 2; with_mult++) {
        bt_ttt_eta(eta, logit, bias, with_mult ? mult : NULL, scale, N, H);
        for (int j = 0; j < N; j++)
            for (int h = 0; h < H; h++) {
                const double ref = scale * (with_mult ? mult[j] : 1.0) / (1.0 + exp(-(double)logit[j * H + h] - bias[h]));
                BT_CHECK(fabs(eta[j * H + h] - ref) <= 1e-6 * ref + 1e-12, "eta[%d, %d] = %.8g, expected %.8g", j, h,
                         eta[j * H + h], ref);
            }
    }
    BT_CHECK(eta[3 * H] == 0.0f, "a multiplier of 0 must give eta 0, got %g", eta[3 * H]);
}

static int fastweight_case(void *ctx, char *why, size_t why_size) {
    enum { N = 23, D = 19 };
    test_rng *rng = ctx;
    float feat[N * D], feat0[N * D], p[N * D], W[D * D], eta[N];
    double Wd[D * D];
    test_rng_fill(rng, feat, N * D, -3.0f, 3.0f);
    test_rng_fill(rng, W, D * D, -0.2f, 0.2f);
    test_rng_fill(rng, eta, N, 0.0f, 0.5f);
    for (int e = 0; e < D * D; e++) Wd[e] = W[e];
    memcpy(feat0, feat, sizeof feat);
    bt_fastweight_forward(p, W, feat, eta, N, D);
    for (int j = 0; j < N; j++) {
        double k[D], pj[D], norm = 0.0;
        for (int c = 0; c < D; c++) norm += (double)feat0[j * D + c] * feat0[j * D + c];
        for (int c = 0; c < D; c++) k[c] = feat0[j * D + c] / (sqrt(norm) + 1e-6);
        for (int r = 0; r < D; r++) {
            pj[r] = 0.0;
            for (int c = 0; c < D; c++) pj[r] += Wd[r * D + c] * k[c];
            if (fabs(p[j * D + r] - pj[r]) > 1e-5 || fabs(feat[j * D + r] - k[r]) > 1e-6) {
                snprintf(why, why_size, "token %d row %d: p %.7g vs %.7g, k %.7g vs %.7g", j, r, p[j * D + r], pj[r],
                         feat[j * D + r], k[r]);
                return 0;
            }
        }
        for (int r = 0; r < D; r++)
            for (int c = 0; c < D; c++) Wd[r * D + c] -= eta[j] * (pj[r] - k[r]) * k[c];
    }
    for (int e = 0; e < D * D; e++)
        if (fabs(W[e] - Wd[e]) > 1e-5) {
            snprintf(why, why_size, "W[%d] = %.7g, expected %.7g", e, W[e], Wd[e]);
            return 0;
        }
    return 1;
}

BT_TEST(ttt_fastweight_matches_double_reference) {
    test_rng rng = test_rng_new(54);
    char why[400] = "";
    BT_CHECK(test_at_every_simd_level(fastweight_case, &rng, why, sizeof why), "%s", why);
}

BT_TEST(ttt_ops_refuse_bad_shapes) {
    const int64_t s_state[3] = {2, 5, 4}, s_bad_state[3] = {2, 4, 4}, s_rows[2] = {3, 8}, s_eta[2] = {3, 2},
                  s_b[1] = {4}, s_hd[1] = {8}, s_small[1] = {1};
    bt_tensor *W = tensor_of(3, s_state, NULL), *G = tensor_of(3, s_state, NULL), *bad = tensor_of(3, s_bad_state, NULL);
    bt_tensor *x = tensor_of(2, s_rows, NULL), *out = tensor_of(2, s_rows, NULL), *eta = tensor_of(2, s_eta, NULL);
    bt_tensor *scale = tensor_of(1, s_b, NULL), *ln = tensor_of(1, s_hd, NULL), *small = tensor_of(1, s_small, NULL);
    const int64_t s_scratch[1] = {(int64_t)bt_op_ttt_linear_scratch_floats(3, 2, 4)};
    bt_tensor *scratch = tensor_of(1, s_scratch, NULL);
    BT_CHECK(bt_op_ttt_linear(out, W, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, scratch, BT_TTT_FORM_AUTO, NULL) == BT_OK,
             "valid call failed: %s", bt_last_error());
    BT_CHECK(bt_op_ttt_linear(out, bad, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, scratch, BT_TTT_FORM_AUTO, NULL) == BT_ERR_ARG,
             "a [2, 4, 4] state was accepted");
    BT_CHECK(strstr(bt_last_error(), "ttt_linear") != NULL, "error does not name the op: %s", bt_last_error());
    BT_CHECK(bt_op_ttt_linear(out, W, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, small, BT_TTT_FORM_AUTO, NULL) == BT_ERR_ARG,
             "a too small scratch was accepted");
    BT_CHECK(bt_op_ttt_linear(out, W, G, x, x, x, scale, scale, ln, ln, 1e-6f, 0, scratch, BT_TTT_FORM_AUTO, NULL) == BT_ERR_ARG,
             "eta of the wrong shape was accepted");
    BT_CHECK(bt_op_ttt_linear(x, W, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, scratch, BT_TTT_FORM_AUTO, NULL) == BT_ERR_ARG,
             "out aliasing xq was accepted");
    const bt_ttt_decay wrong_keep = {W, 1.5f}, wrong_target = {bad, 0.9f};
    BT_CHECK(bt_op_ttt_linear(out, W, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, scratch, BT_TTT_FORM_AUTO, &wrong_keep) ==
                 BT_ERR_ARG, "a decay keeping 1.5 was accepted");
    BT_CHECK(bt_op_ttt_linear(out, W, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, scratch, BT_TTT_FORM_AUTO,
                              &wrong_target) == BT_ERR_ARG, "a decay target of the wrong size was accepted");
    BT_CHECK(bt_op_fastweight(out, W, x, small) == BT_ERR_ARG, "fastweight accepted a W of the wrong shape");
    bt_tensor_free(W), bt_tensor_free(G), bt_tensor_free(bad), bt_tensor_free(x), bt_tensor_free(out);
    bt_tensor_free(eta), bt_tensor_free(scale), bt_tensor_free(ln), bt_tensor_free(small), bt_tensor_free(scratch);
}
