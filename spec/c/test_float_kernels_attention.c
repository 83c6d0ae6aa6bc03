/* test_float_kernels_attention.c - bt_attention and bt_softmax against double
 * references at every SIMD level; batched query rows against single rows; the
 * grouped-query head mapping.
 *
 * Attention tolerance, per output row of a head: a score error of ds moves the
 * softmax weights by at most 2 ds relative, and the weighted sum of n values
 * adds n roundings, so the check allows max|v| * (2 ds + (n + 16) 2^-24), with
 * ds = (head_dim + 8) 2^-24 scale sum_d |q_d k_d| at its largest. */
#include "check.h"
#include "test_float_kernels.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/softmax.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

typedef struct attn_case {
    int n_head, n_kv_head, head_dim;
    int64_t pos0, m, ctx;
    float *q, *k_cache, *v_cache;   /* [m, n_head*head_dim], [n_kv_head, ctx, head_dim] x 2 */
} attn_case;

/* Random queries and cache; cache positions >= pos0 + m hold NaN, which would
 * poison any output that read them. */
static attn_case attn_case_new(test_rng *rng, int n_head, int n_kv_head, int head_dim, int64_t pos0, int64_t m) {
    attn_case c = {n_head, n_kv_head, head_dim, pos0, m, pos0 + m + 5, NULL, NULL, NULL};
    const int64_t cache = (int64_t)n_kv_head * c.ctx * head_dim;
    c.q = malloc(sizeof(float) * (size_t)(m * n_head * head_dim));
    c.k_cache = malloc(sizeof(float) * (size_t)cache);
    c.v_cache = malloc(sizeof(float) * (size_t)cache);
    test_rng_fill(rng, c.q, m * n_head * head_dim, -1.0f, 1.0f);
    for (int64_t i = 0; i < cache; i++) {
        const int64_t pos = i / head_dim % c.ctx;
        c.k_cache[i] = pos < pos0 + m ? test_rng_uniform(rng, -1.0f, 1.0f) : NAN;
        c.v_cache[i] = pos < pos0 + m ? test_rng_uniform(rng, -2.0f, 2.0f) : NAN;
    }
    return c;
}

static void attn_case_free(attn_case *c) {
    free(c->q), free(c->k_cache), free(c->v_cache);
}

static void attn_run(const attn_case *c, float *out, int64_t row0, int64_t rows) {
    const int64_t width = (int64_t)c->n_head * c->head_dim;
    bt_attention(out, c->q + row0 * width, c->k_cache, c->v_cache, rows, c->pos0 + row0, c->n_head, c->n_kv_head,
                 c->head_dim, c->ctx, 1.0f / sqrtf((float)c->head_dim));
}

static int attn_matches_double(const attn_case *c, const float *out, char *why, size_t why_size) {
    const int64_t width = (int64_t)c->n_head * c->head_dim;
    const double scale = 1.0f / sqrtf((float)c->head_dim);
    double *p = malloc(sizeof(double) * (size_t)(c->pos0 + c->m));
    int ok = 1;
    for (int64_t r = 0; r < c->m && ok; r++)
        for (int h = 0; h < c->n_head && ok; h++) {
            const int g = h / (c->n_head / c->n_kv_head);
            const float *q = c->q + r * width + (int64_t)h * c->head_dim;
            const float *k = c->k_cache + (int64_t)g * c->ctx * c->head_dim;
            const float *v = c->v_cache + (int64_t)g * c->ctx * c->head_dim;
            const int64_t n = c->pos0 + r + 1;
            double max = -INFINITY, sum = 0.0, score_err = 0.0, v_max = 0.0;
            for (int64_t t = 0; t < n; t++) {
                double dot = 0.0, magnitude = 0.0;
                for (int d = 0; d < c->head_dim; d++) {
                    dot += (double)q[d] * k[t * c->head_dim + d];
                    magnitude += fabs((double)q[d] * k[t * c->head_dim + d]);
                }
                p[t] = dot * scale;
                max = fmax(max, p[t]);
                score_err = fmax(score_err, (c->head_dim + 8) * 0x1p-24 * scale * magnitude);
            }
            for (int64_t t = 0; t < n; t++) sum += p[t] = exp(p[t] - max);
            const double tol_factor = 2 * score_err + (double)(n + 16) * 0x1p-24;
            for (int d = 0; d < c->head_dim && ok; d++) {
                double ref = 0.0;
                for (int64_t t = 0; t < n; t++) {
                    ref += p[t] / sum * v[t * c->head_dim + d];
                    v_max = fmax(v_max, fabs(v[t * c->head_dim + d]));
                }
                const double got = out[r * width + (int64_t)h * c->head_dim + d];
                ok = fabs(got - ref) <= v_max * tol_factor;
                if (!ok)
                    snprintf(why, why_size,
                             "heads %d/%d head_dim %d pos0 %lld m %lld: out[%lld, head %d, %d] = %.9g, expected %.9g "
                             "(tol %.3g)",
                             c->n_head, c->n_kv_head, c->head_dim, (long long)c->pos0, (long long)c->m, (long long)r,
                             h, d, got, ref, v_max * tol_factor);
            }
        }
    free(p);
    return ok;
}

