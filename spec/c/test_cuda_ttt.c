/* test_cuda_ttt.c - the CUDA TTT kernels (TTT-Linear primal and dual, inner learning
 * rates, forgetting, the causal convs, the fastweight rule) against the CPU kernels on
 * random inputs.
 *
 * The GPU sums in other orders (and chunks the dual form differently), so results
 * agree to float rounding, not bitwise. Tolerances, per value: outputs within
 * 2e-4 + 2e-4 |cpu| (LayerNorm outputs are O(1)); fast weights and gradient sums
 * within 1e-5 + 1e-4 |cpu|; learning rates within 1e-6 relative; fastweight p and W
 * within 1e-5 + 1e-4 |cpu|. A wrong index or a missed update breaks these by orders
 * of magnitude. */
#include "check.h"
#ifdef BT_HAVE_CUDA
#include <stdio.h>
#include <stdlib.h>
#include "kernels/cpu/causal_conv.h"
#include "kernels/cpu/ttt_fastweight.h"
#include "kernels/cpu/ttt_linear.h"
#include "test_cuda_util.h"

/* Largest error of got against the CPU's want in units of (abs_tol + rel_tol |want|); where in *at. */
static double worst_vs(const float *got, const float *want, int64_t n, double abs_tol, double rel_tol, int64_t *at) {
    double *w = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++) w[i] = want[i];
    double e = cu_worst_error(got, w, NULL, n, abs_tol, rel_tol, at);
    free(w);
    return e;
}

static void fill_uniform(float *x, int64_t n, cu_rng *r, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) x[i] = cu_uniform(r, lo, hi);
}

/* ---- TTT-Linear -------------------------------------------------------------------- */

/* One layer's inputs for T tokens and its state, on the host and on the device. */
typedef struct ttt_case {
    int n_head, d, mini_batch, T;
    int64_t stride;                       /* row stride, >= n_head * d */
    float *xq, *xk, *xv, *eta, *scale;    /* host: [T, stride] x3, [T, n_head], [mini_batch] */
    float *ln_w, *ln_b, *weights, *grads; /* [n_head, d] x2, [n_head, d + 1, d] x2 */
    float *d_xq, *d_xk, *d_xv, *d_eta, *d_scale, *d_ln_w, *d_ln_b, *d_weights, *d_grads, *d_out;
} ttt_case;

static int ttt_case_make(ttt_case *c, cu_arena *a, int n_head, int d, int mini_batch, int T, int pad, cu_rng *r) {
    c->n_head = n_head, c->d = d, c->mini_batch = mini_batch, c->T = T, c->stride = (int64_t)n_head * d + pad;
    const int64_t rows = (int64_t)T * c->stride, state = (int64_t)n_head * (d + 1) * d, width = (int64_t)n_head * d;
    c->xq = malloc(sizeof(float) * rows), c->xk = malloc(sizeof(float) * rows), c->xv = malloc(sizeof(float) * rows);
    c->eta = malloc(sizeof(float) * T * n_head), c->scale = malloc(sizeof(float) * mini_batch);
    c->ln_w = malloc(sizeof(float) * width), c->ln_b = malloc(sizeof(float) * width);
    c->weights = malloc(sizeof(float) * state), c->grads = calloc((size_t)state, sizeof(float));
    fill_uniform(c->xq, rows, r, -1.0f, 1.0f);
    fill_uniform(c->xk, rows, r, -1.0f, 1.0f);
    fill_uniform(c->xv, rows, r, -1.0f, 1.0f);
    fill_uniform(c->eta, (int64_t)T * n_head, r, 0.001f, 0.05f);
    for (int i = 0; i < mini_batch; i++) c->scale[i] = 1.0f / (i + 1) + cu_uniform(r, -0.02f, 0.02f);
    fill_uniform(c->ln_w, width, r, 0.9f, 1.1f);
    fill_uniform(c->ln_b, width, r, -0.1f, 0.1f);
    fill_uniform(c->weights, state, r, -0.15f, 0.15f);
    c->d_xq = cu_upload(a, c->xq, sizeof(float) * rows);
    c->d_xk = cu_upload(a, c->xk, sizeof(float) * rows);
    c->d_xv = cu_upload(a, c->xv, sizeof(float) * rows);
    c->d_eta = cu_upload(a, c->eta, sizeof(float) * T * n_head);
    c->d_scale = cu_upload(a, c->scale, sizeof(float) * mini_batch);
    c->d_ln_w = cu_upload(a, c->ln_w, sizeof(float) * width);
    c->d_ln_b = cu_upload(a, c->ln_b, sizeof(float) * width);
    c->d_weights = cu_upload(a, c->weights, sizeof(float) * state);
    c->d_grads = cu_upload(a, c->grads, sizeof(float) * state);
    c->d_out = cu_alloc(a, sizeof(float) * rows);
    return c->d_xq && c->d_xk && c->d_xv && c->d_eta && c->d_scale && c->d_ln_w && c->d_ln_b && c->d_weights &&
                   c->d_grads && c->d_out
               ? 0
               : -1;
}

