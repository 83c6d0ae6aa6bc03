/* test_cuda_float.c - the CUDA float kernels (f16/f32 matmul, RMSNorm, softmax,
 * activations, gated products, add/mul, embedding gathers, axpy) against plain
 * double-precision C references on random inputs. Outputs start as NaN, so an
 * element the kernel forgot fails. Tolerances are stated at each check. */
#include "check.h"
#ifdef BT_HAVE_CUDA
#include <stdio.h>
#include <stdlib.h>
#include "base/dtype.h"
#include "test_cuda_util.h"

static void random_floats(float *x, int64_t n, cu_rng *r, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) x[i] = cu_uniform(r, lo, hi);
}

/* ---- matmul ------------------------------------------------------------------- */

/* y = W x with f16 (is_f16) or f32 weights; f32 sums of k products must land within
 * 1e-6 + 1e-5 * sum|w x| of the double sum (with the initial y added when accumulating). */
static const char *matmul_case(char *msg, size_t cap, int is_f16, int m, int n, int k, int accumulate, cu_rng *r) {
    cu_arena a;
    cu_arena_init(&a);
    const char *fail = NULL;
    float *x = malloc(sizeof(float) * m * k), *wf = malloc(sizeof(float) * n * k), *y = malloc(sizeof(float) * m * n);
    float *y0 = malloc(sizeof(float) * m * n);
    uint16_t *wh = malloc(sizeof(uint16_t) * n * k);
    double *want = malloc(sizeof(double) * m * n), *mag = malloc(sizeof(double) * m * n);
    random_floats(x, (int64_t)m * k, r, -2.0f, 2.0f);
    random_floats(y0, (int64_t)m * n, r, -1.0f, 1.0f);
    for (int64_t i = 0; i < (int64_t)n * k; i++) {
        wh[i] = bt_f32_to_f16(cu_uniform(r, -1.0f, 1.0f));
        wf[i] = is_f16 ? bt_f16_to_f32(wh[i]) : cu_uniform(r, -1.0f, 1.0f);
    }
    for (int t = 0; t < m; t++)
        for (int i = 0; i < n; i++) {
            double s = accumulate ? y0[t * n + i] : 0.0, sa = accumulate ? fabs(y0[t * n + i]) : 0.0;
            for (int j = 0; j < k; j++) {
                s += (double)wf[(size_t)i * k + j] * x[(size_t)t * k + j];
                sa += fabs((double)wf[(size_t)i * k + j] * x[(size_t)t * k + j]);
            }
            want[t * n + i] = s, mag[t * n + i] = sa;
        }
    float *dx = cu_upload(&a, x, sizeof(float) * m * k);
    void *dw = is_f16 ? cu_upload(&a, wh, sizeof(uint16_t) * n * k) : cu_upload(&a, wf, sizeof(float) * n * k);
    float *dy = accumulate ? cu_upload(&a, y0, sizeof(float) * m * n) : cu_alloc(&a, sizeof(float) * m * n);
    int rc = !dx || !dw || !dy;
    if (!rc) rc = is_f16 ? bt_cuda_matmul_f16(dy, dx, dw, m, n, k, accumulate, a.q, a.err)
                         : bt_cuda_matmul_f32(dy, dx, dw, m, n, k, accumulate, a.q, a.err);
    if (!rc) rc = cu_download(&a, y, dy, sizeof(float) * m * n);
    if (rc) {
        snprintf(msg, cap, "%s m=%d n=%d k=%d: %.160s", is_f16 ? "f16" : "f32", m, n, k, a.err);
        fail = msg;
    } else {
        int64_t at;
        double worst = cu_worst_error(y, want, mag, (int64_t)m * n, 1e-6, 1e-5, &at);
        if (worst > 1.0) {
            snprintf(msg, cap, "%s m=%d n=%d k=%d%s: y[%lld, %lld] = %.9g, want %.9g (error %.2f x tolerance)",
                     is_f16 ? "f16" : "f32", m, n, k, accumulate ? " accumulate" : "", (long long)(at / n),
                     (long long)(at % n), (double)y[at], want[at], worst);
            fail = msg;
        }
    }
    free(x), free(wf), free(y), free(y0), free(wh), free(want), free(mag);
    cu_free_all(&a);
    return fail;
}