static int attention_matches_double(void *ctx, char *why, size_t why_size) {
    (void)ctx;
    test_rng rng = test_rng_new(30);
    const int heads[][3] = {{1, 1, 1}, {4, 2, 8}, {8, 4, 8}, {6, 6, 32}, {4, 1, 67}, {20, 5, 128}};
    const int64_t spans[][2] = {{0, 1}, {0, 5}, {7, 1}, {130, 3}, {300, 17}};   /* pos0, m; 128 is the tile */
    int ok = 1;
    for (size_t hi = 0; hi < sizeof heads / sizeof heads[0] && ok; hi++)
        for (size_t si = 0; si < sizeof spans / sizeof spans[0] && ok; si++) {
            attn_case c = attn_case_new(&rng, heads[hi][0], heads[hi][1], heads[hi][2], spans[si][0], spans[si][1]);
            float *out = malloc(sizeof(float) * (size_t)(c.m * c.n_head * c.head_dim));
            attn_run(&c, out, 0, c.m);
            ok = attn_matches_double(&c, out, why, why_size);
            free(out);
            attn_case_free(&c);
        }
    return ok;
}

BT_TEST(float_attention_matches_double) {
    char why[768];
    BT_CHECK(test_at_every_simd_level(attention_matches_double, NULL, why, sizeof why), "%s", why);
}

/* m query rows in one call equal m calls of one row each, bit for bit, with
 * any thread count. */
static int batch_equals_single_rows(void *ctx, char *why, size_t why_size) {
    (void)ctx;
    test_rng rng = test_rng_new(31);
    attn_case c = attn_case_new(&rng, 8, 2, 32, 50, 9);
    const int64_t width = (int64_t)c.n_head * c.head_dim, size = c.m * width;
    float *batch = malloc(sizeof(float) * size), *single = malloc(sizeof(float) * size);
    float *one_thread = malloc(sizeof(float) * size);
    attn_run(&c, batch, 0, c.m);
    for (int64_t r = 0; r < c.m; r++) attn_run(&c, single + r * width, r, 1);
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    attn_run(&c, one_thread, 0, c.m);
    omp_set_num_threads(threads);
    int ok = memcmp(batch, single, sizeof(float) * size) == 0 && memcmp(batch, one_thread, sizeof(float) * size) == 0;
    if (!ok) snprintf(why, why_size, "a batch of %lld rows differs from single rows or from one thread", (long long)c.m);
    free(batch), free(single), free(one_thread);
    attn_case_free(&c);
    return ok;
}

BT_TEST(float_attention_batch_rows_equal_single_rows) {
    char why[768];
    BT_CHECK(test_at_every_simd_level(batch_equals_single_rows, NULL, why, sizeof why), "%s", why);
}

/* With every value of kv head g equal to g + 1, query head h must output
 * h / (n_head / n_kv_head) + 1 whatever the scores. */
