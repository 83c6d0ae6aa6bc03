/* test_cuda_ternary.c - BitNet activation quantization and ternary matmul on the
 * GPU against plain C references on random inputs.
 *
 * Exact (bitwise) where the math is integer: the quantizer without norm, and
 * the matmul with per-row scales (int accumulation, then ((float)acc * w) / s in
 * the same order as the kernel). Tolerances, stated at each check, where float
 * sums are reordered: the fused RMSNorm and block-scaled weights. Shapes are odd
 * on purpose (rows not a multiple of 8, k not a multiple of 256, k beyond one
 * register batch) and cover every kernel path: both GEMVs (streaming and tiled)
 * for m = 1..8 and beyond, every launch plan of the streaming one (slices, block
 * size, early launch, passes of 1, 2, 4 or 8 tokens), tensor-core GEMM and the
 * dp4a fallback for m > 32, grouped matrices, TQ2_0 and I2_S sources. */
#include "check.h"
#ifdef BT_HAVE_CUDA
#include <stdio.h>
#include <stdlib.h>
#include "base/dtype.h"
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

#define Y_GUARD 64   /* floats after y that must stay untouched (0xFF bytes) */

/* Uploads a case's weights; 0 or -1 with a message in msg. */
static int upload_weights(char *msg, size_t cap, cu_arena *a, tcase c, const tdata *d, bt_cuda_ternary *wt) {
    int rc = c.src == SRC_TQ2_0 ? bt_cuda_ternary_upload_tq2_0(wt, d->src, c.n, c.k, a->q, a->err)
                                : bt_cuda_ternary_upload_i2_s(wt, d->src, c.n, c.k, a->q, a->err);
    if (rc) return snprintf(msg, cap, "upload: %s", a->err), -1;
    if (wt->block_scales != c.block_scales) return snprintf(msg, cap, "upload chose block_scales = %d", wt->block_scales), -1;
    return 0;
}

/* Uploads a case's activations; 0 or -1 (a->err). */
static int upload_activations(cu_arena *a, tcase c, const tdata *d, bt_cuda_q8 *x) {
    const int nb = c.k / 256 > 0 ? c.k / 256 : 1;
    x->q = cu_upload(a, d->q, (size_t)c.m * c.k);
    x->scale = cu_upload(a, d->s, sizeof(float) * c.m);
    x->sum = cu_upload(a, d->sum, 4 * (size_t)c.m);
    x->block_sum = c.k % 256 == 0 ? cu_upload(a, d->bsum, 4 * (size_t)c.m * nb) : NULL;
    return x->q && x->scale && x->sum && (c.k % 256 != 0 || x->block_sum) ? 0 : -1;
}

/* A device output of m*n floats plus the guard, holding y0 when accumulating; NULL on error (a->err). */
static float *output_buffer(cu_arena *a, tcase c, const tdata *d) {
    float *dy = cu_alloc(a, sizeof(float) * ((size_t)c.m * c.n + Y_GUARD));
    if (dy && c.accumulate && bt_cuda_memcpy(0, dy, d->y0, sizeof(float) * c.m * c.n, 0, a->err)) return NULL;
    return dy;
}

/* Checks y [m*n + guard] (downloaded) for case c with weights from dw and activations from dx;
 * 0, or -1 with a message in msg. */
