/* test_float_kernels_matmul.c - bt_matmul_float against a double-precision
 * reference for F32, F16, BF16, Q8_0 and Q6_K weights, batched rows against
 * single rows, and its argument checks.
 *
 * Tolerance: a float dot product of k terms, accumulated in any order, is off by
 * at most about k * 2^-24 * sum_j |w_j x_j|; the check allows (k + 32) * 2^-24
 * times that sum. A dropped or doubled term costs about sum/k, far more. */
#include "check.h"
#include "test_float_kernels.h"
#include "kernels/cpu/matmul_float.h"
#include "base/dtype.h"
#include "base/error.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

enum { ROW_PAD = 8 };   /* extra bytes after each weight row: rows are not packed */

/* A random weight matrix in the file layout, and its exact values as doubles. */
typedef struct weights {
    bt_dtype type;
    int64_t n, k;
    size_t row_bytes;
    uint8_t *bytes;    /* [n, row_bytes] */
    double *values;    /* [n, k] what the bytes decode to */
} weights;

static void weights_free(weights *w) {
    free(w->bytes);
    free(w->values);
}

/* Value of column c of a Q6_K block (ggml's layout, decoded bit by bit): d * scale * (code - 32). */
static double q6_k_value(const uint8_t *block, int c) {
    const int half = c / 128, quarter = (c % 128) / 32, l = c % 32;
    const uint8_t low_byte = block[64 * half + 32 * (quarter % 2) + l];
    const int low = quarter < 2 ? low_byte & 15 : low_byte >> 4;
    const int high = (block[128 + 32 * half + l] >> (2 * quarter)) & 3;
    uint16_t d;
    memcpy(&d, block + 208, 2);
    return (double)bt_f16_to_f32(d) * (int8_t)block[192 + c / 16] * (low + 16 * high - 32);
}

static weights weights_random(test_rng *rng, bt_dtype type, int64_t n, int64_t k) {
    weights w = {type, n, k, bt_dtype_row_bytes(type, k) + ROW_PAD, NULL, NULL};
    w.bytes = malloc((size_t)n * w.row_bytes);
    w.values = malloc(sizeof(double) * (size_t)(n * k + 1));
    for (size_t b = 0; b < (size_t)n * w.row_bytes; b++) w.bytes[b] = (uint8_t)test_rng_next(rng);   /* padding too */
    for (int64_t i = 0; i < n; i++) {
        uint8_t *row = w.bytes + (size_t)i * w.row_bytes;
        for (int64_t j = 0; j < k; j++) {
            float v = test_rng_uniform(rng, -1.0f, 1.0f);
            uint16_t h;
            switch (type) {
            case BT_F32:
                memcpy(row + 4 * j, &v, 4);
                break;
            case BT_F16:
                h = bt_f32_to_f16(v);
                memcpy(row + 2 * j, &h, 2);
                v = bt_f16_to_f32(h);
                break;
            case BT_BF16:
                h = bt_f32_to_bf16(v);
                memcpy(row + 2 * j, &h, 2);
                v = bt_bf16_to_f32(h);
                break;
            case BT_Q6_K: {   /* random codes and scales (the bytes as drawn), a finite d of either sign */
                uint8_t *block = row + (j / 256) * 210;
                if (j % 256 == 0) {
                    h = bt_f32_to_f16(test_rng_uniform(rng, -0.002f, 0.002f));
                    memcpy(block + 208, &h, 2);
                }
                w.values[i * k + j] = q6_k_value(block, (int)(j % 256));
                continue;
            }
            default: {   /* Q8_0: a fresh scale at the start of each block of 32 */
                uint8_t *block = row + (j / 32) * 34;
                if (j % 32 == 0) {
                    h = bt_f32_to_f16(test_rng_uniform(rng, 0.001f, 0.05f));
                    memcpy(block, &h, 2);
                }
                int8_t q = (int8_t)(test_rng_next(rng) & 0xff);
                block[2 + j % 32] = (uint8_t)q;
                memcpy(&h, block, 2);
                v = bt_f16_to_f32(h) * q;
            }
            }
            w.values[i * k + j] = v;
        }
    }
    return w;
}

/* 1 if every y[t, i] is within the tolerance of the double reference. */
static int matches_reference(const float *y, const float *x, const weights *w, int64_t m, char *why, size_t why_size) {
    for (int64_t t = 0; t < m; t++)
        for (int64_t i = 0; i < w->n; i++) {
            double ref = 0.0, magnitude = 0.0;
            for (int64_t j = 0; j < w->k; j++) {
                double p = w->values[i * w->k + j] * (double)x[t * w->k + j];
                ref += p;
                magnitude += fabs(p);
            }
            double tol = (double)(w->k + 32) * 0x1p-24 * magnitude;
            if (!(fabs(y[t * w->n + i] - ref) <= tol)) {
                snprintf(why, why_size, "%s m=%lld n=%lld k=%lld: y[%lld,%lld] = %.9g, expected %.9g (tol %.3g)",
                         bt_dtype_get_info(w->type)->name, (long long)m, (long long)w->n, (long long)w->k,
                         (long long)t, (long long)i, y[t * w->n + i], ref, tol);
                return 0;
            }
        }
    return 1;
}

static const bt_dtype weight_types[] = {BT_F32, BT_F16, BT_BF16, BT_Q8_0, BT_Q6_K};

