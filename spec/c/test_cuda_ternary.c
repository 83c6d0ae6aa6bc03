/* test_cuda_ternary.c - BitNet activation quantization and ternary matmul on the
 * GPU against plain C references on random inputs.
 *
 * Exact (bitwise) where the math is integer: the quantizer without norm, and
 * the matmul with per-row scales (int accumulation, then ((float)acc * w) / s in
 * the same order as the kernel). Tolerances, stated at each check, where float
 * sums are reordered: the fused RMSNorm and block-scaled weights. Shapes are odd
 * on purpose (rows not a multiple of 8, k not a multiple of 256, k beyond one
 * register batch) and cover every kernel path: GEMV for m = 1..8 (one or more
 * passes of 1, 2 or 4 tokens), tensor-core GEMM and the dp4a fallback for m > 8,
 * TQ2_0 and I2_S sources. */
#include "check.h"
#ifdef BT_HAVE_CUDA
#include <stdio.h>
#include <stdlib.h>
#include "runtime/dtype.h"
#include "test_cuda_ternary_ref.h"

/* ---- activation quantization ------------------------------------------------ */

static void ref_quantize(int8_t *q, float *scale, int32_t *sum, int32_t *block_sum, const float *x, int m, int k) {
    for (int t = 0; t < m; t++) {
        const float *xr = x + (size_t)t * k;
        float mx = 0.0f;
        for (int i = 0; i < k; i++) mx = fmaxf(mx, fabsf(xr[i]));
        float s = 127.0f / fmaxf(mx, 1e-5f);
        int total = 0;
        for (int i = 0; i < k; i++) {
            float v = xr[i] * s;
            int qi = (int)rintf(v);
            qi = qi > 127 ? 127 : qi < -128 ? -128 : qi;
            q[(size_t)t * k + i] = (int8_t)qi;
            total += qi;
            if (block_sum) block_sum[(size_t)t * (k / 256) + i / 256] += qi;
        }
        scale[t] = s;
        sum[t] = total;
    }
}

/* Rows with different magnitudes, an all-zero row (max clamps to 1e-5) and exact .5 ties. */
static void random_activations(float *x, int m, int k, cu_rng *r) {
    for (int t = 0; t < m; t++) {
        float mag = t == 1 ? 0.0f : cu_uniform(r, 0.01f, 30.0f);
        for (int i = 0; i < k; i++) x[(size_t)t * k + i] = mag * cu_uniform(r, -1.0f, 1.0f);
        if (t == 2 && k >= 3) {   /* max 127 gives s = 1: 2.5 and -3.5 must round to even */
            x[(size_t)t * k] = 127.0f;
            x[(size_t)t * k + 1] = 2.5f;
            x[(size_t)t * k + 2] = -3.5f;
        }
    }
}