BT_TEST(cuda_matmul_float) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_matmul_float");
    static const int cases[][4] = {   /* m, n, k, accumulate */
        {1, 37, 64, 0}, {1, 4099, 2560, 0}, {2, 50, 77, 1}, {3, 33, 256, 0}, {4, 9, 1000, 0},
        {7, 40, 136, 1}, {8, 65, 520, 0}, {9, 70, 100, 0}, {70, 130, 300, 1}, {130, 64, 31, 0},
    };
    char msg[256];
    for (int f16 = 0; f16 < 2; f16++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            const char *fail = matmul_case(msg, sizeof msg, f16, cases[c][0], cases[c][1], cases[c][2], cases[c][3], &r);
            BT_CHECK(!fail, "%s", fail);
        }
}

/* ---- RMSNorm and softmax ---------------------------------------------------------- */

BT_TEST(cuda_rmsnorm) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_rmsnorm");
    static const int shapes[][2] = {{5, 2560}, {3, 77}, {1, 6912}};
    for (int c = 0; c < 3; c++)
        for (int with_w = 0; with_w < 2; with_w++) {
            int m = shapes[c][0], n = shapes[c][1];
            cu_arena a;
            cu_arena_init(&a);
            float *x = malloc(sizeof(float) * m * n), *w = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * m * n);
            double *want = malloc(sizeof(double) * m * n);
            random_floats(x, (int64_t)m * n, &r, -3.0f, 3.0f);
            random_floats(w, n, &r, 0.5f, 2.0f);
            for (int t = 0; t < m; t++) {
                double ss = 0.0;
                for (int i = 0; i < n; i++) ss += (double)x[t * n + i] * x[t * n + i];
                double rn = 1.0 / sqrt(ss / n + 1e-5);
                for (int i = 0; i < n; i++) want[t * n + i] = x[t * n + i] * rn * (with_w ? w[i] : 1.0);
            }
            float *dx = cu_upload(&a, x, sizeof(float) * m * n), *dw = cu_upload(&a, w, sizeof(float) * n);
            float *dy = cu_alloc(&a, sizeof(float) * m * n);
            BT_CHECK(dx && dw && dy, "%s", a.err);
            BT_CHECK(bt_cuda_rmsnorm_f32(dy, dx, with_w ? dw : NULL, m, n, 1e-5f, a.q, a.err) == 0, "%s", a.err);
            BT_CHECK(cu_download(&a, y, dy, sizeof(float) * m * n) == 0, "%s", a.err);
            int64_t at;
            double worst = cu_worst_error(y, want, NULL, (int64_t)m * n, 1e-7, 1e-5, &at);   /* float sum of n squares */
            BT_CHECK(worst <= 1.0, "[%d, %d]%s: out[%lld] = %.9g, want %.9g", m, n, with_w ? " weighted" : "",
                     (long long)at, (double)y[at], want[at]);
            /* in place */
            BT_CHECK(bt_cuda_rmsnorm_f32(dx, dx, with_w ? dw : NULL, m, n, 1e-5f, a.q, a.err) == 0, "%s", a.err);
            BT_CHECK(cu_download(&a, y, dx, sizeof(float) * m * n) == 0, "%s", a.err);
            worst = cu_worst_error(y, want, NULL, (int64_t)m * n, 1e-7, 1e-5, &at);
            BT_CHECK(worst <= 1.0, "[%d, %d] in place: out[%lld] = %.9g, want %.9g", m, n, (long long)at, (double)y[at],
                     want[at]);
            free(x), free(w), free(y), free(want);
            cu_free_all(&a);
        }
}

