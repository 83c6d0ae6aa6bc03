/* test_float_kernels_elementwise.c - activations, gated products, add / mul /
 * scale and the f16 / bf16 row conversions, at every SIMD level.
 *
 * Activations are checked against double with 8 * 2^-24 relative tolerance
 * (the vector exp is within a few ulp) plus 1e-36 absolute for results that
 * underflow. add / mul / scale are single float operations, so they must equal
 * the double result rounded to float exactly; conversions must equal the scalar
 * base/dtype.h conversions bit for bit (NaN only as NaN, since hardware may
 * keep a payload the scalar code drops). */
#include "check.h"
#include "test_float_kernels.h"
#include "kernels/cpu/elementwise.h"
#include "base/dtype.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 70000 is long enough to be split over threads */
static const int64_t lengths[] = {1, 7, 67, 255, 1000, 70000};
enum { N_LENGTHS = sizeof lengths / sizeof lengths[0] };

static double act_double(double x, bt_op_activation act) {
    if (act == BT_OP_RELU2) return x > 0 ? x * x : 0.0;
    return x / (1.0 + exp(-x));
}

/* Random values in [-20, 20] with a few extremes where exp overflows. */
static void fill_activation_input(test_rng *rng, float *x, int64_t n) {
    static const float extremes[] = {-100.0f, -90.0f, -88.5f, 88.5f, 90.0f, 100.0f, 0.0f};
    test_rng_fill(rng, x, n, -20.0f, 20.0f);
    for (int64_t i = 0; i < n; i += 13) x[i] = extremes[(i / 13) % 7];
}

static int activations_match_double(void *ctx, char *why, size_t why_size) {
    (void)ctx;
    test_rng rng = test_rng_new(40);
    int ok = 1;
    for (int li = 0; li < N_LENGTHS && ok; li++)
        for (int act = BT_OP_SILU; act <= BT_OP_RELU2 && ok; act++)
            for (int gated = 0; gated <= 1 && ok; gated++) {
                const int64_t n = lengths[li];
                float *x = malloc(sizeof(float) * n), *up = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n);
                fill_activation_input(&rng, x, n);
                test_rng_fill(&rng, up, n, -3.0f, 3.0f);
                if (gated) bt_gated_activate(out, x, up, n, (bt_op_activation)act);
                else bt_activate(out, x, n, (bt_op_activation)act);
                for (int64_t i = 0; i < n && ok; i++) {
                    const double ref = act_double(x[i], (bt_op_activation)act) * (gated ? up[i] : 1.0);
                    ok = fabs(out[i] - ref) <= 8 * 0x1p-24 * fabs(ref) + 1e-36;
                    if (!ok)
                        snprintf(why, why_size, "%s%s n=%lld: x=%.9g -> %.9g, expected %.9g",
                                 act == BT_OP_SILU ? "silu" : "relu2", gated ? " gated" : "", (long long)n, x[i],
                                 out[i], ref);
                }
                free(x), free(up), free(out);
            }
    return ok;
}

BT_TEST(float_activations_match_double) {
    char why[512];
    BT_CHECK(test_at_every_simd_level(activations_match_double, NULL, why, sizeof why), "%s", why);
}

BT_TEST(float_add_mul_scale_are_exact_and_work_in_place) {
    test_rng rng = test_rng_new(41);
    for (int li = 0; li < N_LENGTHS; li++) {
        const int64_t n = lengths[li];
        float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n);
        test_rng_fill(&rng, a, n, -1e3f, 1e3f);
        test_rng_fill(&rng, b, n, -1.0f, 1.0f);
        const float s = test_rng_uniform(&rng, -2.0f, 2.0f);
        int64_t bad_add = -1, bad_mul = -1, bad_scale = -1;
        bt_add(out, a, b, n);
        for (int64_t i = 0; i < n && bad_add < 0; i++) if (out[i] != (float)((double)a[i] + b[i])) bad_add = i;
        bt_mul(out, a, b, n);
        for (int64_t i = 0; i < n && bad_mul < 0; i++) if (out[i] != (float)((double)a[i] * b[i])) bad_mul = i;
        bt_scale(out, a, s, n);
        for (int64_t i = 0; i < n && bad_scale < 0; i++) if (out[i] != (float)((double)a[i] * s)) bad_scale = i;
        memcpy(out, a, sizeof(float) * n);
        bt_add(a, a, b, n);   /* a residual add in place: a += b */
        int64_t bad_in_place = -1;
        for (int64_t i = 0; i < n && bad_in_place < 0; i++) if (a[i] != (float)((double)out[i] + b[i])) bad_in_place = i;
        free(a), free(b), free(out);
        BT_CHECK(bad_add < 0 && bad_mul < 0 && bad_scale < 0 && bad_in_place < 0,
                 "n=%lld: first wrong element of add %lld, mul %lld, scale %lld, add in place %lld", (long long)n,
                 (long long)bad_add, (long long)bad_mul, (long long)bad_scale, (long long)bad_in_place);
    }
}

