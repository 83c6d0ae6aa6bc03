/* test_ternary_kernels.c - the ternary matmul (kernels/cpu/ternary.h):
 * every SIMD path returns the scalar integers (whole rows and per block) on
 * random bytes of every format and awkward shapes (odd n, k not a multiple of
 * 256 where the format allows it, token counts around the tile sizes, int8
 * extremes); the scalar integers equal a plain sum; the floats match a double
 * reference and do not depend on level, threads or batching; bad arguments
 * are refused. */
#include "check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "kernels/cpu/ternary.h"
#include "base/dtype.h"

static uint64_t next(uint64_t *s) {   /* xorshift64* */
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static int64_t random_k(uint64_t *s, bt_ternary_format f) {
    switch (f) {
    case BT_TERNARY_TQ2_0:
    case BT_TERNARY_TQ1_0: return 256 * (1 + (int64_t)(next(s) % 6));
    case BT_TERNARY_I2_S: return 128 * (1 + (int64_t)(next(s) % 12));
    default: return 1 + (int64_t)(next(s) % 1500);
    }
}

/* a random f16-exact scale in [1/1024, 1) */
static float random_scale(uint64_t *s) { return (float)(1 + next(s) % 1023) / 1024.0f; }

/* W [n, k] of random bytes (every code, 3 included, and every base-3 byte);
 * TQ blocks get one d, or when per_block a different d each (cycling through 1023 values) */
typedef struct test_matrix {
    uint8_t *bytes;
    bt_ternary_matrix m;
} test_matrix;

static bt_status make_matrix(test_matrix *t, uint64_t *s, bt_ternary_format f, int64_t n, int64_t k, int per_block) {
    const bt_ternary_format_info *in = bt_ternary_format_get_info(f);
    const size_t bytes = bt_ternary_data_bytes(f, n, k), row_bytes = bt_ternary_row_bytes(f, k);
    t->bytes = malloc(bytes);
    for (size_t i = 0; i < bytes; i++) t->bytes[i] = (uint8_t)(next(s) >> 56);
    const float scale = random_scale(s);
    if (in->has_block_scales) {
        const int64_t nb = (int64_t)(row_bytes / (size_t)in->block_bytes);
        for (int64_t i = 0; i < n; i++)
            for (int64_t b = 0; b < nb; b++) {
                const float block_scale = (float)(1 + (int64_t)(scale * 1024.0f + (float)(i * nb + b)) % 1023) / 1024.0f;
                const uint16_t d = bt_f32_to_f16(per_block ? block_scale : scale);
                memcpy(t->bytes + (size_t)i * row_bytes + (size_t)(b + 1) * (size_t)in->block_bytes - 2, &d, 2);
            }
    } else {
        memcpy(t->bytes + (size_t)n * row_bytes, &scale, 4);
    }
    return bt_ternary_prepare(&t->m, f, t->bytes, bytes, n, k);
}

/* x [m, k] quantized, with a few int8 extremes written over it */
typedef struct test_act {
    void *buf;
    bt_act_i8 a;
} test_act;

static void make_act(test_act *t, uint64_t *s, int64_t m, int64_t k) {
    float *x = malloc(sizeof(float) * (size_t)(m * k));
    for (int64_t i = 0; i < m * k; i++) x[i] = (float)((int64_t)(next(s) % 20001) - 10000) / (float)(1 + next(s) % 1000);
    const size_t bytes = bt_act_i8_bytes(m, k);
    t->buf = malloc(bytes);
    bt_act_i8_init(&t->a, t->buf, bytes, m, k);
    bt_act_quantize(&t->a, x);
    for (int e = 0; e < 4; e++) {
        const int64_t tok = (int64_t)(next(s) % (uint64_t)m), col = (int64_t)(next(s) % (uint64_t)k);
        t->a.q[tok * t->a.k_pad + col] = e % 2 ? 127 : -128;
    }
    for (int64_t tok = 0; tok < m; tok++)
        for (int64_t g = 0; g < t->a.k_pad / 128; g++) {
            int32_t sum = 0;
            for (int j = 0; j < 128; j++) sum += t->a.q[tok * t->a.k_pad + g * 128 + j];
            t->a.group_sum[tok * (t->a.k_pad / 128) + g] = sum;
        }
    free(x);
}

static const int64_t token_counts[] = {1, 2, 3, 4, 5, 7, 9, 66};

/* sum_j (c[i, j] - 1) * q[t, j] over columns [j0, j1), straight from the codes */
static int32_t plain_dot(const bt_ternary_matrix *w, const bt_act_i8 *a, int64_t t, int64_t i, int64_t j0, int64_t j1) {
    const int block_cols = bt_ternary_format_get_info(w->format)->block_cols;
    uint8_t codes[256];
    int32_t sum = 0;
    for (int64_t j = j0; j < j1; j++) {
        if (j % block_cols == 0 || j == j0) bt_ternary_block_codes(codes, w->format, w->data + (size_t)i * w->row_bytes, j / block_cols);
        sum += (codes[j % block_cols] - 1) * a->q[t * a->k_pad + j];
    }
    return sum;
}

BT_TEST(ternary_dot_rows_every_level_equals_scalar) {
    uint64_t s = bt_test_seed() | 1;
    for (int f = 0; f < BT_TERNARY_FORMAT_COUNT; f++)
        for (int trial = 0; trial < 8; trial++) {
            const int64_t n = 1 + (int64_t)(next(&s) % 150), k = random_k(&s, (bt_ternary_format)f);
            const int64_t m = token_counts[trial];
            test_matrix w;
            test_act x;
            BT_CHECK(make_matrix(&w, &s, (bt_ternary_format)f, n, k, 0) == BT_OK, "%s", bt_last_error());
            make_act(&x, &s, m, k);
            int32_t *ref = malloc(sizeof(int32_t) * (size_t)(m * n)), *got = malloc(sizeof(int32_t) * (size_t)(m * n));
            BT_CHECK(bt_ternary_dot_rows(ref, &w.m, &x.a, BT_SIMD_SCALAR) == BT_OK, "%s", bt_last_error());
            const int64_t t = m - 1, i = n / 2;
            BT_CHECK(ref[t * n + i] == plain_dot(&w.m, &x.a, t, i, 0, k), "scalar dot differs from the plain sum");
            for (int level = BT_SIMD_AVX2; level <= (int)bt_simd_level_get(); level++) {
                memset(got, 0x7f, sizeof(int32_t) * (size_t)(m * n));
                BT_CHECK(bt_ternary_dot_rows(got, &w.m, &x.a, (bt_simd_level)level) == BT_OK, "%s", bt_last_error());
                for (int64_t e = 0; e < m * n; e++)
                    BT_CHECK(got[e] == ref[e], "%s %s [%lld, %lld] m %lld: token %lld row %lld: %d, scalar %d",
                             bt_ternary_format_get_info(w.m.format)->name, bt_simd_level_name((bt_simd_level)level),
                             (long long)n, (long long)k, (long long)m, (long long)(e / n), (long long)(e % n), got[e], ref[e]);
            }
            free(got);
            free(ref);
            free(x.buf);
            free(w.bytes);
        }
}

BT_TEST(ternary_dot_blocks_every_level_equals_scalar) {
    uint64_t s = bt_test_seed() | 1;
    for (int f = 0; f < BT_TERNARY_FORMAT_COUNT; f++)
        for (int trial = 0; trial < 4; trial++) {
            const int64_t n = 1 + (int64_t)(next(&s) % 70), k = random_k(&s, (bt_ternary_format)f);
            const int64_t m = token_counts[trial * 2 + 1];
            test_matrix w;
            test_act x;
            BT_CHECK(make_matrix(&w, &s, (bt_ternary_format)f, n, k, 1) == BT_OK, "%s", bt_last_error());
            make_act(&x, &s, m, k);
            const int64_t nb = w.m.n_blocks, count = m * n * nb;
            int32_t *ref = malloc(sizeof(int32_t) * (size_t)count), *got = malloc(sizeof(int32_t) * (size_t)count);
            BT_CHECK(bt_ternary_dot_blocks(ref, &w.m, &x.a, BT_SIMD_SCALAR) == BT_OK, "%s", bt_last_error());
            const int64_t cols = bt_ternary_format_get_info(w.m.format)->block_cols, b = nb - 1;
            BT_CHECK(ref[(0 * n + n - 1) * nb + b] == plain_dot(&w.m, &x.a, 0, n - 1, b * cols, (b + 1) * cols),
                     "scalar block dot differs from the plain sum");
            for (int level = BT_SIMD_AVX2; level <= (int)bt_simd_level_get(); level++) {
                BT_CHECK(bt_ternary_dot_blocks(got, &w.m, &x.a, (bt_simd_level)level) == BT_OK, "%s", bt_last_error());
                for (int64_t e = 0; e < count; e++)
                    BT_CHECK(got[e] == ref[e], "%s %s [%lld, %lld] m %lld: entry %lld: %d, scalar %d",
                             bt_ternary_format_get_info(w.m.format)->name, bt_simd_level_name((bt_simd_level)level),
                             (long long)n, (long long)k, (long long)m, (long long)e, got[e], ref[e]);
            }
            free(got);
            free(ref);
            free(x.buf);
            free(w.bytes);
        }
}

BT_TEST(ternary_matmul_matches_double_reference) {
    uint64_t s = bt_test_seed() | 1;
    for (int f = 0; f < BT_TERNARY_FORMAT_COUNT; f++)
        for (int per_block = 0; per_block < 2; per_block++) {
            const int64_t n = 1 + (int64_t)(next(&s) % 90), k = random_k(&s, (bt_ternary_format)f), m = 1 + (int64_t)(next(&s) % 6);
            test_matrix w;
            test_act x;
            BT_CHECK(make_matrix(&w, &s, (bt_ternary_format)f, n, k, per_block) == BT_OK, "%s", bt_last_error());
            BT_CHECK(w.m.per_block_scales ==
                         (per_block && bt_ternary_format_get_info(w.m.format)->has_block_scales && n * w.m.n_blocks > 1),
                     "per_block_scales %d", w.m.per_block_scales);
            make_act(&x, &s, m, k);
            float *y = malloc(sizeof(float) * (size_t)(m * n)), *row = malloc(sizeof(float) * (size_t)k);
            BT_CHECK(bt_ternary_matmul(y, &w.m, &x.a) == BT_OK, "%s", bt_last_error());
            for (int64_t i = 0; i < n; i++) {
                bt_ternary_dequantize_row(row, &w.m, i);
                for (int64_t t = 0; t < m; t++) {
                    double ref = 0, mag = 0;
                    for (int64_t j = 0; j < k; j++) {
                        const double v = (double)row[j] * ((double)x.a.q[t * x.a.k_pad + j] / (double)x.a.scale[t]);
                        ref += v;
                        mag += fabs(v);
                    }
                    BT_CHECK(fabs((double)y[t * n + i] - ref) <= 4e-6 * mag + 1e-30,
                             "%s%s [%lld, %lld]: y[%lld, %lld] = %.9g, double %.9g (sum |w x| %g)",
                             bt_ternary_format_get_info(w.m.format)->name, per_block ? " per block" : "", (long long)n,
                             (long long)k, (long long)t, (long long)i, y[t * n + i], ref, mag);
                }
            }
            free(row);
            free(y);
            free(x.buf);
            free(w.bytes);
        }
}

BT_TEST(ternary_matmul_same_bits_at_every_level_thread_count_and_batch) {
    uint64_t s = bt_test_seed() | 1;
    for (int f = 0; f < BT_TERNARY_FORMAT_COUNT; f++) {
        const int64_t n = 300 + (int64_t)(next(&s) % 200), k = random_k(&s, (bt_ternary_format)f), m = 6;
        test_matrix w;
        test_act x, one;
        BT_CHECK(make_matrix(&w, &s, (bt_ternary_format)f, n, k, f == BT_TERNARY_TQ1_0) == BT_OK, "%s", bt_last_error());
        make_act(&x, &s, m, k);
        float *ref = malloc(sizeof(float) * (size_t)(m * n)), *got = malloc(sizeof(float) * (size_t)(m * n));
        BT_CHECK(bt_ternary_matmul_at(ref, &w.m, &x.a, BT_SIMD_SCALAR) == BT_OK, "%s", bt_last_error());
        for (int level = BT_SIMD_AVX2; level <= (int)bt_simd_level_get(); level++) {
            BT_CHECK(bt_ternary_matmul_at(got, &w.m, &x.a, (bt_simd_level)level) == BT_OK, "%s", bt_last_error());
            BT_CHECK(memcmp(got, ref, sizeof(float) * (size_t)(m * n)) == 0, "%s: level %s differs from scalar",
                     bt_ternary_format_get_info(w.m.format)->name, bt_simd_level_name((bt_simd_level)level));
        }
#ifdef _OPENMP
        const int threads = omp_get_max_threads();
        omp_set_num_threads(threads > 1 ? 1 : 2);
        BT_CHECK(bt_ternary_matmul(got, &w.m, &x.a) == BT_OK, "%s", bt_last_error());
        omp_set_num_threads(threads);
        BT_CHECK(memcmp(got, ref, sizeof(float) * (size_t)(m * n)) == 0, "%s: thread count changes y",
                 bt_ternary_format_get_info(w.m.format)->name);
#endif
        /* token 4 alone gives row 4 of the batch */
        const size_t bytes = bt_act_i8_bytes(1, k);
        one.buf = malloc(bytes);
        bt_act_i8_init(&one.a, one.buf, bytes, 1, k);
        memcpy(one.a.q, x.a.q + 4 * x.a.k_pad, (size_t)x.a.k_pad);
        memcpy(one.a.group_sum, x.a.group_sum + 4 * (x.a.k_pad / 128), sizeof(int32_t) * (size_t)(x.a.k_pad / 128));
        one.a.scale[0] = x.a.scale[4];
        BT_CHECK(bt_ternary_matmul(got, &w.m, &one.a) == BT_OK, "%s", bt_last_error());
        BT_CHECK(memcmp(got, ref + 4 * n, sizeof(float) * (size_t)n) == 0, "%s: a single token differs from its batch row",
                 bt_ternary_format_get_info(w.m.format)->name);
        free(one.buf);
        free(got);
        free(ref);
        free(x.buf);
        free(w.bytes);
    }
}

BT_TEST(ternary_matmul_refuses_bad_arguments) {
    uint64_t s = bt_test_seed() | 1;
    test_matrix w;
    test_act x;
    BT_CHECK(make_matrix(&w, &s, BT_TERNARY_BT2, 5, 300, 0) == BT_OK, "%s", bt_last_error());
    make_act(&x, &s, 2, 301);
    float y[10];
    BT_CHECK(bt_ternary_matmul(y, &w.m, &x.a) == BT_ERR_ARG, "k 301 activations accepted by a k 300 matrix");
    BT_CHECK(strstr(bt_last_error(), "301") && strstr(bt_last_error(), "300"), "message: %s", bt_last_error());
    BT_CHECK(bt_ternary_matmul(NULL, &w.m, &x.a) == BT_ERR_ARG, "NULL y accepted");
    int32_t dots[10];
    BT_CHECK(bt_ternary_dot_rows(dots, &w.m, NULL, BT_SIMD_SCALAR) == BT_ERR_ARG, "NULL activations accepted");
    free(x.buf);
    free(w.bytes);
}

/* bt_ternary_repack: TQ1_0 as a TQ2_0 copy gives the same integers at every
 * level, the same y and the same dequantized rows; other formats stay put. */
BT_TEST(ternary_repack_tq1_0_keeps_every_integer_and_value) {
    uint64_t s = bt_test_seed() | 1;
    for (int per_block = 0; per_block <= 1; per_block++) {
        const int64_t n = 1 + (int64_t)(next(&s) % 70), k = random_k(&s, BT_TERNARY_TQ1_0), m = 1 + (int64_t)(next(&s) % 5);
        test_matrix w;
        test_act x;
        BT_CHECK(make_matrix(&w, &s, BT_TERNARY_TQ1_0, n, k, per_block) == BT_OK, "%s", bt_last_error());
        make_act(&x, &s, m, k);
        bt_ternary_matrix r = w.m;
        BT_CHECK(bt_ternary_repack(&r) == BT_OK, "%s", bt_last_error());
        BT_CHECK(r.format == BT_TERNARY_TQ2_0 && r.owned && r.data == r.owned, "repacked matrix is not a TQ2_0 copy");
        BT_CHECK(r.per_block_scales == w.m.per_block_scales && r.scale == w.m.scale, "scales changed");
        const int64_t nb = w.m.n_blocks;
        int32_t *ref = malloc(sizeof(int32_t) * (size_t)(m * n * nb)), *got = malloc(sizeof(int32_t) * (size_t)(m * n * nb));
        BT_CHECK(bt_ternary_dot_rows(ref, &w.m, &x.a, BT_SIMD_SCALAR) == BT_OK, "%s", bt_last_error());
        for (int level = BT_SIMD_SCALAR; level <= (int)bt_simd_level_get(); level++) {
            BT_CHECK(bt_ternary_dot_rows(got, &r, &x.a, (bt_simd_level)level) == BT_OK, "%s", bt_last_error());
            BT_CHECK(memcmp(got, ref, sizeof(int32_t) * (size_t)(m * n)) == 0, "dot_rows at %s differs after repack",
                     bt_simd_level_name((bt_simd_level)level));
        }
        BT_CHECK(bt_ternary_dot_blocks(ref, &w.m, &x.a, BT_SIMD_SCALAR) == BT_OK, "%s", bt_last_error());
        for (int level = BT_SIMD_SCALAR; level <= (int)bt_simd_level_get(); level++) {
            BT_CHECK(bt_ternary_dot_blocks(got, &r, &x.a, (bt_simd_level)level) == BT_OK, "%s", bt_last_error());
            BT_CHECK(memcmp(got, ref, sizeof(int32_t) * (size_t)(m * n * nb)) == 0, "dot_blocks at %s differs after repack",
                     bt_simd_level_name((bt_simd_level)level));
        }
        float *y0 = malloc(sizeof(float) * (size_t)(m * n + k)), *y1 = malloc(sizeof(float) * (size_t)(m * n + k));
        BT_CHECK(bt_ternary_matmul(y0, &w.m, &x.a) == BT_OK && bt_ternary_matmul(y1, &r, &x.a) == BT_OK, "%s", bt_last_error());
        BT_CHECK(memcmp(y0, y1, sizeof(float) * (size_t)(m * n)) == 0, "y differs after repack");
        for (int64_t i = 0; i < n; i++) {
            bt_ternary_dequantize_row(y0, &w.m, i);
            bt_ternary_dequantize_row(y1, &r, i);
            BT_CHECK(memcmp(y0, y1, sizeof(float) * (size_t)k) == 0, "row %lld dequantizes differently", (long long)i);
        }
        bt_ternary_release(&r);
        BT_CHECK(r.owned == NULL, "release left the copy");
        free(y0);
        free(y1);
        free(got);
        free(ref);
        free(x.buf);
        free(w.bytes);
    }
    test_matrix w;
    BT_CHECK(make_matrix(&w, &s, BT_TERNARY_TQ2_0, 3, 256, 0) == BT_OK, "%s", bt_last_error());
    bt_ternary_matrix r = w.m;
    BT_CHECK(bt_ternary_repack(&r) == BT_OK && r.data == w.m.data && !r.owned && r.format == BT_TERNARY_TQ2_0,
             "TQ2_0 was repacked");
    free(w.bytes);
}