/* LayerNorm against a double reference: rows with a large mean next to their spread,
 * with and without weight and bias, in place too. */
BT_TEST(cuda_layernorm) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_layernorm");
    static const int shapes[][2] = {{5, 256}, {3, 77}, {2, 1000}};
    for (int c = 0; c < 3; c++)
        for (int affine = 0; affine < 2; affine++) {
            const int m = shapes[c][0], n = shapes[c][1];
            cu_arena a;
            cu_arena_init(&a);
            float *x = malloc(sizeof(float) * m * n), *w = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
            float *y = malloc(sizeof(float) * m * n);
            double *want = malloc(sizeof(double) * m * n);
            random_floats(x, (int64_t)m * n, &r, -3.0f, 3.0f);
            for (int i = 0; i < n; i++) x[i] += 40.0f;   /* row 0: mean 40, spread 3 */
            random_floats(w, n, &r, 0.5f, 2.0f);
            random_floats(b, n, &r, -0.5f, 0.5f);
            for (int t = 0; t < m; t++) {
                double sum = 0.0, ss = 0.0;
                for (int i = 0; i < n; i++) sum += x[t * n + i];
                const double mean = sum / n;
                for (int i = 0; i < n; i++) ss += (x[t * n + i] - mean) * (x[t * n + i] - mean);
                const double rn = 1.0 / sqrt(ss / n + 1e-6);
                for (int i = 0; i < n; i++)
                    want[t * n + i] = (x[t * n + i] - mean) * rn * (affine ? w[i] : 1.0) + (affine ? b[i] : 0.0);
            }
            float *dx = cu_upload(&a, x, sizeof(float) * m * n), *dw = cu_upload(&a, w, sizeof(float) * n);
            float *db = cu_upload(&a, b, sizeof(float) * n), *dy = cu_alloc(&a, sizeof(float) * m * n);
            BT_CHECK(dx && dw && db && dy, "%s", a.err);
            for (int in_place = 0; in_place < 2; in_place++) {
                float *out = in_place ? dx : dy;
                BT_CHECK(bt_cuda_layernorm_f32(out, dx, affine ? dw : NULL, affine ? db : NULL, m, n, 1e-6f, a.q,
                                               a.err) == 0, "%s", a.err);
                BT_CHECK(cu_download(&a, y, out, sizeof(float) * m * n) == 0, "%s", a.err);
                int64_t at;
                double worst = cu_worst_error(y, want, NULL, (int64_t)m * n, 2e-5, 2e-5, &at);   /* float sums */
                BT_CHECK(worst <= 1.0, "[%d, %d]%s%s: out[%lld] = %.9g, want %.9g", m, n, affine ? " affine" : "",
                         in_place ? " in place" : "", (long long)at, (double)y[at], want[at]);
            }
            free(x), free(w), free(b), free(y), free(want);
            cu_free_all(&a);
        }
}

BT_TEST(cuda_softmax) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_softmax");
    static const int shapes[][2] = {{4, 128256}, {3, 33}, {2, 1}};
    for (int c = 0; c < 3; c++) {
        int m = shapes[c][0], n = shapes[c][1];
        const float scale = 0.7f;
        cu_arena a;
        cu_arena_init(&a);
        float *x = malloc(sizeof(float) * m * n), *y = malloc(sizeof(float) * m * n);
        double *want = malloc(sizeof(double) * m * n);
        random_floats(x, (int64_t)m * n, &r, -20.0f, 20.0f);
        for (int t = 0; t < m; t++) {
            double mx = -INFINITY, sum = 0.0;
            for (int i = 0; i < n; i++) mx = fmax(mx, (double)x[t * n + i] * scale);
            for (int i = 0; i < n; i++) sum += exp((double)x[t * n + i] * scale - mx);
            for (int i = 0; i < n; i++) want[t * n + i] = exp((double)x[t * n + i] * scale - mx) / sum;
        }
        float *dx = cu_upload(&a, x, sizeof(float) * m * n), *dy = cu_alloc(&a, sizeof(float) * m * n);
        BT_CHECK(dx && dy, "%s", a.err);
        BT_CHECK(bt_cuda_softmax_f32(dy, dx, scale, m, n, a.q, a.err) == 0, "%s", a.err);
        BT_CHECK(cu_download(&a, y, dy, sizeof(float) * m * n) == 0, "%s", a.err);
        int64_t at;
        double worst = cu_worst_error(y, want, NULL, (int64_t)m * n, 1e-30, 2e-5, &at);   /* expf of f32 scaled inputs */
        BT_CHECK(worst <= 1.0, "[%d, %d]: out[%lld] = %.9g, want %.9g", m, n, (long long)at, (double)y[at], want[at]);
        free(x), free(y), free(want);
        cu_free_all(&a);
    }
}

