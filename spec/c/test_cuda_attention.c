/* test_cuda_attention.c - RoPE, KV-cache writes and causal grouped-query
 * attention on the GPU against double-precision C references. Shapes cover
 * every head_dim the kernel supports, 1 to 8 query heads per kv head, decode
 * (one row) and prompt batches, with and without split keys (flash-decoding),
 * strided rows, and positions up to 100000 for RoPE. */
#include "check.h"
#ifdef BT_HAVE_CUDA
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_cuda_util.h"
#include "kernels/cpu/attention.h"

static void random_floats(float *x, int64_t n, cu_rng *r, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) x[i] = cu_uniform(r, lo, hi);
}

/* ---- RoPE ---------------------------------------------------------------------- */

/* The angle and its sine/cosine are computed in double on the GPU, the rotation in f32:
 * each output is within 1e-6 * (|x_a| + |x_b|) of the double rotation at any position.
 * Dims beyond rot_dim and the row padding beyond n_head * head_dim stay bit-identical. */
BT_TEST(cuda_rope) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_rope");
    const int m = 5, n_head = 3, hd = 64, ld = n_head * hd + 5;
    const int32_t pos[5] = {0, 1, 17, 4095, 100000};
    for (int mode = 0; mode < 2; mode++)
        for (int variant = 0; variant < 3; variant++) {   /* full, partial rot_dim, with freq factors */
            const int rot = variant == 1 ? 32 : hd;
            const float theta = variant == 2 ? 500000.0f : 10000.0f;
            cu_arena a;
            cu_arena_init(&a);
            float *x = malloc(sizeof(float) * m * ld), *y = malloc(sizeof(float) * m * ld), ff[32];
            double *want = malloc(sizeof(double) * m * ld), *mag = malloc(sizeof(double) * m * ld);
            random_floats(x, (int64_t)m * ld, &r, -2.0f, 2.0f);
            random_floats(ff, 32, &r, 1.0f, 8.0f);
            const float *factors = variant == 2 ? ff : NULL;
            for (int i = 0; i < m * ld; i++) want[i] = x[i], mag[i] = 0.0;
            for (int t = 0; t < m; t++)
                for (int h = 0; h < n_head; h++)
                    for (int i = 0; i < rot / 2; i++) {
                        double ang = pos[t] * pow(theta, -2.0 * i / rot) / (factors ? factors[i] : 1.0);
                        int ia = t * ld + h * hd + (mode ? i : 2 * i), ib = t * ld + h * hd + (mode ? i + rot / 2 : 2 * i + 1);
                        want[ia] = x[ia] * cos(ang) - x[ib] * sin(ang);
                        want[ib] = x[ib] * cos(ang) + x[ia] * sin(ang);
                        mag[ia] = mag[ib] = fabs(x[ia]) + fabs(x[ib]);
                    }
            float *dx = cu_upload(&a, x, sizeof(float) * m * ld), *dff = cu_upload(&a, ff, sizeof ff);
            int32_t *dpos = cu_upload(&a, pos, sizeof pos);
            BT_CHECK(dx && dff && dpos, "%s", a.err);
            BT_CHECK(bt_cuda_rope_f32(dx, dpos, factors ? dff : NULL, m, ld, n_head, hd, rot, theta, mode, a.q, a.err) == 0,
                     "%s", a.err);
            BT_CHECK(cu_download(&a, y, dx, sizeof(float) * m * ld) == 0, "%s", a.err);
            for (int i = 0; i < m * ld; i++) {
                if (mag[i] == 0.0)
                    BT_CHECK(y[i] == x[i], "mode %d variant %d: element %d (not rotated) changed", mode, variant, i);
                else
                    BT_CHECK(fabs(y[i] - want[i]) <= 1e-6 * mag[i], "mode %d variant %d: row %d elem %d = %.9g, want %.9g",
                             mode, variant, i / ld, i % ld, (double)y[i], want[i]);
            }
            free(x), free(y), free(want), free(mag);
            cu_free_all(&a);
        }
}

/* ---- KV cache and attention ---------------------------------------------------------- */

typedef struct acase {
    int m, n_head, n_kv, hd, ctx, first_pos, split;
} acase;

/* Writes m rows of k/v through bt_cuda_kv_store at positions first_pos.., fills the
 * earlier cache rows directly, runs attention and compares with a double reference:
 * outputs are convex combinations of V, within 2e-6 + 1e-5 * max|v| of the exact value. */