static int check_output(char *msg, size_t cap, tcase c, const tdata *dw, const tdata *dx, const float *y) {
    const int nb = c.k / 256 > 0 ? c.k / 256 : 1;
    for (int i = 0; i < Y_GUARD; i++) {
        uint32_t bits;
        memcpy(&bits, &y[(size_t)c.m * c.n + i], 4);
        if (bits != 0xFFFFFFFFu) return snprintf(msg, cap, "wrote past y (element %d after the end)", i), -1;
    }
    for (int t = 0; t < c.m; t++)
        for (int i = 0; i < c.n; i++) {
            const int8_t *wr = dw->w + (size_t)i * c.k, *qr = dx->q + (size_t)t * c.k;
            float got = y[(size_t)t * c.n + i], want;
            if (!c.block_scales) {
                int acc = 0;
                for (int j = 0; j < c.k; j++) acc += wr[j] * qr[j];
                want = ((float)acc * dw->wscale[i * nb]) / dx->s[t];
                if (c.accumulate) want = dw->y0[(size_t)t * c.n + i] + want;
                if (memcmp(&got, &want, 4) != 0)
                    return snprintf(msg, cap, "y[%d, %d] = %.9g, want %.9g exactly (int acc %d)", t, i, (double)got,
                                    (double)want, acc), -1;
            } else {
                /* float partials per 256 columns: within 1e-5 of the magnitude sum */
                double ref = 0.0, mag = 0.0;
                for (int b = 0; b < nb; b++) {
                    long acc = 0, acc_abs = 0;
                    for (int j = 256 * b; j < 256 * (b + 1); j++) {
                        acc += wr[j] * qr[j];
                        acc_abs += abs(wr[j] * qr[j]);
                    }
                    ref += (double)dw->wscale[i * nb + b] * acc;
                    mag += fabs((double)dw->wscale[i * nb + b]) * acc_abs;
                }
                ref /= dx->s[t];
                mag /= dx->s[t];
                if (c.accumulate) ref += dw->y0[(size_t)t * c.n + i], mag += fabs(dw->y0[(size_t)t * c.n + i]);
                if (!(fabs(got - ref) <= 1e-6 + 1e-5 * mag))
                    return snprintf(msg, cap, "y[%d, %d] = %.9g, want %.9g within %.3g", t, i, (double)got, ref,
                                    1e-6 + 1e-5 * mag), -1;
            }
        }
    return 0;
}

/* "n=.. k=.. m=.. SRC[ block-scaled][ accumulate]: " at the start of msg; its length. */
static size_t case_label(char *msg, size_t cap, tcase c) {
    static const char *src_name[] = {"TQ2_0", "I2_S"};
    snprintf(msg, cap, "n=%d k=%d m=%d %s%s%s: ", c.n, c.k, c.m, src_name[c.src], c.block_scales ? " block-scaled" : "",
             c.accumulate ? " accumulate" : "");
    return strlen(msg);
}

/* Runs one case through bt_cuda_ternary_matmul; NULL when the GPU result matches, else a message in msg. */
static const char *run_case(char *msg, size_t cap, tcase c, cu_rng *r) {
    cu_arena a;
    cu_arena_init(&a);
    tdata d;
    tdata_make(&d, c, r);
    size_t at = case_label(msg, cap, c);
    int fail = 0;
    bt_cuda_ternary wt = {0};
    bt_cuda_q8 x;
    float *y = malloc(sizeof(float) * ((size_t)c.m * c.n + Y_GUARD)), *dy = NULL;
    if (upload_weights(msg + at, cap - at, &a, c, &d, &wt)) fail = 1;
    else if (upload_activations(&a, c, &d, &x) || !(dy = output_buffer(&a, c, &d)))
        fail = 1, snprintf(msg + at, cap - at, "%s", a.err);
    else if (bt_cuda_ternary_matmul(dy, x, &wt, c.m, c.accumulate, a.q, a.err) ||
             cu_download(&a, y, dy, sizeof(float) * ((size_t)c.m * c.n + Y_GUARD)))
        fail = 1, snprintf(msg + at, cap - at, "matmul: %s", a.err);
    else fail = check_output(msg + at, cap - at, c, &d, &d, y) != 0;
    if (wt.data) bt_cuda_ternary_free(&wt, 0, a.err);
    free(y);
    tdata_free(&d);
    cu_free_all(&a);
    return fail ? msg : NULL;
}