BT_TEST(cuda_quantize_q8_exact) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_quantize_q8_exact");
    static const int shapes[][2] = {{5, 704}, {7, 768}, {1, 2560}, {3, 6912}};
    for (int c = 0; c < 4; c++) {
        int m = shapes[c][0], k = shapes[c][1], blocks = k % 256 == 0;
        cu_arena a;
        cu_arena_init(&a);
        float *x = malloc(sizeof(float) * m * k), *s_ref = malloc(sizeof(float) * m), *s = malloc(sizeof(float) * m);
        int8_t *q_ref = malloc((size_t)m * k), *q = malloc((size_t)m * k);
        int32_t *sum_ref = malloc(4 * m), *sum = malloc(4 * m);
        int32_t *bs_ref = calloc((size_t)m * (k / 256) + 1, 4), *bs = calloc((size_t)m * (k / 256) + 1, 4);
        random_activations(x, m, k, &r);
        ref_quantize(q_ref, s_ref, sum_ref, blocks ? bs_ref : NULL, x, m, k);

        bt_cuda_q8 d = {0};
        float *dx = cu_upload(&a, x, sizeof(float) * m * k);
        d.q = cu_alloc(&a, (size_t)m * k);
        d.scale = cu_alloc(&a, sizeof(float) * m);
        d.sum = cu_alloc(&a, 4 * m);
        d.block_sum = blocks ? cu_alloc(&a, 4 * (size_t)m * (k / 256)) : NULL;
        BT_CHECK(dx && d.q && d.scale && d.sum && (!blocks || d.block_sum), "%s", a.err);
        BT_CHECK(bt_cuda_quantize_q8(d, dx, NULL, 0.0f, m, k, a.q, a.err) == 0, "%s", a.err);
        BT_CHECK(cu_download(&a, q, d.q, (size_t)m * k) == 0 && cu_download(&a, s, d.scale, 4 * m) == 0 &&
                 cu_download(&a, sum, d.sum, 4 * m) == 0, "%s", a.err);
        if (blocks) BT_CHECK(cu_download(&a, bs, d.block_sum, 4 * (size_t)m * (k / 256)) == 0, "%s", a.err);
        for (int t = 0; t < m; t++) {
            BT_CHECK(memcmp(&s[t], &s_ref[t], 4) == 0, "[%d, %d] row %d: scale %.9g, want %.9g", m, k, t,
                     (double)s[t], (double)s_ref[t]);
            BT_CHECK(sum[t] == sum_ref[t], "[%d, %d] row %d: sum %d, want %d", m, k, t, sum[t], sum_ref[t]);
        }
        for (int64_t i = 0; i < (int64_t)m * k; i++)
            BT_CHECK(q[i] == q_ref[i], "[%d, %d] q[%lld] (x = %.9g) = %d, want %d", m, k, (long long)i,
                     (double)x[i], q[i], q_ref[i]);
        for (int i = 0; blocks && i < m * (k / 256); i++)
            BT_CHECK(bs[i] == bs_ref[i], "[%d, %d] block sum %d = %d, want %d", m, k, i, bs[i], bs_ref[i]);
        free(x), free(s_ref), free(s), free(q_ref), free(q), free(sum_ref), free(sum), free(bs_ref), free(bs);
        cu_free_all(&a);
    }
}

/* Fused RMSNorm: the GPU's float sum of squares differs from the double reference by a few
 * ulps, so the scale must agree to 1e-5 (relative), each q must lie within 0.5 + 0.003 of
 * h * s computed in double (a near-tie may round either way), and the sums must add up the
 * GPU's own q exactly. */
BT_TEST(cuda_quantize_q8_rmsnorm) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_quantize_q8_rmsnorm");
    const int m = 6, k = 2560;
    const float eps = 1e-5f;
    cu_arena a;
    cu_arena_init(&a);
    float *x = malloc(sizeof(float) * m * k), *w = malloc(sizeof(float) * k), *s = malloc(sizeof(float) * m);
    int8_t *q = malloc((size_t)m * k);
    int32_t *sum = malloc(4 * m), *bs = malloc(4 * (size_t)m * (k / 256));
    random_activations(x, m, k, &r);
    for (int i = 0; i < k; i++) w[i] = cu_uniform(&r, 0.5f, 1.5f);

    bt_cuda_q8 d;
    float *dx = cu_upload(&a, x, sizeof(float) * m * k), *dw = cu_upload(&a, w, sizeof(float) * k);
    d.q = cu_alloc(&a, (size_t)m * k);
    d.scale = cu_alloc(&a, sizeof(float) * m);
    d.sum = cu_alloc(&a, 4 * m);
    d.block_sum = cu_alloc(&a, 4 * (size_t)m * (k / 256));
    BT_CHECK(dx && dw && d.q && d.scale && d.sum && d.block_sum, "%s", a.err);
    BT_CHECK(bt_cuda_quantize_q8(d, dx, dw, eps, m, k, a.q, a.err) == 0, "%s", a.err);
    BT_CHECK(cu_download(&a, q, d.q, (size_t)m * k) == 0 && cu_download(&a, s, d.scale, 4 * m) == 0 &&
             cu_download(&a, sum, d.sum, 4 * m) == 0 && cu_download(&a, bs, d.block_sum, 4 * (size_t)m * (k / 256)) == 0,
             "%s", a.err);
    for (int t = 0; t < m; t++) {
        const float *xr = x + (size_t)t * k;
        double ss = 0.0, mx = 0.0;
        for (int i = 0; i < k; i++) ss += (double)xr[i] * xr[i];
        double rn = 1.0 / sqrt(ss / k + eps);
        for (int i = 0; i < k; i++) mx = fmax(mx, fabs(xr[i] * rn * w[i]));
        double s_ref = 127.0 / fmax(mx, 1e-5);
        BT_CHECK(fabs(s[t] - s_ref) <= 1e-5 * s_ref, "row %d: scale %.9g, want %.9g", t, (double)s[t], s_ref);
        int total = 0;
        for (int i = 0; i < k; i++) {
            double want = xr[i] * rn * w[i] * s_ref;
            int got = q[(size_t)t * k + i];
            BT_CHECK(fabs(got - want) <= 0.503, "row %d col %d: q %d, h*s %.6f", t, i, got, want);
            total += got;
        }
        BT_CHECK(sum[t] == total, "row %d: sum %d, the q add up to %d", t, sum[t], total);
        for (int b = 0; b < k / 256; b++) {
            int bt = 0;
            for (int i = 0; i < 256; i++) bt += q[(size_t)t * k + 256 * b + i];
            BT_CHECK(bs[t * (k / 256) + b] == bt, "row %d block %d: sum %d, the q add up to %d", t, b,
                     bs[t * (k / 256) + b], bt);
        }
    }
    free(x), free(w), free(s), free(q), free(sum), free(bs);
    cu_free_all(&a);
}