static void ttt_case_free(ttt_case *c) {
    free(c->xq), free(c->xk), free(c->xv), free(c->eta), free(c->scale);
    free(c->ln_w), free(c->ln_b), free(c->weights), free(c->grads);
}

/* Runs tokens [j, j + n) (one span inside a mini-batch) on the CPU (into out) and the GPU; 0 or -1 (a->err). */
static int run_span(ttt_case *c, cu_arena *a, float *out, float *scratch, int j, int n, int dual) {
    const int64_t off = (int64_t)j * c->stride;
    const int first = j % c->mini_batch;
    const bt_ttt_linear_span cpu = {c->xq + off, c->xk + off, c->xv + off, c->eta + (int64_t)j * c->n_head, c->scale,
                                    c->stride, first, n, c->mini_batch};
    const bt_ttt_linear_norm cpu_norm = {c->ln_w, c->ln_b, 1e-6f};
    (dual ? bt_ttt_linear_dual : bt_ttt_linear_primal)(out + off, c->weights, c->grads, &cpu, &cpu_norm, c->n_head,
                                                       c->d, scratch);
    const bt_cuda_ttt_span gpu = {c->d_xq + off, c->d_xk + off, c->d_xv + off, c->d_eta + (int64_t)j * c->n_head,
                                  c->d_scale, c->stride, first, n, c->mini_batch};
    const bt_cuda_ttt_norm gpu_norm = {c->d_ln_w, c->d_ln_b, 1e-6f};
    return (dual ? bt_cuda_ttt_linear_dual : bt_cuda_ttt_linear_primal)(c->d_out + off, c->d_weights, c->d_grads, &gpu,
                                                                        &gpu_norm, c->n_head, c->d, a->q, a->err);
}

/* A prompt of `prompt` tokens (dual form, split at mini-batch ends as the op does), then
 * decoding (primal, one token per call) up to T; outputs, weights and grads must agree.
 * NULL or a message. */
static const char *ttt_sequence(char *msg, size_t cap, int n_head, int d, int mini_batch, int T, int prompt, int pad,
                                cu_rng *r) {
    cu_arena a;
    cu_arena_init(&a);
    ttt_case c;
    const char *fail = NULL;
    float *out = NULL, *got = NULL, *scratch = NULL;
#define SEQ_FAIL(...) do { snprintf(msg, cap, "heads %d x %d, mini-batch %d, prompt %d of %d: ", n_head, d, mini_batch, \
                                    prompt, T);                                                                          \
                           size_t used_ = strlen(msg); snprintf(msg + used_, cap - used_, __VA_ARGS__);                  \
                           fail = msg; goto done; } while (0)
    if (ttt_case_make(&c, &a, n_head, d, mini_batch, T, pad, r)) SEQ_FAIL("%s", a.err);
    const int64_t rows = (int64_t)T * c.stride, state = (int64_t)n_head * (d + 1) * d;
    out = calloc((size_t)rows, sizeof(float));
    got = malloc(sizeof(float) * rows);
    scratch = malloc(sizeof(float) * bt_ttt_linear_scratch_floats(mini_batch, n_head, d));
    for (int j = 0; j < T;) {
        const int first = j % mini_batch, left = mini_batch - first;
        const int dual = j < prompt, n = dual ? (prompt - j < left ? prompt - j : left) : 1;
        if (run_span(&c, &a, out, scratch, j, n, dual)) SEQ_FAIL("tokens %d..%d: %s", j, j + n - 1, a.err);
        j += n;
    }
    if (cu_download(&a, got, c.d_out, sizeof(float) * rows)) SEQ_FAIL("%s", a.err);
    int64_t at;
    for (int t = 0; t < T; t++)   /* only the n_head * d columns of a row are outputs */
        for (int64_t i = 0; i < (int64_t)n_head * d; i++) {
            const int64_t k = (int64_t)t * c.stride + i;
            double e = worst_vs(got + k, out + k, 1, 2e-4, 2e-4, &at);
            if (e > 1.0) SEQ_FAIL("out[%d, %lld] = %.7g, CPU %.7g", t, (long long)i, (double)got[k], (double)out[k]);
        }
    for (int pass = 0; pass < 2; pass++) {
        float *host = pass ? c.grads : c.weights, *dev = pass ? c.d_grads : c.d_weights;
        float *state_got = realloc(got, sizeof(float) * (state > rows ? state : rows));
        if (!state_got) SEQ_FAIL("out of memory");
        got = state_got;
        if (cu_download(&a, got, dev, sizeof(float) * state)) SEQ_FAIL("%s", a.err);
        double e = worst_vs(got, host, state, 1e-5, 1e-4, &at);
        if (e > 1.0)
            SEQ_FAIL("%s[%lld] = %.7g, CPU %.7g", pass ? "grads" : "weights", (long long)at, (double)got[at],
                     (double)host[at]);
    }