static const char *attention_case(char *msg, size_t cap, acase c, cu_rng *r) {
    cu_arena a;
    cu_arena_init(&a);
    const char *fail = NULL;
    const int q_ld = c.n_head * c.hd + 4, kv_ld = c.n_kv * c.hd + 12, G = c.n_head / c.n_kv;
    const size_t cache_n = (size_t)c.n_kv * c.ctx * c.hd, out_n = (size_t)c.m * c.n_head * c.hd;
    float *q = malloc(sizeof(float) * c.m * q_ld), *k = malloc(sizeof(float) * c.m * kv_ld);
    float *v = malloc(sizeof(float) * c.m * kv_ld), *kc = malloc(sizeof(float) * cache_n);
    float *vc = malloc(sizeof(float) * cache_n), *kc_got = malloc(sizeof(float) * cache_n);
    float *out = malloc(sizeof(float) * out_n);
    double *want = malloc(sizeof(double) * out_n), *score = malloc(sizeof(double) * c.ctx);
    int32_t *pos = malloc(sizeof(int32_t) * c.m);
    random_floats(q, (int64_t)c.m * q_ld, r, -1.0f, 1.0f);
    random_floats(k, (int64_t)c.m * kv_ld, r, -1.0f, 1.0f);
    random_floats(v, (int64_t)c.m * kv_ld, r, -1.0f, 1.0f);
    random_floats(kc, (int64_t)cache_n, r, -1.0f, 1.0f);
    random_floats(vc, (int64_t)cache_n, r, -1.0f, 1.0f);
    for (int t = 0; t < c.m; t++) pos[t] = c.first_pos + t;
    float *dq = cu_upload(&a, q, sizeof(float) * c.m * q_ld), *dk = cu_upload(&a, k, sizeof(float) * c.m * kv_ld);
    float *dv = cu_upload(&a, v, sizeof(float) * c.m * kv_ld);
    float *dkc = cu_upload(&a, kc, sizeof(float) * cache_n), *dvc = cu_upload(&a, vc, sizeof(float) * cache_n);
    float *dout = cu_alloc(&a, sizeof(float) * out_n);
    int32_t *dpos = cu_upload(&a, pos, sizeof(int32_t) * c.m);
    size_t work_bytes = c.split ? bt_cuda_attention_work_bytes(c.m, c.n_head, c.hd, c.ctx) : 0;
    void *work = work_bytes ? cu_alloc(&a, work_bytes) : NULL;
    int rc = !dq || !dk || !dv || !dkc || !dvc || !dout || !dpos || (work_bytes && !work);
    if (!rc) rc = bt_cuda_kv_store_f32(dkc, dvc, dk, kv_ld, dv, kv_ld, dpos, c.m, c.n_kv, c.hd, c.ctx, a.q, a.err);
    if (!rc) rc = bt_cuda_attention_f32(dout, dq, q_ld, dkc, dvc, dpos, c.m, c.n_head, c.n_kv, c.hd, c.ctx,
                                        1.0f / sqrtf((float)c.hd), work, work_bytes, a.q, a.err);
    if (!rc) rc = cu_download(&a, out, dout, sizeof(float) * out_n);
    if (!rc) rc = cu_download(&a, kc_got, dkc, sizeof(float) * cache_n);
    if (rc) {
        snprintf(msg, cap, "m=%d heads %d/%d hd=%d: %s", c.m, c.n_head, c.n_kv, c.hd, a.err);
        fail = msg;
        goto done;
    }
    for (int t = 0; t < c.m; t++)   /* the reference cache gets the same rows */
        for (int g = 0; g < c.n_kv; g++)
            for (int d = 0; d < c.hd; d++) {
                size_t at = ((size_t)g * c.ctx + pos[t]) * c.hd + d;
                kc[at] = k[(size_t)t * kv_ld + g * c.hd + d];
                vc[at] = v[(size_t)t * kv_ld + g * c.hd + d];
            }
    if (memcmp(kc, kc_got, sizeof(float) * cache_n) != 0) {
        snprintf(msg, cap, "m=%d heads %d/%d hd=%d: kv_store wrote the wrong cache rows", c.m, c.n_head, c.n_kv, c.hd);
        fail = msg;
        goto done;
    }
    for (int t = 0; t < c.m; t++)
        for (int h = 0; h < c.n_head; h++) {
            const int g = h / G, keys = pos[t] + 1;
            double mx = -INFINITY, sum = 0.0;
            for (int j = 0; j < keys; j++) {
                double s = 0.0;
                for (int d = 0; d < c.hd; d++)
                    s += (double)q[(size_t)t * q_ld + h * c.hd + d] * kc[((size_t)g * c.ctx + j) * c.hd + d];
                score[j] = s / sqrt((double)c.hd);
                mx = fmax(mx, score[j]);
            }
            for (int j = 0; j < keys; j++) sum += exp(score[j] - mx);
            for (int d = 0; d < c.hd; d++) {
                double o = 0.0;
                for (int j = 0; j < keys; j++) o += exp(score[j] - mx) / sum * vc[((size_t)g * c.ctx + j) * c.hd + d];
                want[((size_t)t * c.n_head + h) * c.hd + d] = o;
            }
        }
    int64_t at;
    double worst = cu_worst_error(out, want, NULL, (int64_t)out_n, 2e-6 + 1e-5, 0.0, &at);
    if (worst > 1.0) {
        snprintf(msg, cap, "m=%d heads %d/%d hd=%d ctx=%d pos %d.. %s: out[row %lld, head %lld, dim %lld] = %.9g, want %.9g",
                 c.m, c.n_head, c.n_kv, c.hd, c.ctx, c.first_pos, c.split ? "split" : "one pass",
                 (long long)(at / (c.n_head * c.hd)), (long long)(at / c.hd % c.n_head), (long long)(at % c.hd),
                 (double)out[at], want[at]);
        fail = msg;
    }
done:
    free(q), free(k), free(v), free(kc), free(vc), free(kc_got), free(out), free(want), free(score), free(pos);
    cu_free_all(&a);
    return fail;
}

