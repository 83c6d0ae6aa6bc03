/* test_ttt_mlp.c - TTT-MLP kernels against a naive double reference of the
 * equations in kernels/cpu/ttt_mlp.h, through bt_op_ttt_mlp (which splits tokens
 * at mini-batch boundaries).
 *
 * The reference materializes each token's weights W1_i = W1' - s_i G1_i and
 * W2_i = W2' - s_i G2_i in double, takes g2 through the LayerNorm's explicit
 * Jacobian and gelu' from its own derivative. Random inputs at odd sizes (hidden
 * widths 4d and others), fed in chunks of random lengths (spans start and end
 * anywhere inside a mini-batch) in the dual, primal and automatic forms, at every
 * SIMD level the CPU has. The float kernels accumulate over F-long products and
 * carry the state across mini-batches: the check allows 5e-5 * (1 + |ref|) (a
 * wrong sign, scale or index moves outputs by 1e-2 or more).
 */
#include "check.h"
#include "test_float_kernels.h"
#include "test_ttt_ref.h"
#include "kernels/cpu/ttt_mlp.h"
#include "runtime/ops_ttt.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_HEADS = 3, MAX_D = 24, MAX_F = 96, MAX_TOK = 40, MAX_B = 8 };
enum { MAX_STATE = MAX_HEADS * ((MAX_D + 1) * MAX_F + (MAX_F + 1) * MAX_D) };
#define TOLERANCE 5e-5

typedef struct mlp_case {
    int n_head, d, F, B, n;
    float W0[MAX_STATE];                        /* [n_head, (d + 1) F + (F + 1) d] */
    float xq[MAX_TOK * MAX_HEADS * MAX_D];      /* [n, n_head * d] (also xk, xv) */
    float xk[MAX_TOK * MAX_HEADS * MAX_D];
    float xv[MAX_TOK * MAX_HEADS * MAX_D];
    float eta[MAX_TOK * MAX_HEADS];             /* [n, n_head] */
    float scale[MAX_B];
    float ln_w[MAX_HEADS * MAX_D], ln_b[MAX_HEADS * MAX_D];
} mlp_case;

static size_t head_floats(const mlp_case *c) { return (size_t)(c->d + 1) * c->F + (size_t)(c->F + 1) * c->d; }

static void random_case(mlp_case *c, test_rng *rng, int n_head, int d, int F, int B, int n) {
    c->n_head = n_head, c->d = d, c->F = F, c->B = B, c->n = n;
    const int width = n_head * d;
    test_rng_fill(rng, c->W0, (int64_t)n_head * head_floats(c), -0.4f, 0.4f);
    test_rng_fill(rng, c->xq, (int64_t)n * width, -1.0f, 1.0f);
    test_rng_fill(rng, c->xk, (int64_t)n * width, -1.0f, 1.0f);
    test_rng_fill(rng, c->xv, (int64_t)n * width, -1.0f, 1.0f);
    test_rng_fill(rng, c->eta, (int64_t)n * n_head, 0.0f, 0.1f);
    for (int i = 0; i < B; i++) c->scale[i] = 1.0f / (float)(i + 1) + test_rng_uniform(rng, -0.05f, 0.05f);
    test_rng_fill(rng, c->ln_w, width, 0.5f, 1.5f);
    test_rng_fill(rng, c->ln_b, width, -0.3f, 0.3f);
}

/* ---- the double reference --------------------------------------------- */

static const double K_GELU = 0.79788456, A_GELU = 0.044715;

static double gelu(double x) { return 0.5 * x * (1.0 + tanh(K_GELU * (x + A_GELU * x * x * x))); }

/* d/dx 0.5 x (1 + tanh(u)), u = k (x + a x^3) */
static double gelu_derivative(double x) {
    const double t = tanh(K_GELU * (x + A_GELU * x * x * x));
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * K_GELU * (1.0 + 3.0 * A_GELU * x * x);
}

/* y [n_out] = [x, 1] (A - s G) for A, G [n_in + 1, n_out] */
static void affine(double *y, const double *x, int n_in, const double *A, const double *G, double s, int n_out) {
    for (int o = 0; o < n_out; o++) {
        y[o] = A[(size_t)n_in * n_out + o] - s * G[(size_t)n_in * n_out + o];
        for (int r = 0; r < n_in; r++) y[o] += x[r] * (A[(size_t)r * n_out + o] - s * G[(size_t)r * n_out + o]);
    }
}