/* ---- ternary matmul ------------------------------------------------------------ */

enum { SRC_TQ2_0, SRC_I2_S };

typedef struct tcase {
    int n, k, m, src, block_scales, accumulate;
} tcase;

/* Host side of one case: weights, their scales, activations and the expected output. */
typedef struct tdata {
    int8_t *w;          /* [n, k] */
    float *wscale;      /* [n, k/256]; with row scales every entry of a row is the same */
    uint8_t *src;       /* the GGUF bytes */
    int8_t *q;          /* [m, k] */
    float *s;           /* [m] */
    int32_t *sum, *bsum;
    float *y0;          /* [m, n] initial y for accumulate */
} tdata;

static void tdata_make(tdata *d, tcase c, cu_rng *r) {
    int nb = c.k / 256 > 0 ? c.k / 256 : 1;
    d->w = malloc((size_t)c.n * c.k);
    d->wscale = malloc(sizeof(float) * c.n * nb);
    d->q = malloc((size_t)c.m * c.k);
    d->s = malloc(sizeof(float) * c.m);
    d->sum = calloc(c.m, 4);
    d->bsum = calloc((size_t)c.m * nb, 4);
    d->y0 = malloc(sizeof(float) * c.m * c.n);
    ref_random_ternary(d->w, (size_t)c.n * c.k, r, cu_int(r, 10, 60));
    if (c.src == SRC_TQ2_0) {
        uint16_t *d_bits = malloc(sizeof(uint16_t) * c.n * nb);
        for (int i = 0; i < c.n; i++) {
            uint16_t row_d = bt_f32_to_f16(cu_uniform(r, 0.02f, 0.3f));
            for (int b = 0; b < nb; b++) {
                d_bits[i * nb + b] = c.block_scales ? bt_f32_to_f16(cu_uniform(r, -0.5f, 0.5f)) : row_d;
                d->wscale[i * nb + b] = bt_f16_to_f32(d_bits[i * nb + b]);
            }
        }
        d->src = malloc((size_t)c.n * nb * 66);
        ref_encode_tq2_0(d->src, d->w, d_bits, c.n, c.k);
        free(d_bits);
    } else {
        float scale = cu_uniform(r, 0.01f, 3.0f);
        for (int i = 0; i < c.n * nb; i++) d->wscale[i] = scale;
        d->src = malloc((size_t)c.n * c.k / 4 + 32);
        ref_encode_i2_s(d->src, d->w, scale, c.n, c.k);
    }
    for (int t = 0; t < c.m; t++) {
        d->s[t] = cu_uniform(r, 0.5f, 300.0f);
        int extreme = cu_int(r, 0, 7);   /* some rows all -128 or all 127 */
        for (int i = 0; i < c.k; i++) {
            int v = extreme == 0 ? -128 : extreme == 1 ? 127 : cu_int(r, -128, 127);
            d->q[(size_t)t * c.k + i] = (int8_t)v;
            d->sum[t] += v;
            if (c.k % 256 == 0) d->bsum[(size_t)t * nb + i / 256] += v;
        }
    }
    for (int i = 0; i < c.m * c.n; i++) d->y0[i] = cu_uniform(r, -10.0f, 10.0f);
}

static void tdata_free(tdata *d) {
    free(d->w), free(d->wscale), free(d->src), free(d->q), free(d->s), free(d->sum), free(d->bsum), free(d->y0);
}