done:
#undef SEQ_FAIL
    free(out), free(got), free(scratch);
    ttt_case_free(&c);
    cu_free_all(&a);
    return fail;
}

/* Head dims below, at and above a warp, one not a multiple of 32, and one whose dual
 * chunks are shorter than a mini-batch (d = 256: 11 tokens fit shared memory); prompts
 * that end inside a mini-batch and continue in decode, several committed mini-batches. */
BT_TEST(cuda_ttt_linear_matches_cpu) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ttt_linear_matches_cpu");
    static const int cfg[][6] = {
        /* n_head, d, mini_batch, T, prompt, pad */
        {3, 32, 8, 29, 11, 0}, {2, 40, 16, 37, 16, 5}, {4, 64, 8, 20, 0, 0}, {1, 17, 4, 13, 13, 3},
        {2, 256, 16, 24, 19, 0}, {5, 128, 16, 18, 9, 0},
    };
    char msg[320];
    for (int i = 0; i < (int)(sizeof cfg / sizeof cfg[0]); i++) {
        const char *fail = ttt_sequence(msg, sizeof msg, cfg[i][0], cfg[i][1], cfg[i][2], cfg[i][3], cfg[i][4],
                                        cfg[i][5], &r);
        BT_CHECK(!fail, "%s", fail);
    }
}

BT_TEST(cuda_ttt_linear_rejects_bad_spans) {
    CU_REQUIRE_DEVICE();
    char err[BT_CUDA_ERR_CAP];
    float one = 1.0f, *p = &one;   /* never dereferenced: the checks come first */
    bt_cuda_ttt_span span = {p, p, p, p, p, 64, 6, 3, 8};
    bt_cuda_ttt_norm norm = {p, p, 1e-6f};
    bt_cuda_queue q = {0, NULL};
    BT_CHECK(bt_cuda_ttt_linear_dual(p, p, p, &span, &norm, 2, 32, q, err) != 0, "span past the mini-batch accepted");
    span.n_tok = 2, span.row_stride = 63;
    BT_CHECK(bt_cuda_ttt_linear_primal(p, p, p, &span, &norm, 2, 32, q, err) != 0, "short row stride accepted");
    span.row_stride = 4096;
    BT_CHECK(bt_cuda_ttt_linear_primal(p, p, p, &span, &norm, 2, 2048, q, err) != 0, "head_dim 2048 accepted");
    span.xv = NULL;
    BT_CHECK(bt_cuda_ttt_linear_dual(p, p, p, &span, &norm, 2, 32, q, err) != 0, "missing xv accepted");
}

/* ---- learning rates and the fastweight rule ---------------------------------------- */

BT_TEST(cuda_ttt_eta_matches_cpu) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ttt_eta_matches_cpu");
    const int n_tok = 37, n_head = 5;
    cu_arena a;
    cu_arena_init(&a);
    float logit[37 * 5], bias[5], mult[37], want[37 * 5], got[37 * 5];
    fill_uniform(logit, n_tok * n_head, &r, -6.0f, 6.0f);
    fill_uniform(bias, n_head, &r, -1.0f, 1.0f);
    fill_uniform(mult, n_tok, &r, 0.5f, 2.0f);
    float *d_logit = cu_upload(&a, logit, sizeof logit), *d_bias = cu_upload(&a, bias, sizeof bias);
    float *d_mult = cu_upload(&a, mult, sizeof mult), *d_eta = cu_alloc(&a, sizeof got);
    BT_CHECK(d_logit && d_bias && d_mult && d_eta, "%s", a.err);
    for (int with_mult = 0; with_mult < 2; with_mult++) {
        bt_ttt_eta(want, logit, bias, with_mult ? mult : NULL, 0.5f / 32, n_tok, n_head);
        /* the GPU writes eta in place of a copy of the logits, as the op does */
        BT_CHECK(bt_cuda_memcpy(0, d_eta, logit, sizeof logit, 0, a.err) == 0, "%s", a.err);
        BT_CHECK(bt_cuda_ttt_eta(d_eta, d_eta, d_bias, with_mult ? d_mult : NULL, 0.5f / 32, n_tok, n_head, a.q, a.err) ==
                     0, "%s", a.err);
        BT_CHECK(cu_download(&a, got, d_eta, sizeof got) == 0, "%s", a.err);
        int64_t at;
        double e = worst_vs(got, want, n_tok * n_head, 0.0, 1e-6, &at);
        BT_CHECK(e <= 1.0, "mult %d: eta[%lld] = %.9g, CPU %.9g", with_mult, (long long)at, (double)got[at],
                 (double)want[at]);
    }
    cu_free_all(&a);
}