BT_TEST(cuda_attention) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_attention");
    const acase cases[] = {
        /* m, n_head, n_kv, hd, ctx, first_pos, split */
        {1, 8, 2, 64, 300, 299, 0},  {1, 8, 2, 64, 300, 299, 1},   {1, 8, 2, 64, 4096, 1000, 1},
        {1, 6, 6, 128, 200, 0, 1},   {5, 4, 1, 32, 64, 10, 0},     {7, 16, 2, 96, 100, 40, 1},
        {3, 4, 2, 256, 90, 87, 1},   {33, 20, 5, 128, 80, 0, 0},   {2, 20, 5, 128, 2000, 1500, 1},
    };
    char msg[320];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *fail = attention_case(msg, sizeof msg, cases[i], &r);
        BT_CHECK(!fail, "%s", fail);
    }
}

/* f16 and Q8_0 caches: the GPU's kv_store writes the bytes the CPU's bt_kv_store_row
 * writes (both round to nearest even), and attention over them agrees with the CPU
 * kernel over the same bytes within the f32 bound above. */
static const char *typed_case(char *msg, size_t cap, int type, acase c, cu_rng *r) {
    cu_arena a;
    cu_arena_init(&a);
    const char *fail = NULL;
    const bt_kv_type cpu_type = type == BT_CUDA_KV_F16 ? BT_KV_F16 : BT_KV_Q8_0;
    const int q_ld = c.n_head * c.hd, kv_ld = c.n_kv * c.hd;
    const size_t row_bytes = bt_kv_row_bytes(cpu_type, c.hd), cache_bytes = row_bytes * c.n_kv * c.ctx;
    const size_t out_n = (size_t)c.m * c.n_head * c.hd;
    float *q = malloc(sizeof(float) * c.m * q_ld), *k = malloc(sizeof(float) * c.m * kv_ld);
    float *v = malloc(sizeof(float) * c.m * kv_ld), *out = malloc(sizeof(float) * out_n);
    float *out_cpu = malloc(sizeof(float) * out_n);
    uint8_t *kc = calloc(1, cache_bytes), *vc = calloc(1, cache_bytes), *kc_got = malloc(cache_bytes);
    int32_t *pos = malloc(sizeof(int32_t) * c.m);
    random_floats(q, (int64_t)c.m * q_ld, r, -1.0f, 1.0f);
    random_floats(k, (int64_t)c.m * kv_ld, r, -1.0f, 1.0f);
    random_floats(v, (int64_t)c.m * kv_ld, r, -2.0f, 2.0f);
    for (int t = 0; t < c.m; t++) {
        pos[t] = t;
        for (int g = 0; g < c.n_kv; g++) {
            bt_kv_store_row(cpu_type, kc + ((size_t)g * c.ctx + t) * row_bytes, k + (size_t)t * kv_ld + g * c.hd, c.hd);
            bt_kv_store_row(cpu_type, vc + ((size_t)g * c.ctx + t) * row_bytes, v + (size_t)t * kv_ld + g * c.hd, c.hd);
        }
    }
    const float scale = 1.0f / sqrtf((float)c.hd);
    bt_attention_kv(out_cpu, q, kc, vc, cpu_type, c.m, 0, c.n_head, c.n_kv, c.hd, c.ctx, scale);
    float *dq = cu_upload(&a, q, sizeof(float) * c.m * q_ld), *dk = cu_upload(&a, k, sizeof(float) * c.m * kv_ld);
    float *dv = cu_upload(&a, v, sizeof(float) * c.m * kv_ld), *dout = cu_alloc(&a, sizeof(float) * out_n);
    void *dkc = cu_alloc(&a, cache_bytes), *dvc = cu_alloc(&a, cache_bytes);
    int32_t *dpos = cu_upload(&a, pos, sizeof(int32_t) * c.m);
    size_t work_bytes = c.split ? bt_cuda_attention_work_bytes(c.m, c.n_head, c.hd, c.ctx) : 0;
    void *work = work_bytes ? cu_alloc(&a, work_bytes) : NULL;
    int rc = !dq || !dk || !dv || !dout || !dkc || !dvc || !dpos || (work_bytes && !work);
    if (!rc) rc = bt_cuda_kv_store(dkc, dvc, type, dk, kv_ld, dv, kv_ld, dpos, c.m, c.n_kv, c.hd, c.ctx, a.q, a.err);
    if (!rc) rc = bt_cuda_attention(dout, dq, q_ld, dkc, dvc, type, dpos, c.m, c.n_head, c.n_kv, c.hd, c.ctx, scale,
                                    work, work_bytes, a.q, a.err);
    if (!rc) rc = cu_download(&a, out, dout, sizeof(float) * out_n);
    if (!rc) rc = cu_download(&a, kc_got, dkc, cache_bytes);
    if (rc) {
        snprintf(msg, cap, "type %d hd=%d: %s", type, c.hd, a.err);
        fail = msg;
    } else {
        for (int g = 0; g < c.n_kv && !fail; g++)   /* the written rows: positions 0 .. m-1 of each kv head */
            if (memcmp(kc + (size_t)g * c.ctx * row_bytes, kc_got + (size_t)g * c.ctx * row_bytes, row_bytes * c.m)) {
                snprintf(msg, cap, "type %d hd=%d: kv_store's bytes differ from the CPU's", type, c.hd);
                fail = msg;
            }
        for (size_t i = 0; i < out_n && !fail; i++)
            if (fabsf(out[i] - out_cpu[i]) > 2e-6f + 2e-5f * 2.0f) {
                snprintf(msg, cap, "type %d hd=%d m=%d: out[%zu] = %.9g, the CPU's %.9g", type, c.hd, c.m, i,
                         (double)out[i], (double)out_cpu[i]);
                fail = msg;
            }
    }
    free(q), free(k), free(v), free(out), free(out_cpu), free(kc), free(vc), free(kc_got), free(pos);
    cu_free_all(&a);
    return fail;
}