/* ---- elementwise ------------------------------------------------------------------ */

static double ref_act(double v, int act) {
    if (act == BT_OP_SILU) return v / (1.0 + exp(-v));
    return v > 0 ? v * v : 0.0;
}

BT_TEST(cuda_elementwise) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_elementwise");
    const int64_t n = 100003, row = 61;   /* n is not a multiple of the row: mul gets n = 61 * 1639 below */
    const int64_t nm = row * 1639;
    cu_arena a;
    cu_arena_init(&a);
    float *x = malloc(sizeof(float) * n), *u = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    double *want = malloc(sizeof(double) * n);
    random_floats(x, n, &r, -12.0f, 12.0f);
    random_floats(u, n, &r, -3.0f, 3.0f);
    float *dx = cu_upload(&a, x, sizeof(float) * n), *du = cu_upload(&a, u, sizeof(float) * n);
    float *dy = cu_alloc(&a, sizeof(float) * n);
    BT_CHECK(dx && du && dy, "%s", a.err);
    int64_t at;
    for (int act = 0; act < 2; act++) {
        const char *name = act ? "relu2" : "silu";
        BT_CHECK(bt_cuda_activate_f32(dy, dx, n, act, a.q, a.err) == 0, "%s", a.err);
        BT_CHECK(cu_download(&a, y, dy, sizeof(float) * n) == 0, "%s", a.err);
        for (int64_t i = 0; i < n; i++) want[i] = ref_act(x[i], act);
        BT_CHECK(cu_worst_error(y, want, NULL, n, 1e-30, 2e-6, &at) <= 1.0, "%s: out[%lld] = %.9g, want %.9g", name,
                 (long long)at, (double)y[at], want[at]);
        BT_CHECK(bt_cuda_gated_f32(dy, dx, du, n, act, a.q, a.err) == 0, "%s", a.err);
        BT_CHECK(cu_download(&a, y, dy, sizeof(float) * n) == 0, "%s", a.err);
        for (int64_t i = 0; i < n; i++) want[i] = ref_act(x[i], act) * u[i];
        BT_CHECK(cu_worst_error(y, want, NULL, n, 1e-30, 3e-6, &at) <= 1.0, "gated %s: out[%lld] = %.9g, want %.9g",
                 name, (long long)at, (double)y[at], want[at]);
    }
    BT_CHECK(bt_cuda_activate_f32(dy, dx, n, 7, a.q, a.err) != 0, "activation 7 must be refused");
    BT_CHECK(bt_cuda_add_f32(dy, dx, du, n, a.q, a.err) == 0, "%s", a.err);
    BT_CHECK(cu_download(&a, y, dy, sizeof(float) * n) == 0, "%s", a.err);
    for (int64_t i = 0; i < n; i++)
        BT_CHECK(y[i] == x[i] + u[i], "add: out[%lld] = %.9g, want %.9g", (long long)i, (double)y[i], (double)(x[i] + u[i]));
    BT_CHECK(bt_cuda_mul_f32(dy, dx, du, nm, row, a.q, a.err) == 0, "%s", a.err);
    BT_CHECK(cu_download(&a, y, dy, sizeof(float) * nm) == 0, "%s", a.err);
    for (int64_t i = 0; i < nm; i++)
        BT_CHECK(y[i] == x[i] * u[i % row], "mul broadcast: out[%lld] = %.9g, want %.9g", (long long)i, (double)y[i],
                 (double)(x[i] * u[i % row]));
    BT_CHECK(bt_cuda_mul_f32(dy, dx, du, n, row, a.q, a.err) != 0, "a row length that does not divide n must be refused");
    /* axpy: y += 0.5 x (one fma or a rounded product and sum: within 1 ulp of the sum) */
    BT_CHECK(bt_cuda_memcpy(0, dy, u, sizeof(float) * n, 0, a.err) == 0, "%s", a.err);
    BT_CHECK(bt_cuda_axpy_f32(0, dy, dx, 0.5f, (size_t)n, a.err) == 0, "%s", a.err);
    BT_CHECK(cu_download(&a, y, dy, sizeof(float) * n) == 0, "%s", a.err);
    for (int64_t i = 0; i < n; i++) want[i] = 0.5 * x[i] + u[i];
    BT_CHECK(cu_worst_error(y, want, NULL, n, 1e-30, 1.2e-7, &at) <= 1.0, "axpy: out[%lld] = %.9g, want %.9g",
             (long long)at, (double)y[at], want[at]);
    free(x), free(u), free(y), free(want);
    cu_free_all(&a);
}