BT_TEST(cuda_ttt_decay_matches_cpu) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ttt_decay_matches_cpu");
    enum { N = 3 * 17 * 16 };   /* [n_head, d + 1, d] with 3 heads of 16 */
    static float w[N], toward[N], got[N];
    fill_uniform(w, N, &r, -1.0f, 1.0f);
    fill_uniform(toward, N, &r, -1.0f, 1.0f);
    cu_arena a;
    cu_arena_init(&a);
    float *d_w = cu_upload(&a, w, sizeof w), *d_toward = cu_upload(&a, toward, sizeof toward);
    BT_CHECK(d_w && d_toward, "%s", a.err);
    const float keep = cu_uniform(&r, 0.5f, 0.99f);
    BT_CHECK(bt_cuda_ttt_decay(d_w, d_toward, keep, N, a.q, a.err) == 0, "%s", a.err);
    BT_CHECK(cu_download(&a, got, d_w, sizeof got) == 0, "%s", a.err);
    bt_ttt_linear_decay(w, toward, keep, N);
    int64_t at;
    double e = worst_vs(got, w, N, 1e-7, 1e-6, &at);   /* one multiply-add, maybe fused */
    BT_CHECK(e <= 1.0, "keep %g: weights[%lld] = %.9g, CPU %.9g", (double)keep, (long long)at, (double)got[at],
             (double)w[at]);
    BT_CHECK(bt_cuda_ttt_decay(d_w, d_toward, 1.5f, N, a.q, a.err) != 0, "keep 1.5 must be refused");
    cu_free_all(&a);
}

/* A stream of tokens fed in chunks of random lengths (one token too), kernel sizes 1 to
 * 16, with and without bias: outputs and the carried history as the CPU kernel's. */
BT_TEST(cuda_causal_conv_matches_cpu) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_causal_conv_matches_cpu");
    static const int kernels[] = {1, 2, 4, 7, 16};
    for (int ki = 0; ki < 5; ki++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            const int K = kernels[ki], width = 37 + 64 * ki, T = 29;
            cu_arena a;
            cu_arena_init(&a);
            float *x = malloc(sizeof(float) * T * width), *got = malloc(sizeof(float) * T * width);
            float *w = malloc(sizeof(float) * K * width), *bias = malloc(sizeof(float) * width);
            float *hist = calloc((size_t)(K > 1 ? K - 1 : 1) * width, sizeof(float));
            float *hist_got = malloc(sizeof(float) * (K > 1 ? K - 1 : 1) * width);
            fill_uniform(x, (int64_t)T * width, &r, -1.0f, 1.0f);
            fill_uniform(w, (int64_t)K * width, &r, -0.5f, 0.5f);
            fill_uniform(bias, width, &r, -0.2f, 0.2f);
            float *d_x = cu_upload(&a, x, sizeof(float) * T * width), *d_w = cu_upload(&a, w, sizeof(float) * K * width);
            float *d_bias = cu_upload(&a, bias, sizeof(float) * width);
            float *d_hist = cu_upload(&a, hist, sizeof(float) * (K > 1 ? K - 1 : 1) * width);
            BT_CHECK(d_x && d_w && d_bias && d_hist, "%s", a.err);
            for (int t = 0; t < T;) {
                const int n = t == 0 ? 1 : cu_int(&r, 1, T - t);
                bt_causal_conv(x + (size_t)t * width, hist, w, with_bias ? bias : NULL, n, width, K);
                BT_CHECK(bt_cuda_causal_conv(d_x + (size_t)t * width, K > 1 ? d_hist : NULL, d_w,
                                             with_bias ? d_bias : NULL, n, width, K, a.q, a.err) == 0, "%s", a.err);
                t += n;
            }
            BT_CHECK(cu_download(&a, got, d_x, sizeof(float) * T * width) == 0, "%s", a.err);
            int64_t at;
            double e = worst_vs(got, x, (int64_t)T * width, 1e-6, 1e-5, &at);
            BT_CHECK(e <= 1.0, "K %d%s: x[%lld] = %.9g, CPU %.9g", K, with_bias ? " with bias" : "", (long long)at,
                     (double)got[at], (double)x[at]);
            if (K > 1) {
                BT_CHECK(cu_download(&a, hist_got, d_hist, sizeof(float) * (K - 1) * width) == 0, "%s", a.err);
                e = worst_vs(hist_got, hist, (int64_t)(K - 1) * width, 1e-30, 0.0, &at);   /* copies: exact */
                BT_CHECK(e <= 1.0, "K %d: history[%lld] = %.9g, CPU %.9g", K, (long long)at, (double)hist_got[at],
                         (double)hist[at]);
            }
            free(x), free(got), free(w), free(bias), free(hist), free(hist_got);
            cu_free_all(&a);
        }
    char err[BT_CUDA_ERR_CAP];
    bt_cuda_queue q = {0, NULL};
    float *p = (float *)16;
    BT_CHECK(bt_cuda_causal_conv(p, p, p, NULL, 1, 8, 17, q, err) != 0, "a kernel of 17 taps must be refused");
    BT_CHECK(bt_cuda_causal_conv(p, NULL, p, NULL, 1, 8, 4, q, err) != 0, "K = 4 without history must be refused");
}