static const char *run_cases(char *msg, size_t cap, const tcase *cases, int count, cu_rng *r) {
    for (int i = 0; i < count; i++) {
        const char *fail = run_case(msg, cap, cases[i], r);
        if (fail) return fail;
    }
    return NULL;
}

/* The same under one GEMV tuning (restored after). */
static const char *run_cases_with(char *msg, size_t cap, const tcase *cases, int count, bt_cuda_gemv_tuning t,
                                  cu_rng *r) {
    bt_cuda_gemv_tuning saved = bt_cuda_gemv_tuning_get();
    bt_cuda_gemv_tuning_set(t);
    const char *fail = run_cases(msg, cap, cases, count, r);
    bt_cuda_gemv_tuning_set(saved);
    return fail;
}

static const tcase gemv_cases[] = {
    {8, 256, 1, SRC_TQ2_0, 0, 0},    {37, 512, 1, SRC_TQ2_0, 0, 0},  {37, 512, 2, SRC_TQ2_0, 0, 1},
    {45, 768, 3, SRC_TQ2_0, 0, 0},   {45, 768, 4, SRC_TQ2_0, 0, 0},  {640, 2560, 1, SRC_TQ2_0, 0, 0},
    {100, 6912, 1, SRC_TQ2_0, 0, 1}, {16, 8704, 2, SRC_TQ2_0, 0, 0}, /* k beyond one register batch */
    {14, 64, 1, SRC_I2_S, 0, 0},     {64, 320, 1, SRC_I2_S, 0, 0},   {66, 448, 4, SRC_I2_S, 0, 1},
    {45, 768, 6, SRC_TQ2_0, 0, 0},   {37, 512, 8, SRC_TQ2_0, 0, 1},  {16, 8704, 7, SRC_TQ2_0, 0, 0},
};
#define N_GEMV_CASES ((int)(sizeof gemv_cases / sizeof gemv_cases[0]))

BT_TEST(cuda_ternary_gemv_exact) {   /* the default GEMV (streaming unless BITTTT_CUDA_GEMV says tiled) */
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ternary_gemv_exact");
    char msg[256];
    const char *fail = run_cases(msg, sizeof msg, gemv_cases, N_GEMV_CASES, &r);
    BT_CHECK(!fail, "%s", fail);
}

BT_TEST(cuda_ternary_gemv_tiled_exact) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ternary_gemv_tiled_exact");
    char msg[256];
    bt_cuda_gemv_tuning t = {BT_CUDA_GEMV_TILED, 0, 0, 1};
    const char *fail = run_cases_with(msg, sizeof msg, gemv_cases, N_GEMV_CASES, t, &r);
    BT_CHECK(!fail, "tiled GEMV: %s", fail);
}

/* Every launch plan of the streaming GEMV: slices 1..8 (a slice of 1 tile, of several
 * register batches), block sizes that hold several row groups or leave warps idle,
 * early launch on and off, passes of 1, 2, 4 and 8 tokens (and 4 or 2 when k is large),
 * several passes with weights kept in registers or reloaded. */
BT_TEST(cuda_ternary_gemv_stream_plans_exact) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ternary_gemv_stream_plans_exact");
    const tcase cases[] = {
        {37, 512, 1, SRC_TQ2_0, 0, 0},  {45, 768, 3, SRC_TQ2_0, 0, 1},   {70, 2560, 2, SRC_I2_S, 0, 0},
        {19, 8704, 5, SRC_TQ2_0, 0, 0}, {24, 6912, 11, SRC_TQ2_0, 0, 1}, {9, 16384, 4, SRC_I2_S, 0, 0},
        {13, 256, 20, SRC_TQ2_0, 0, 0},
    };
    static const int plans[][3] = {{1, 1, 0}, {1, 4, 1}, {2, 2, 1}, {2, 6, 0}, {4, 4, 1}, {4, 8, 0}, {8, 8, 1},
                                   {0, 3, 1}, {0, 0, 0}};
    char msg[256];
    for (int p = 0; p < (int)(sizeof plans / sizeof plans[0]); p++) {
        bt_cuda_gemv_tuning t = {BT_CUDA_GEMV_STREAM, plans[p][0], plans[p][1], plans[p][2]};
        const char *fail = run_cases_with(msg, sizeof msg, cases, (int)(sizeof cases / sizeof cases[0]), t, &r);
        BT_CHECK(!fail, "slices %d, block_warps %d, early_launch %d: %s", t.slices, t.block_warps, t.early_launch, fail);
    }
}