/* Runs one case; NULL when the GPU result matches, else a message in msg. */
static const char *run_case(char *msg, size_t cap, tcase c, cu_rng *r) {
    static const char *src_name[] = {"TQ2_0", "I2_S"};
    cu_arena a;
    cu_arena_init(&a);
    tdata d;
    tdata_make(&d, c, r);
    const char *fail = NULL;
    const int nb = c.k / 256 > 0 ? c.k / 256 : 1, guard = 64;
    bt_cuda_ternary wt;
    float *y = NULL;
#define CASE_FAIL(...) do { snprintf(msg, cap, "n=%d k=%d m=%d %s%s%s: ", c.n, c.k, c.m, src_name[c.src], \
                             c.block_scales ? " block-scaled" : "", c.accumulate ? " accumulate" : "");    \
                             size_t used_ = strlen(msg); snprintf(msg + used_, cap - used_, __VA_ARGS__);     \
                             fail = msg; goto done; } while (0)
    int rc = c.src == SRC_TQ2_0 ? bt_cuda_ternary_upload_tq2_0(&wt, d.src, c.n, c.k, a.q, a.err)
                                : bt_cuda_ternary_upload_i2_s(&wt, d.src, c.n, c.k, a.q, a.err);
    if (rc) CASE_FAIL("upload: %s", a.err);
    if (wt.block_scales != c.block_scales) CASE_FAIL("upload chose block_scales = %d", wt.block_scales);

    bt_cuda_q8 x;
    x.q = cu_upload(&a, d.q, (size_t)c.m * c.k);
    x.scale = cu_upload(&a, d.s, sizeof(float) * c.m);
    x.sum = cu_upload(&a, d.sum, 4 * (size_t)c.m);
    x.block_sum = c.k % 256 == 0 ? cu_upload(&a, d.bsum, 4 * (size_t)c.m * nb) : NULL;
    y = malloc(sizeof(float) * ((size_t)c.m * c.n + guard));
    float *dy = cu_alloc(&a, sizeof(float) * ((size_t)c.m * c.n + guard));
    if (!x.q || !x.scale || !x.sum || !dy || (c.k % 256 == 0 && !x.block_sum)) CASE_FAIL("%s", a.err);
    if (c.accumulate && bt_cuda_memcpy(0, dy, d.y0, sizeof(float) * c.m * c.n, 0, a.err)) CASE_FAIL("%s", a.err);
    if (bt_cuda_ternary_matmul(dy, x, &wt, c.m, c.accumulate, a.q, a.err)) CASE_FAIL("matmul: %s", a.err);
    if (cu_download(&a, y, dy, sizeof(float) * ((size_t)c.m * c.n + guard))) CASE_FAIL("%s", a.err);

    for (int i = 0; i < guard; i++) {
        uint32_t bits;
        memcpy(&bits, &y[(size_t)c.m * c.n + i], 4);
        if (bits != 0xFFFFFFFFu) CASE_FAIL("wrote past y (element %d after the end)", i);
    }
    for (int t = 0; t < c.m; t++)
        for (int i = 0; i < c.n; i++) {
            const int8_t *wr = d.w + (size_t)i * c.k, *qr = d.q + (size_t)t * c.k;
            float got = y[(size_t)t * c.n + i], want;
            if (!c.block_scales) {
                int acc = 0;
                for (int j = 0; j < c.k; j++) acc += wr[j] * qr[j];
                want = ((float)acc * d.wscale[i * nb]) / d.s[t];
                if (c.accumulate) want = d.y0[(size_t)t * c.n + i] + want;
                if (memcmp(&got, &want, 4) != 0)
                    CASE_FAIL("y[%d, %d] = %.9g, want %.9g exactly (int acc %d)", t, i, (double)got, (double)want, acc);
            } else {
                /* float partials per 256 columns: within 1e-5 of the magnitude sum */
                double ref = 0.0, mag = 0.0;
                for (int b = 0; b < nb; b++) {
                    long acc = 0, acc_abs = 0;
                    for (int j = 256 * b; j < 256 * (b + 1); j++) {
                        acc += wr[j] * qr[j];
                        acc_abs += abs(wr[j] * qr[j]);
                    }
                    ref += (double)d.wscale[i * nb + b] * acc;
                    mag += fabs((double)d.wscale[i * nb + b]) * acc_abs;
                }
                ref /= d.s[t];
                mag /= d.s[t];
                if (c.accumulate) ref += d.y0[(size_t)t * c.n + i], mag += fabs(d.y0[(size_t)t * c.n + i]);
                if (!(fabs(got - ref) <= 1e-6 + 1e-5 * mag))
                    CASE_FAIL("y[%d, %d] = %.9g, want %.9g within %.3g", t, i, (double)got, ref, 1e-6 + 1e-5 * mag);
            }
        }