/* G [n_in + 1, n_out] += eta [x, 1]^T g */
static void outer(double *G, double eta, const double *x, int n_in, const double *g, int n_out) {
    for (int r = 0; r <= n_in; r++)
        for (int o = 0; o < n_out; o++) G[(size_t)r * n_out + o] += eta * (r < n_in ? x[r] : 1.0) * g[o];
}

/* out [n, n_head * d] and the state after the last token (start weights of the unfinished
 * mini-batch, and its gradient sums), [n_head, head floats] each. */
static void reference(double *out, double *W_end, double *G_end, const mlp_case *c, double eps) {
    const int d = c->d, F = c->F, width = c->n_head * d;
    const size_t hf = head_floats(c), w1 = (size_t)(d + 1) * F;
    static const double zero[MAX_STATE];
    for (int h = 0; h < c->n_head; h++) {
        double *W = W_end + h * hf, *G = G_end + h * hf;
        for (size_t e = 0; e < hf; e++) W[e] = c->W0[h * hf + e], G[e] = 0.0;
        const float *ln_w = c->ln_w + h * d, *ln_b = c->ln_b + h * d;
        for (int i = 0; i < c->n; i++) {
            const int ii = i % c->B;
            double xq[MAX_D], xk[MAX_D], t[MAX_D], z1[MAX_F], x2[MAX_F], z2[MAX_D], g2[MAX_D], g1[MAX_F];
            for (int k = 0; k < d; k++) {
                xq[k] = c->xq[i * width + h * d + k], xk[k] = c->xk[i * width + h * d + k];
                t[k] = (double)c->xv[i * width + h * d + k] - xk[k];
            }
            affine(z1, xk, d, W, zero, 0.0, F);
            for (int f = 0; f < F; f++) x2[f] = gelu(z1[f]);
            affine(z2, x2, F, W + w1, zero, 0.0, d);
            inner_gradient_double(g2, z2, t, ln_w, ln_b, d, eps);
            for (int f = 0; f < F; f++) {
                g1[f] = 0.0;
                for (int k = 0; k < d; k++) g1[f] += W[w1 + (size_t)f * d + k] * g2[k];
                g1[f] *= gelu_derivative(z1[f]);
            }
            const double eta = c->eta[i * c->n_head + h], s = c->scale[ii];
            outer(G, eta, xk, d, g1, F);
            outer(G + w1, eta, x2, F, g2, d);
            /* the token's own weights, materialized */
            double q1[MAX_F], q2[MAX_D], y[MAX_D], xhat[MAX_D], std;
            affine(q1, xq, d, W, G, s, F);
            for (int f = 0; f < F; f++) q1[f] = gelu(q1[f]);
            affine(q2, q1, F, W + w1, G + w1, s, d);
            layernorm_double(y, xhat, &std, q2, ln_w, ln_b, d, eps);
            for (int k = 0; k < d; k++) out[(size_t)i * width + h * d + k] = xq[k] + y[k];
            if (ii == c->B - 1)
                for (size_t e = 0; e < hf; e++) W[e] -= s * G[e], G[e] = 0.0;
        }
    }
}

/* ---- running the op ------------------------------------------------------ */

/* Feeds the case to bt_op_ttt_mlp in chunks of 1..max_chunk tokens (random) in `form`;
 * compares outputs and the final state with the reference. */