BT_TEST(cuda_embed) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_embed");
    const int vocab = 1000, d = 259, m = 6;
    const int32_t ids[6] = {0, 999, 17, 17, 1000, -1};   /* the last two are out of range: NaN rows */
    cu_arena a;
    cu_arena_init(&a);
    uint16_t *th = malloc(sizeof(uint16_t) * vocab * d);
    float *tf = malloc(sizeof(float) * vocab * d), *y = malloc(sizeof(float) * m * d);
    for (int i = 0; i < vocab * d; i++) {
        th[i] = bt_f32_to_f16(cu_uniform(&r, -1.0f, 1.0f));
        tf[i] = cu_uniform(&r, -1.0f, 1.0f);
    }
    int32_t *dids = cu_upload(&a, ids, sizeof ids);
    void *dth = cu_upload(&a, th, sizeof(uint16_t) * vocab * d), *dtf = cu_upload(&a, tf, sizeof(float) * vocab * d);
    float *dy = cu_alloc(&a, sizeof(float) * m * d);
    BT_CHECK(dids && dth && dtf && dy, "%s", a.err);
    for (int f16 = 0; f16 < 2; f16++) {
        int rc = f16 ? bt_cuda_embed_f16(dy, dth, dids, m, d, vocab, a.q, a.err)
                     : bt_cuda_embed_f32(dy, dtf, dids, m, d, vocab, a.q, a.err);
        BT_CHECK(rc == 0, "%s", a.err);
        BT_CHECK(cu_download(&a, y, dy, sizeof(float) * m * d) == 0, "%s", a.err);
        for (int t = 0; t < m; t++)
            for (int j = 0; j < d; j++) {
                float got = y[t * d + j];
                if (ids[t] < 0 || ids[t] >= vocab) {
                    BT_CHECK(isnan(got), "%s: id %d is out of range, row should be NaN", f16 ? "f16" : "f32", ids[t]);
                } else {
                    float want = f16 ? bt_f16_to_f32(th[(size_t)ids[t] * d + j]) : tf[(size_t)ids[t] * d + j];
                    BT_CHECK(got == want, "%s: out[%d, %d] = %.9g, want %.9g", f16 ? "f16" : "f32", t, j, (double)got,
                             (double)want);
                }
            }
    }
    free(th), free(tf), free(y);
    cu_free_all(&a);
}

#else
BT_TEST(cuda_float) { BT_SKIP("CUDA support not compiled in"); }
#endif