static int matmul_matches_double(void *ctx, char *why, size_t why_size) {
    (void)ctx;
    test_rng rng = test_rng_new(1);
    const int64_t ms[] = {1, 3, 70};   /* 70 spans two token blocks of 64 */
    const int64_t ns[] = {1, 7, 67};
    const int64_t ks[] = {1, 7, 67, 255, 1029};
    const int64_t q8_ks[] = {32, 96, 1056}, q6_ks[] = {256, 512, 1280};
    int ok = 1;
    for (size_t ti = 0; ti < sizeof weight_types / sizeof weight_types[0] && ok; ti++) {
        const bt_dtype type = weight_types[ti];
        const int64_t *k_list = type == BT_Q8_0 ? q8_ks : type == BT_Q6_K ? q6_ks : ks;
        const int n_k = type == BT_Q8_0 || type == BT_Q6_K ? 3 : 5;
        for (int ki = 0; ki < n_k && ok; ki++) {
            const int64_t k = k_list[ki];
            for (int ni = 0; ni < 3 && ok; ni++)
                for (int mi = 0; mi < 3 && ok; mi++) {
                    const int64_t m = ms[mi], n = ns[ni];
                    weights w = weights_random(&rng, type, n, k);
                    float *x = malloc(sizeof(float) * (size_t)(m * k));
                    float *y = malloc(sizeof(float) * (size_t)(m * n));
                    test_rng_fill(&rng, x, m * k, -1.0f, 1.0f);
                    bt_status st = bt_matmul_float(y, x, w.bytes, type, w.row_bytes, m, n, k);
                    if (st != BT_OK) {
                        snprintf(why, why_size, "bt_matmul_float failed: %s", bt_last_error());
                        ok = 0;
                    } else {
                        ok = matches_reference(y, x, &w, m, why, why_size);
                    }
                    free(x);
                    free(y);
                    weights_free(&w);
                }
        }
    }
    return ok;
}

BT_TEST(float_matmul_matches_double) {
    char why[768];
    BT_CHECK(test_at_every_simd_level(matmul_matches_double, NULL, why, sizeof why), "%s", why);
}

/* A batch of rows gives exactly the single-row results, with 1 thread or many. */
static int batch_equals_single_rows(void *ctx, char *why, size_t why_size) {
    (void)ctx;
    test_rng rng = test_rng_new(2);
    const int64_t m = 9, n = 67;
    int ok = 1;
    for (size_t ti = 0; ti < sizeof weight_types / sizeof weight_types[0] && ok; ti++) {
        const bt_dtype type = weight_types[ti];
        const int64_t k = type == BT_Q8_0 ? 1056 : type == BT_Q6_K ? 1280 : 1029;   /* n * k is large enough to use threads */
        weights w = weights_random(&rng, type, n, k);
        float *x = malloc(sizeof(float) * (size_t)(m * k));
        float *batch = malloc(sizeof(float) * (size_t)(m * n));
        float *single = malloc(sizeof(float) * (size_t)(m * n));
        float *one_thread = malloc(sizeof(float) * (size_t)(m * n));
        test_rng_fill(&rng, x, m * k, -1.0f, 1.0f);
        bt_matmul_float(batch, x, w.bytes, type, w.row_bytes, m, n, k);
        for (int64_t t = 0; t < m; t++) bt_matmul_float(single + t * n, x + t * k, w.bytes, type, w.row_bytes, 1, n, k);
        const int threads = omp_get_max_threads();
        omp_set_num_threads(1);
        bt_matmul_float(one_thread, x, w.bytes, type, w.row_bytes, m, n, k);
        omp_set_num_threads(threads);
        for (int64_t e = 0; e < m * n && ok; e++) {
            if (memcmp(&batch[e], &single[e], 4) != 0 || memcmp(&batch[e], &one_thread[e], 4) != 0) {
                snprintf(why, why_size, "%s y[%lld,%lld]: batch %.9g, single row %.9g, one thread %.9g",
                         bt_dtype_get_info(type)->name, (long long)(e / n), (long long)(e % n), batch[e], single[e],
                         one_thread[e]);
                ok = 0;
            }
        }
        free(x);
        free(batch);
        free(single);
        free(one_thread);
        weights_free(&w);
    }
    return ok;
}

BT_TEST(float_matmul_batch_rows_equal_single_rows) {
    char why[768];
    BT_CHECK(test_at_every_simd_level(batch_equals_single_rows, NULL, why, sizeof why), "%s", why);
}

BT_TEST(float_matmul_rejects_bad_arguments) {
    float x[64] = {0}, y[4];
    uint8_t w[4 * 136] = {0};
    bt_status st = bt_matmul_float(y, x, w, BT_TQ2_0, 66, 1, 1, 256);
    BT_CHECK(st == BT_ERR_UNSUPPORTED, "tq2_0 weights: got %s", bt_status_name(st));
    BT_CHECK(strstr(bt_last_error(), "tq2_0") != NULL, "message names the type: %s", bt_last_error());
    st = bt_matmul_float(y, x, w, BT_Q8_0, 34, 1, 1, 33);
    BT_CHECK(st == BT_ERR_ARG, "q8_0 with k = 33: got %s", bt_status_name(st));
    st = bt_matmul_float(y, x, w, BT_Q6_K, 210, 1, 1, 64);
    BT_CHECK(st == BT_ERR_ARG && strstr(bt_last_error(), "multiple of 256 for q6_k"), "q6_k with k = 64: got %s (%s)",
             bt_status_name(st), bt_last_error());
    st = bt_matmul_float(y, x, w, BT_F16, 100, 1, 4, 64);
    BT_CHECK(st == BT_ERR_ARG, "row stride 100 bytes for 64 f16 values: got %s", bt_status_name(st));
    st = bt_matmul_float(y, x, w, BT_F32, 256, -1, 4, 64);
    BT_CHECK(st == BT_ERR_ARG, "negative m: got %s", bt_status_name(st));
    BT_CHECK(!bt_matmul_float_supports(BT_I2_S) && bt_matmul_float_supports(BT_Q8_0) && bt_matmul_float_supports(BT_Q6_K),
             "supports()");
}