static const char *run_gemm_cases(char *msg, size_t cap, int use_mma, int gemv_kernel, cu_rng *r) {
    const tcase cases[] = {
        {300, 448, 9, SRC_I2_S, 0, 0},    {128, 256, 64, SRC_TQ2_0, 0, 0}, {300, 448, 130, SRC_I2_S, 0, 1},
        {520, 2560, 65, SRC_TQ2_0, 0, 0}, {10, 64, 17, SRC_I2_S, 0, 0},    {136, 192, 100, SRC_I2_S, 0, 0},
    };
    bt_cuda_tuning saved = bt_cuda_tuning_get(), t = saved;
    t.ternary_mma = use_mma;
    bt_cuda_tuning_set(t);
    bt_cuda_gemv_tuning g = bt_cuda_gemv_tuning_get();
    g.kernel = gemv_kernel;
    const char *fail = run_cases_with(msg, cap, cases, (int)(sizeof cases / sizeof cases[0]), g, r);
    bt_cuda_tuning_set(saved);
    return fail;
}

BT_TEST(cuda_ternary_gemm_mma_exact) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ternary_gemm_mma_exact");
    char msg[256];
    const char *fail = run_gemm_cases(msg, sizeof msg, 1, BT_CUDA_GEMV_STREAM, &r);
    BT_CHECK(!fail, "tensor-core path: %s", fail);
}