BT_TEST(float_attention_gqa_reads_kv_head_of_its_group) {
    test_rng rng = test_rng_new(32);
    const int heads[][2] = {{6, 2}, {4, 4}, {4, 1}, {8, 4}};
    for (size_t hi = 0; hi < sizeof heads / sizeof heads[0]; hi++) {
        attn_case c = attn_case_new(&rng, heads[hi][0], heads[hi][1], 16, 20, 3);
        for (int g = 0; g < c.n_kv_head; g++)
            for (int64_t i = 0; i < c.ctx * c.head_dim; i++) c.v_cache[(int64_t)g * c.ctx * c.head_dim + i] = (float)(g + 1);
        float out[3 * 8 * 16];
        attn_run(&c, out, 0, c.m);
        const int n_head = c.n_head, group = c.n_head / c.n_kv_head;
        int bad = -1;
        for (int64_t i = 0; i < c.m * n_head * 16 && bad < 0; i++)
            if (fabsf(out[i] - (float)((i / 16 % n_head) / group + 1)) > 1e-5f) bad = (int)i;
        attn_case_free(&c);
        BT_CHECK(bad < 0, "heads %d/%d: out[%d] (head %d) = %g, expected %d", heads[hi][0], heads[hi][1], bad,
                 bad / 16 % n_head, out[bad], (bad / 16 % n_head) / group + 1);
    }
}

/* Softmax tolerance: exp of (x - max) carries the rounding of x - max
 * (|x - max| 2^-24 relative) plus a few ulp, and the sum n roundings. */
static int softmax_matches_double(void *ctx, char *why, size_t why_size) {
    (void)ctx;
    test_rng rng = test_rng_new(33);
    const int64_t lengths[] = {1, 7, 67, 1000, 4099};
    const int64_t m = 3;
    int ok = 1;
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0] && ok; li++) {
        const int64_t n = lengths[li];
        float *x = malloc(sizeof(float) * m * n), *x0 = malloc(sizeof(float) * m * n);
        test_rng_fill(&rng, x, m * n, -20.0f, 20.0f);
        if (n > 1) x[n / 2] = -INFINITY;   /* a masked position */
        memcpy(x0, x, sizeof(float) * m * n);
        bt_softmax(x, m, n);
        for (int64_t r = 0; r < m && ok; r++) {
            const float *row = x0 + r * n;
            double max = -INFINITY, sum = 0.0;
            for (int64_t i = 0; i < n; i++) max = fmax(max, row[i]);
            for (int64_t i = 0; i < n; i++) sum += exp(row[i] - max);
            for (int64_t i = 0; i < n && ok; i++) {
                const double ref = exp(row[i] - max) / sum, got = x[r * n + i];
                const double tol = ref * (fabs(row[i] - max) + 8 + (double)(n + 16)) * 0x1p-24 + 1e-38;
                ok = fabs(got - ref) <= (isinf(row[i]) ? 0.0 : tol);
                if (!ok) snprintf(why, why_size, "n=%lld: p[%lld,%lld] = %.9g, expected %.9g", (long long)n,
                                  (long long)r, (long long)i, got, ref);
            }
        }
        free(x), free(x0);
    }
    return ok;
}

BT_TEST(float_softmax_matches_double) {
    char why[768];
    BT_CHECK(test_at_every_simd_level(softmax_matches_double, NULL, why, sizeof why), "%s", why);
}

/* f16 and Q8_0 caches: the f32 caches go through the type and back (so the double
 * reference sees the values the kernel reads), unused positions hold NaN bytes;
 * bt_attention_kv over the typed caches then meets the same bound as f32. */
static int typed_cache(bt_kv_type type, const float *src, int64_t rows, int64_t used_per_head, int64_t ctx,
                       int head_dim, float *roundtrip, uint8_t **out) {
    const size_t row_bytes = bt_kv_row_bytes(type, head_dim);
    *out = malloc(row_bytes * (size_t)rows);
    if (!*out) return 0;
    memset(*out, 0xff, row_bytes * (size_t)rows);   /* f16 0xffff is NaN: a read past the positions shows */
    for (int64_t i = 0; i < rows; i++) {
        if (i % ctx >= used_per_head) continue;
        bt_kv_store_row(type, *out + (size_t)i * row_bytes, src + i * head_dim, head_dim);
        bt_kv_load_rows(type, roundtrip + i * head_dim, *out + (size_t)i * row_bytes, 1, head_dim);
    }
    return 1;
}