BT_TEST(cuda_attention_f16_and_q8_0_caches) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_attention_f16_and_q8_0_caches");
    const acase cases[] = {
        /* m, n_head, n_kv, hd, ctx, first_pos (0: kv_store writes every row used), split */
        {9, 8, 2, 64, 16, 0, 0}, {40, 4, 4, 128, 64, 0, 1}, {17, 6, 3, 96, 20, 0, 0}, {5, 2, 1, 32, 8, 0, 1},
    };
    char msg[320];
    for (int type = BT_CUDA_KV_F16; type <= BT_CUDA_KV_Q8_0; type++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const char *fail = typed_case(msg, sizeof msg, type, cases[i], &r);
            BT_CHECK(!fail, "%s", fail);
        }
}

BT_TEST(cuda_attention_rejects_bad_shapes) {
    char err[BT_CUDA_ERR_CAP];
    bt_cuda_queue q = {0, NULL};
    float dummy[64] = {0};
    int32_t pos = 0;
    /* argument checks run before any device call, so these need no GPU */
    BT_CHECK(bt_cuda_attention_f32(dummy, dummy, 80, dummy, dummy, &pos, 1, 1, 1, 80, 16, 1.0f, NULL, 0, q, err) != 0,
             "head_dim 80 is not supported and must be refused");
    BT_CHECK(bt_cuda_attention_f32(dummy, dummy, 64 * 18, dummy, dummy, &pos, 1, 18, 2, 64, 16, 1.0f, NULL, 0, q, err) != 0,
             "9 query heads per kv head must be refused");
    BT_CHECK(bt_cuda_attention_f32(dummy, dummy, 64 * 6, dummy, dummy, &pos, 1, 6, 4, 64, 16, 1.0f, NULL, 0, q, err) != 0,
             "n_kv that does not divide n_head must be refused");
}

#else
BT_TEST(cuda_attention) { BT_SKIP("CUDA support not compiled in"); }
#endif