BT_TEST(cuda_ternary_gemm_dp4a_exact) {   /* m > 8 with the tensor cores off: both GEMVs */
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ternary_gemm_dp4a_exact");
    char msg[256];
    const char *fail = run_gemm_cases(msg, sizeof msg, 0, BT_CUDA_GEMV_STREAM, &r);
    BT_CHECK(!fail, "streaming dp4a path: %s", fail);
    fail = run_gemm_cases(msg, sizeof msg, 0, BT_CUDA_GEMV_TILED, &r);
    BT_CHECK(!fail, "tiled dp4a path: %s", fail);
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

/* ---- grouped matmul ---------------------------------------------------------------- */

/* count matrices (cases of one k and m) on the activations of the first; NULL or a message. */
static const char *run_group(char *msg, size_t cap, const tcase *cases, int count, cu_rng *r) {
    cu_arena a;
    cu_arena_init(&a);
    tdata d[4];
    bt_cuda_ternary wt[4] = {{0}};
    float *dy[4] = {0}, *y[4] = {0};
    bt_cuda_q8 x;
    int fail = 0, made = 0;
    size_t at = case_label(msg, cap, cases[0]);
    for (; made < count && !fail; made++) {
        tdata_make(&d[made], cases[made], r);
        fail = upload_weights(msg + at, cap - at, &a, cases[made], &d[made], &wt[made]) != 0;
        if (!fail && !(dy[made] = output_buffer(&a, cases[made], &d[made])))
            fail = 1, snprintf(msg + at, cap - at, "%s", a.err);
        y[made] = malloc(sizeof(float) * ((size_t)cases[made].m * cases[made].n + Y_GUARD));
    }
    if (!fail && upload_activations(&a, cases[0], &d[0], &x)) fail = 1, snprintf(msg + at, cap - at, "%s", a.err);
    if (!fail && bt_cuda_ternary_matmul_group(dy, x, wt, count, cases[0].m, cases[0].accumulate, a.q, a.err))
        fail = 1, snprintf(msg + at, cap - at, "matmul group: %s", a.err);
    for (int i = 0; i < count && !fail; i++) {
        if (cu_download(&a, y[i], dy[i], sizeof(float) * ((size_t)cases[i].m * cases[i].n + Y_GUARD)))
            fail = 1, snprintf(msg + at, cap - at, "%s", a.err);
        else if (check_output(msg + at, cap - at, cases[i], &d[i], &d[0], y[i]))
            fail = 1, at = strlen(msg), snprintf(msg + at, cap - at, " (matrix %d of %d)", i, count);
    }
    for (int i = 0; i < made; i++) {
        if (wt[i].data) bt_cuda_ternary_free(&wt[i], 0, a.err);
        free(y[i]);
        tdata_free(&d[i]);
    }
    cu_free_all(&a);
    return fail ? msg : NULL;
}

/* q/k/v-like and gate/up-like groups (row counts not multiples of 8), under both GEMVs,
 * and a group with a block-scaled matrix (one matmul per matrix). */
BT_TEST(cuda_ternary_matmul_group_exact) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ternary_matmul_group_exact");
    const tcase qkv[] = {{75, 2560, 1, SRC_TQ2_0, 0, 0}, {21, 2560, 1, SRC_I2_S, 0, 0}, {8, 2560, 1, SRC_TQ2_0, 0, 0}};
    const tcase gate_up[] = {{130, 768, 3, SRC_I2_S, 0, 1}, {61, 768, 3, SRC_TQ2_0, 0, 1}};
    const tcase four[] = {{9, 512, 6, SRC_TQ2_0, 0, 0}, {16, 512, 6, SRC_TQ2_0, 0, 0}, {1, 512, 6, SRC_I2_S, 0, 0},
                          {40, 512, 6, SRC_TQ2_0, 0, 0}};
    const tcase mixed[] = {{24, 512, 2, SRC_TQ2_0, 1, 0}, {33, 512, 2, SRC_TQ2_0, 0, 0}};
    bt_cuda_gemv_tuning saved = bt_cuda_gemv_tuning_get();
    char msg[256];
    for (int kernel = BT_CUDA_GEMV_TILED; kernel <= BT_CUDA_GEMV_STREAM; kernel++) {
        bt_cuda_gemv_tuning t = {kernel, 0, 0, 1};
        bt_cuda_gemv_tuning_set(t);
        const char *fail = run_group(msg, sizeof msg, qkv, 3, &r);
        if (!fail) fail = run_group(msg, sizeof msg, gate_up, 2, &r);
        if (!fail) fail = run_group(msg, sizeof msg, four, 4, &r);
        if (!fail) fail = run_group(msg, sizeof msg, mixed, 2, &r);
        bt_cuda_gemv_tuning_set(saved);
        BT_CHECK(!fail, "%s GEMV: %s", kernel == BT_CUDA_GEMV_TILED ? "tiled" : "streaming", fail);
    }
    char err[BT_CUDA_ERR_CAP];
    bt_cuda_ternary w2[2] = {{(void *)16, 8, 256, 0}, {(void *)16, 8, 512, 0}};
    float *ys[2] = {(float *)16, (float *)16};
    bt_cuda_q8 x = {(int8_t *)16, (float *)16, (int32_t *)16, NULL};
    bt_cuda_queue q = {0, NULL};
    BT_CHECK(bt_cuda_ternary_matmul_group(ys, x, w2, 2, 1, 0, q, err) != 0, "matrices of different k must be refused");
    BT_CHECK(bt_cuda_ternary_matmul_group(ys, x, w2, 5, 1, 0, q, err) != 0, "more than 4 matrices must be refused");
}

#else
BT_TEST(cuda_ternary) { BT_SKIP("CUDA support not compiled in"); }
#endif
