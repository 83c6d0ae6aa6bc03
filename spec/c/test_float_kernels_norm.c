/* test_float_kernels_norm.c - bt_rmsnorm and bt_layernorm against double
 * references (plain C kernels: one SIMD level).
 *
 * Both kernels sum in double, so each output is within a few roundings of the
 * exact value: the check allows 4 * 2^-24 relative to the output magnitude
 * (plus, for LayerNorm, to the magnitude before the bias is added). */
#include "check.h"
#include "test_float_kernels.h"
#include "kernels/cpu/norm.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int64_t row_lengths[] = {1, 7, 67, 255, 1000, 4099};
enum { ROWS = 3 };

enum { WITH_WEIGHTS = 1, IN_PLACE = 2, WITH_BIAS = 2, LARGE_MEAN = 4 };

static int rmsnorm_case(test_rng *rng, int64_t n, int variant, char *why, size_t why_size) {
    const float eps = 1e-5f;
    const float magnitude = powf(10.0f, (float)((int)(test_rng_next(rng) % 7) - 3));
    float *x = malloc(sizeof(float) * ROWS * n), *x0 = malloc(sizeof(float) * ROWS * n);
    float *w = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * ROWS * n);
    test_rng_fill(rng, x, ROWS * n, -magnitude, magnitude);
    test_rng_fill(rng, w, n, -2.0f, 2.0f);
    memcpy(x0, x, sizeof(float) * ROWS * n);
    const float *weights = variant & WITH_WEIGHTS ? w : NULL;
    float *dest = variant & IN_PLACE ? x : out;
    bt_rmsnorm(dest, x, weights, ROWS, n, eps);
    int ok = 1;
    for (int64_t r = 0; r < ROWS && ok; r++) {
        double ss = 0.0;
        for (int64_t i = 0; i < n; i++) ss += (double)x0[r * n + i] * x0[r * n + i];
        const double inv = 1.0 / sqrt(ss / (double)n + (double)eps);
        for (int64_t i = 0; i < n && ok; i++) {
            const double ref = x0[r * n + i] * inv * (weights ? w[i] : 1.0), got = dest[r * n + i];
            ok = fabs(got - ref) <= 4 * 0x1p-24 * fabs(ref) + 1e-37;
            if (!ok)
                snprintf(why, why_size, "n=%lld weights=%d in_place=%d: out[%lld,%lld] = %.9g, expected %.9g",
                         (long long)n, variant & WITH_WEIGHTS, !!(variant & IN_PLACE), (long long)r, (long long)i, got,
                         ref);
        }
    }
    free(x), free(x0), free(w), free(out);
    return ok;
}

BT_TEST(float_rmsnorm_matches_double) {
    test_rng rng = test_rng_new(10);
    char why[512];
    for (size_t ni = 0; ni < sizeof row_lengths / sizeof row_lengths[0]; ni++)
        for (int variant = 0; variant < 4; variant++)
            BT_CHECK(rmsnorm_case(&rng, row_lengths[ni], variant, why, sizeof why), "%s", why);
}

static int layernorm_case(test_rng *rng, int64_t n, int variant, char *why, size_t why_size) {
    const float eps = 1e-6f;
    const float offset = variant & LARGE_MEAN ? 1000.0f : 0.0f;   /* the mean dwarfs the spread */
    float *x = malloc(sizeof(float) * ROWS * n), *out = malloc(sizeof(float) * ROWS * n);
    float *w = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
    test_rng_fill(rng, x, ROWS * n, -1.0f, 1.0f);
    for (int64_t i = 0; i < ROWS * n; i++) x[i] += offset;
    test_rng_fill(rng, w, n, -2.0f, 2.0f);
    test_rng_fill(rng, b, n, -1.0f, 1.0f);
    const float *weights = variant & WITH_WEIGHTS ? w : NULL, *bias = variant & WITH_BIAS ? b : NULL;
    bt_layernorm(out, x, weights, bias, ROWS, n, eps);
    int ok = 1;
    for (int64_t r = 0; r < ROWS && ok; r++) {
        const float *xr = x + r * n;
        double mean = 0.0, var = 0.0;
        for (int64_t i = 0; i < n; i++) mean += xr[i];
        mean /= (double)n;
        for (int64_t i = 0; i < n; i++) var += (xr[i] - mean) * (xr[i] - mean);
        const double inv = 1.0 / sqrt(var / (double)n + (double)eps);
        for (int64_t i = 0; i < n && ok; i++) {
            const double scaled = (xr[i] - mean) * inv * (weights ? w[i] : 1.0);
            const double ref = scaled + (bias ? b[i] : 0.0), got = out[r * n + i];
            ok = fabs(got - ref) <= 4 * 0x1p-24 * (fabs(ref) + fabs(scaled)) + 1e-37;
            if (!ok)
                snprintf(why, why_size, "n=%lld weights=%d bias=%d mean %g: out[%lld,%lld] = %.9g, expected %.9g",
                         (long long)n, variant & WITH_WEIGHTS, !!(variant & WITH_BIAS), offset, (long long)r,
                         (long long)i, got, ref);
        }
    }
    free(x), free(out), free(w), free(b);
    return ok;
}

BT_TEST(float_layernorm_matches_double) {
    test_rng rng = test_rng_new(11);
    char why[512];
    for (size_t ni = 0; ni < sizeof row_lengths / sizeof row_lengths[0]; ni++)
        for (int variant = 0; variant < 8; variant++)
            BT_CHECK(layernorm_case(&rng, row_lengths[ni], variant, why, sizeof why), "%s", why);
}