static int same_or_both_nan_f32(float a, float b) { return memcmp(&a, &b, 4) == 0 || (isnan(a) && isnan(b)); }
static int is_nan_f16(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }

/* A float with a random sign, mantissa and exponent (all of them, so inf, NaN,
 * subnormals and half-way cases for f16 / bf16 all occur). */
static float random_bits_f32(test_rng *rng) {
    uint32_t u = (uint32_t)test_rng_next(rng);
    if (u % 4 == 0) u = (u & 0x807fffffu) | ((100u + u % 45u) << 23);   /* near the f16 range, often */
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int conversions_match_scalar(void *ctx, char *why, size_t why_size) {
    (void)ctx;
    test_rng rng = test_rng_new(42);
    const int64_t n_all = 65536, n_max = lengths[N_LENGTHS - 1];
    uint16_t *half = malloc(2 * n_all), *back = malloc(2 * n_max);
    float *single = malloc(4 * n_max), *wide = malloc(4 * n_all);
    int ok = 1;
    for (int64_t i = 0; i < n_all; i++) half[i] = (uint16_t)i;   /* every 16-bit pattern */
    bt_convert_f16_to_f32(wide, half, n_all);
    for (int64_t i = 0; i < n_all && ok; i++) {
        ok = same_or_both_nan_f32(wide[i], bt_f16_to_f32(half[i]));
        if (!ok) snprintf(why, why_size, "f16 0x%04x -> %.9g, scalar %.9g", half[i], wide[i], bt_f16_to_f32(half[i]));
    }
    bt_convert_bf16_to_f32(wide, half, n_all);
    for (int64_t i = 0; i < n_all && ok; i++) {
        ok = same_or_both_nan_f32(wide[i], bt_bf16_to_f32(half[i]));
        if (!ok) snprintf(why, why_size, "bf16 0x%04x -> %.9g, scalar %.9g", half[i], wide[i], bt_bf16_to_f32(half[i]));
    }
    for (int li = 0; li < N_LENGTHS && ok; li++) {
        const int64_t n = lengths[li];
        for (int64_t i = 0; i < n; i++) single[i] = random_bits_f32(&rng);
        bt_convert_f32_to_f16(back, single, n);
        for (int64_t i = 0; i < n && ok; i++) {
            const uint16_t ref = bt_f32_to_f16(single[i]);
            ok = back[i] == ref || (is_nan_f16(back[i]) && is_nan_f16(ref));
            if (!ok) snprintf(why, why_size, "n=%lld: %.9g -> f16 0x%04x, scalar 0x%04x", (long long)n, single[i], back[i], ref);
        }
        bt_convert_f32_to_bf16(back, single, n);
        for (int64_t i = 0; i < n && ok; i++) {
            const uint16_t ref = bt_f32_to_bf16(single[i]);
            ok = back[i] == ref;
            if (!ok) snprintf(why, why_size, "n=%lld: %.9g -> bf16 0x%04x, scalar 0x%04x", (long long)n, single[i], back[i], ref);
        }
    }
    free(half), free(back), free(single), free(wide);
    return ok;
}

BT_TEST(float_conversions_match_scalar_dtype) {
    char why[512];
    BT_CHECK(test_at_every_simd_level(conversions_match_scalar, NULL, why, sizeof why), "%s", why);
}