static int run_case(const mlp_case *c, bt_ttt_form form, int max_chunk, test_rng *rng, char *why, size_t why_size) {
    const float eps = 1e-6f;
    const int d = c->d, H = c->n_head, width = H * d;
    const size_t state_n = (size_t)H * head_floats(c);
    static double ref_out[MAX_TOK * MAX_HEADS * MAX_D], ref_W[MAX_STATE], ref_G[MAX_STATE];
    reference(ref_out, ref_W, ref_G, c, eps);

    const int64_t state_shape[2] = {H, (int64_t)head_floats(c)}, hd_shape[1] = {width}, b_shape[1] = {c->B};
    const int64_t scratch_shape[1] = {(int64_t)bt_op_ttt_mlp_scratch_floats(max_chunk, H, d, c->F)};
    bt_tensor *W = tensor_of(2, state_shape, c->W0), *G = tensor_of(2, state_shape, NULL);
    bt_tensor *scale = tensor_of(1, b_shape, c->scale), *ln_w = tensor_of(1, hd_shape, c->ln_w),
              *ln_b = tensor_of(1, hd_shape, c->ln_b), *scratch = tensor_of(1, scratch_shape, NULL);
    int ok = W && G && scale && ln_w && ln_b && scratch;
    if (!ok) snprintf(why, why_size, "allocation failed");
    if (ok) memset(bt_tensor_data(G), 0, bt_tensor_nbytes(G));
    for (int i = 0; ok && i < c->n;) {
        int m = 1 + (int)(test_rng_next(rng) % (uint64_t)max_chunk);
        if (m > c->n - i) m = c->n - i;
        const int64_t rows_shape[2] = {m, width}, eta_shape[2] = {m, H};
        bt_tensor *out = tensor_of(2, rows_shape, NULL), *xq = tensor_of(2, rows_shape, c->xq + i * width),
                  *xk = tensor_of(2, rows_shape, c->xk + i * width), *xv = tensor_of(2, rows_shape, c->xv + i * width),
                  *eta = tensor_of(2, eta_shape, c->eta + i * H);
        bt_status st = bt_op_ttt_mlp(out, W, G, xq, xk, xv, eta, scale, ln_w, ln_b, eps, i, c->F, scratch, form);
        if (st != BT_OK) {
            ok = 0;
            snprintf(why, why_size, "op failed: %s", bt_last_error());
        }
        const float *o = out ? bt_tensor_data(out) : NULL;
        for (int e = 0; ok && e < m * width; e++) {
            ok = close_to(o[e], ref_out[(size_t)i * width + e], TOLERANCE);
            if (!ok)
                snprintf(why, why_size, "H=%d d=%d F=%d B=%d n=%d form=%d: out[%d, %d] = %.7g, expected %.7g", H, d,
                         c->F, c->B, c->n, (int)form, i + e / width, e % width, o[e], ref_out[(size_t)i * width + e]);
        }
        bt_tensor_free(out), bt_tensor_free(xq), bt_tensor_free(xk), bt_tensor_free(xv), bt_tensor_free(eta);
        i += m;
    }
    for (size_t e = 0; ok && e < state_n; e++) {
        const float w = ((const float *)bt_tensor_data(W))[e], g = ((const float *)bt_tensor_data(G))[e];
        ok = close_to(w, ref_W[e], TOLERANCE) && close_to(g, ref_G[e], TOLERANCE);
        if (!ok)
            snprintf(why, why_size, "H=%d d=%d F=%d B=%d n=%d form=%d: state %zu: W %.7g vs %.7g, G %.7g vs %.7g", H,
                     d, c->F, c->B, c->n, (int)form, e, w, ref_W[e], g, ref_G[e]);
    }
    bt_tensor_free(W), bt_tensor_free(G), bt_tensor_free(scale), bt_tensor_free(ln_w), bt_tensor_free(ln_b);
    bt_tensor_free(scratch);
    return ok;
}

static int every_case(void *ctx, char *why, size_t why_size) {
    static mlp_case c;
    test_rng *rng = ctx;
    const int dims[][4] = {{1, 5, 20, 3}, {3, 8, 32, 8}, {2, 7, 13, 5}, {1, 24, 96, 4}};   /* heads, d, F, mini-batch */
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
        const int B = dims[k][3];
        const int lengths[] = {1, B - 1, B, B + 1, 3 * B + 2};
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
            random_case(&c, rng, dims[k][0], dims[k][1], dims[k][2], B, lengths[li]);
            if (!run_case(&c, BT_TTT_FORM_DUAL, lengths[li], rng, why, why_size) ||
                !run_case(&c, BT_TTT_FORM_PRIMAL, lengths[li], rng, why, why_size) ||
                !run_case(&c, BT_TTT_FORM_AUTO, 3, rng, why, why_size))
                return 0;
        }
    }
    return 1;
}

BT_TEST(ttt_mlp_matches_double_reference_in_every_form) {
    test_rng rng = test_rng_new(61);
    char why[600] = "";
    BT_CHECK(test_at_every_simd_level(every_case, &rng, why, sizeof why), "%s", why);
}