static int typed_attention_matches_double(void *ctx, char *why, size_t why_size) {
    (void)ctx;
    test_rng rng = test_rng_new(31);
    const int heads[][3] = {{1, 1, 32}, {4, 2, 64}, {6, 3, 96}, {8, 2, 128}, {2, 2, 40}};
    const int64_t spans[][2] = {{0, 1}, {0, 9}, {40, 1}, {250, 7}};   /* the typed tile is 4096 / head_dim rows */
    int ok = 1;
    for (int type = BT_KV_F16; type <= BT_KV_Q8_0 && ok; type++)
        for (size_t hi = 0; hi < sizeof heads / sizeof heads[0] && ok; hi++) {
            if (!bt_kv_row_bytes((bt_kv_type)type, heads[hi][2])) continue;   /* Q8_0: multiples of 32 only */
            for (size_t si = 0; si < sizeof spans / sizeof spans[0] && ok; si++) {
                attn_case c = attn_case_new(&rng, heads[hi][0], heads[hi][1], heads[hi][2], spans[si][0], spans[si][1]);
                uint8_t *k = NULL, *v = NULL;
                const int64_t rows = (int64_t)c.n_kv_head * c.ctx;
                ok = typed_cache((bt_kv_type)type, c.k_cache, rows, c.pos0 + c.m, c.ctx, c.head_dim, c.k_cache, &k) &&
                     typed_cache((bt_kv_type)type, c.v_cache, rows, c.pos0 + c.m, c.ctx, c.head_dim, c.v_cache, &v);
                float *out = malloc(sizeof(float) * (size_t)(c.m * c.n_head * c.head_dim));
                if (ok) {
                    bt_attention_kv(out, c.q, k, v, (bt_kv_type)type, c.m, c.pos0, c.n_head, c.n_kv_head, c.head_dim,
                                    c.ctx, 1.0f / sqrtf((float)c.head_dim));
                    ok = attn_matches_double(&c, out, why, why_size);
                    if (!ok) snprintf(why + strlen(why), why_size - strlen(why), " (%s cache)", type == BT_KV_F16 ? "f16" : "q8_0");
                }
                free(out), free(k), free(v);
                attn_case_free(&c);
            }
        }
    return ok;
}

BT_TEST(float_attention_f16_and_q8_0_caches_match_double) {
    char why[800];
    BT_CHECK(test_at_every_simd_level(typed_attention_matches_double, NULL, why, sizeof why), "%s", why);
}

/* A Q8_0 row keeps each value within half a step (max|x| / 254) of its block, plus the f16
 * rounding of the step itself (|q| <= 127 steps of relative error 2^-11); f16 rounds to 11 bits. */
BT_TEST(float_kv_rows_round_trip) {
    test_rng rng = test_rng_new(32);
    float x[96], back[96];
    uint8_t row[256];
    for (int i = 0; i < 96; i++) x[i] = test_rng_uniform(&rng, -3.0f, 3.0f);
    x[5] = 0.0f;
    BT_CHECK(bt_kv_row_bytes(BT_KV_Q8_0, 96) == 102 && bt_kv_row_bytes(BT_KV_Q8_0, 40) == 0 &&
             bt_kv_row_bytes(BT_KV_F16, 40) == 80 && bt_kv_row_bytes(BT_KV_F32, 40) == 160, "row bytes");
    bt_kv_store_row(BT_KV_Q8_0, row, x, 96);
    bt_kv_load_rows(BT_KV_Q8_0, back, row, 1, 96);
    for (int b = 0; b < 3; b++) {
        float amax = 0.0f;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(x[32 * b + i]));
        for (int i = 0; i < 32; i++)
            BT_CHECK(fabsf(back[32 * b + i] - x[32 * b + i]) <= amax / 254.0f + amax * 0x1p-11f, "q8_0 value %d", 32 * b + i);
    }
    BT_CHECK(back[5] == 0.0f, "zero stays zero");
    bt_kv_store_row(BT_KV_F16, row, x, 96);
    bt_kv_load_rows(BT_KV_F16, back, row, 1, 96);
    for (int i = 0; i < 96; i++) BT_CHECK(fabsf(back[i] - x[i]) <= fabsf(x[i]) * 0x1p-11, "f16 value %d", i);
    const float zeros[32] = {0};
    bt_kv_store_row(BT_KV_Q8_0, row, zeros, 32);   /* an all-zero block: scale 0, no division by it */
    bt_kv_load_rows(BT_KV_Q8_0, back, row, 1, 32);
    for (int i = 0; i < 32; i++) BT_CHECK(back[i] == 0.0f, "zero block %d", i);
}