/* Sequences from a zero W (a fresh sequence) and from a random one, in several calls. */
BT_TEST(cuda_fastweight_matches_cpu) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_fastweight_matches_cpu");
    static const int dims[] = {48, 160, 33};
    for (int di = 0; di < 3; di++) {
        const int d = dims[di], n_tok = 23;
        cu_arena a;
        cu_arena_init(&a);
        float *W = calloc((size_t)d * d, sizeof(float)), *k = malloc(sizeof(float) * n_tok * d);
        float *p = malloc(sizeof(float) * n_tok * d), *eta = malloc(sizeof(float) * n_tok);
        float *got = malloc(sizeof(float) * (d > n_tok ? d : n_tok) * d);
        if (di == 1) fill_uniform(W, (int64_t)d * d, &r, -0.2f, 0.2f);
        float *d_W = cu_upload(&a, W, sizeof(float) * d * d), *d_k = cu_alloc(&a, sizeof(float) * n_tok * d);
        float *d_p = cu_alloc(&a, sizeof(float) * n_tok * d), *d_eta = cu_alloc(&a, sizeof(float) * n_tok);
        const char *what = NULL;
        int64_t at = 0;
        double e = 0.0;
        for (int call = 0; call < 3 && !what; call++) {
            const int n = call == 0 ? 1 : call == 1 ? 9 : n_tok;
            fill_uniform(k, (int64_t)n * d, &r, -2.0f, 2.0f);
            fill_uniform(eta, n, &r, 0.05f, 0.8f);
            if (!d_W || !d_k || !d_p || !d_eta || bt_cuda_memcpy(0, d_k, k, sizeof(float) * n * d, 0, a.err) ||
                bt_cuda_memcpy(0, d_eta, eta, sizeof(float) * n, 0, a.err) ||
                bt_cuda_fastweight_forward(d_p, d_W, d_k, d_eta, n, d, a.q, a.err)) {
                what = a.err;
                break;
            }
            bt_fastweight_forward(p, W, k, eta, n, d);
            const float *want[3] = {k, p, W};
            const float *dev[3] = {d_k, d_p, d_W};
            const int64_t count[3] = {(int64_t)n * d, (int64_t)n * d, (int64_t)d * d};
            static const char *names[3] = {"k", "p", "W"};
            for (int i = 0; i < 3 && !what; i++) {
                if (cu_download(&a, got, dev[i], sizeof(float) * count[i])) what = a.err;
                else if ((e = worst_vs(got, want[i], count[i], 1e-5, 1e-4, &at)) > 1.0) {
                    static char m[160];
                    snprintf(m, sizeof m, "call %d: %s[%lld] = %.7g, CPU %.7g", call, names[i], (long long)at,
                             (double)got[at], (double)want[i][at]);
                    what = m;
                }
            }
        }
        free(W), free(k), free(p), free(eta), free(got);
        cu_free_all(&a);
        BT_CHECK(!what, "d = %d: %s", d, what);
    }
}

#else
BT_TEST(cuda_ttt) { BT_SKIP("CUDA support not compiled in"); }
#endif