done:
#undef CASE_FAIL
    if (wt.data) bt_cuda_ternary_free(&wt, 0, a.err);
    free(y);
    tdata_free(&d);
    cu_free_all(&a);
    return fail;
}

static const char *run_cases(char *msg, size_t cap, const tcase *cases, int count, cu_rng *r) {
    for (int i = 0; i < count; i++) {
        const char *fail = run_case(msg, cap, cases[i], r);
        if (fail) return fail;
    }
    return NULL;
}

BT_TEST(cuda_ternary_gemv_exact) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ternary_gemv_exact");
    const tcase cases[] = {
        {8, 256, 1, SRC_TQ2_0, 0, 0},    {37, 512, 1, SRC_TQ2_0, 0, 0},  {37, 512, 2, SRC_TQ2_0, 0, 1},
        {45, 768, 3, SRC_TQ2_0, 0, 0},   {45, 768, 4, SRC_TQ2_0, 0, 0},  {640, 2560, 1, SRC_TQ2_0, 0, 0},
        {100, 6912, 1, SRC_TQ2_0, 0, 1}, {16, 8704, 2, SRC_TQ2_0, 0, 0}, /* k beyond one register batch */
        {14, 64, 1, SRC_I2_S, 0, 0},     {64, 320, 1, SRC_I2_S, 0, 0},   {66, 448, 4, SRC_I2_S, 0, 1},
        {45, 768, 6, SRC_TQ2_0, 0, 0},   {37, 512, 8, SRC_TQ2_0, 0, 1},  {16, 8704, 7, SRC_TQ2_0, 0, 0},
    };
    char msg[256];
    const char *fail = run_cases(msg, sizeof msg, cases, (int)(sizeof cases / sizeof cases[0]), &r);
    BT_CHECK(!fail, "%s", fail);
}

static const char *run_gemm_cases(char *msg, size_t cap, int use_mma, cu_rng *r) {
    const tcase cases[] = {
        {300, 448, 9, SRC_I2_S, 0, 0},    {128, 256, 64, SRC_TQ2_0, 0, 0}, {300, 448, 130, SRC_I2_S, 0, 1},
        {520, 2560, 65, SRC_TQ2_0, 0, 0}, {10, 64, 17, SRC_I2_S, 0, 0},    {136, 192, 100, SRC_I2_S, 0, 0},
    };
    bt_cuda_tuning saved = bt_cuda_tuning_get(), t = saved;
    t.ternary_mma = use_mma;
    bt_cuda_tuning_set(t);
    const char *fail = run_cases(msg, cap, cases, (int)(sizeof cases / sizeof cases[0]), r);
    bt_cuda_tuning_set(saved);
    return fail;
}

BT_TEST(cuda_ternary_gemm_mma_exact) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ternary_gemm_mma_exact");
    char msg[256];
    const char *fail = run_gemm_cases(msg, sizeof msg, 1, &r);
    BT_CHECK(!fail, "tensor-core path: %s", fail);
}

BT_TEST(cuda_ternary_gemm_dp4a_exact) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ternary_gemm_dp4a_exact");
    char msg[256];
    const char *fail = run_gemm_cases(msg, sizeof msg, 0, &r);
    BT_CHECK(!fail, "dp4a path: %s", fail);
}

BT_TEST(cuda_ternary_block_scales) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ternary_block_scales");
    const tcase cases[] = {
        {24, 512, 1, SRC_TQ2_0, 1, 0}, {40, 1024, 3, SRC_TQ2_0, 1, 1}, {17, 768, 6, SRC_TQ2_0, 1, 0},
        {8, 8960, 2, SRC_TQ2_0, 1, 0},
    };
    char msg[256];
    const char *fail = run_cases(msg, sizeof msg, cases, (int)(sizeof cases / sizeof cases[0]), &r);
    BT_CHECK(!fail, "%s", fail);
}

#else
BT_TEST(cuda_ternary) { BT_SKIP("CUDA support not compiled in"); }
#endif