BT_TEST(ttt_gelu_tanh_and_its_derivative_match_double) {
    for (double x = -6.0; x <= 6.0; x += 0.0625) {
        BT_CHECK(fabs(bt_gelu_tanh((float)x) - gelu(x)) <= 1e-6 * (1.0 + fabs(x)), "gelu(%g) = %.8g, expected %.8g", x,
                 bt_gelu_tanh((float)x), gelu(x));
        BT_CHECK(fabs(bt_gelu_tanh_grad((float)x) - gelu_derivative(x)) <= 2e-6, "gelu'(%g) = %.8g, expected %.8g", x,
                 bt_gelu_tanh_grad((float)x), gelu_derivative(x));
    }
}

BT_TEST(ttt_mlp_op_refuses_bad_shapes) {
    const int d = 4, F = 16, H = 2;
    const int64_t s_state[2] = {H, (int64_t)bt_ttt_mlp_head_floats(d, F)}, s_bad[2] = {H, 100}, s_rows[2] = {3, H * d},
                  s_eta[2] = {3, H}, s_b[1] = {4}, s_hd[1] = {H * d}, s_small[1] = {1};
    const int64_t s_scratch[1] = {(int64_t)bt_op_ttt_mlp_scratch_floats(3, H, d, F)};
    bt_tensor *W = tensor_of(2, s_state, NULL), *G = tensor_of(2, s_state, NULL), *bad = tensor_of(2, s_bad, NULL);
    bt_tensor *x = tensor_of(2, s_rows, NULL), *out = tensor_of(2, s_rows, NULL), *eta = tensor_of(2, s_eta, NULL);
    bt_tensor *scale = tensor_of(1, s_b, NULL), *ln = tensor_of(1, s_hd, NULL), *small = tensor_of(1, s_small, NULL);
    bt_tensor *scratch = tensor_of(1, s_scratch, NULL);
    memset(bt_tensor_data(W), 0, bt_tensor_nbytes(W)), memset(bt_tensor_data(G), 0, bt_tensor_nbytes(G));
    memset(bt_tensor_data(x), 0, bt_tensor_nbytes(x)), memset(bt_tensor_data(eta), 0, bt_tensor_nbytes(eta));
    memset(bt_tensor_data(scale), 0, bt_tensor_nbytes(scale)), memset(bt_tensor_data(ln), 0, bt_tensor_nbytes(ln));
    BT_CHECK(bt_op_ttt_mlp(out, W, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, F, scratch, BT_TTT_FORM_AUTO) == BT_OK,
             "valid call failed: %s", bt_last_error());
    BT_CHECK(bt_op_ttt_mlp(out, bad, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, F, scratch, BT_TTT_FORM_AUTO) == BT_ERR_ARG,
             "a state of 100 floats per head was accepted");
    BT_CHECK(strstr(bt_last_error(), "ttt_mlp") != NULL, "error does not name the op: %s", bt_last_error());
    BT_CHECK(bt_op_ttt_mlp(out, W, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, F + 1, scratch, BT_TTT_FORM_AUTO) ==
                 BT_ERR_ARG, "a hidden width that does not fit the state was accepted");
    BT_CHECK(bt_op_ttt_mlp(out, W, bad, x, x, x, eta, scale, ln, ln, 1e-6f, 0, F, scratch, BT_TTT_FORM_AUTO) == BT_ERR_ARG,
             "gradient sums of the wrong size were accepted");
    BT_CHECK(bt_op_ttt_mlp(out, W, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, F, small, BT_TTT_FORM_AUTO) == BT_ERR_ARG,
             "a too small scratch was accepted");
    BT_CHECK(bt_op_ttt_mlp(x, W, G, x, x, x, eta, scale, ln, ln, 1e-6f, 0, F, scratch, BT_TTT_FORM_AUTO) == BT_ERR_ARG,
             "out aliasing xq was accepted");
    BT_CHECK(bt_op_ttt_mlp(out, W, G, x, x, x, eta, scale, ln, ln, 1e-6f, -1, F, scratch, BT_TTT_FORM_AUTO) == BT_ERR_ARG,
             "a negative position was accepted");
    BT_CHECK(bt_op_gelu_gate(out, eta) == BT_ERR_ARG, "gelu_gate accepted a gate of another shape");
    bt_tensor_free(W), bt_tensor_free(G), bt_tensor_free(bad), bt_tensor_free(x), bt_tensor_free(out);
    bt_tensor_free(eta), bt_tensor_free(scale), bt_tensor_free(ln), bt_tensor_free(small), bt_tensor_free(scratch);
}
