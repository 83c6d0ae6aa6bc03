/* test_float_kernels_rope.c - bt_rope in both pairings against the double
 * formula, and the interleaved pairing against llama2.c's float recipe.
 *
 * Tolerance against the double formula: the kernel's angle (float frequency
 * times float position, as in llama2.c and PyTorch) is off by at most
 * 5.4e-7 * |angle| (measured for theta <= 1e6, rot_dim <= 256, pos < 8192);
 * the check allows 1e-6 * |angle| plus 4 float roundings, times the length of
 * the rotated pair. */
#include "check.h"
#include "test_float_kernels.h"
#include "kernels/cpu/rope.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct rope_shape { int n_heads, head_dim, rot_dim; } rope_shape;

static int rope_case(test_rng *rng, rope_shape shape, float theta, bt_op_rope_style style, char *why, size_t why_size) {
    const int64_t m = 6, width = (int64_t)shape.n_heads * shape.head_dim, stride = width + 3;
    float *x = malloc(sizeof(float) * m * stride), *x0 = malloc(sizeof(float) * m * stride);
    int32_t pos[6] = {0, 1, 7, (int32_t)(test_rng_next(rng) % 512), (int32_t)(test_rng_next(rng) % 8192), 8191};
    test_rng_fill(rng, x, m * stride, -2.0f, 2.0f);
    memcpy(x0, x, sizeof(float) * m * stride);
    bt_rope(x, pos, m, stride, shape.n_heads, shape.head_dim, shape.rot_dim, theta, style);
    const int half = shape.rot_dim / 2;
    int ok = 1;
    for (int64_t r = 0; r < m && ok; r++) {
        for (int64_t c = width; c < stride && ok; c++)   /* past the heads: untouched */
            ok = memcmp(&x[r * stride + c], &x0[r * stride + c], 4) == 0;
        for (int h = 0; h < shape.n_heads && ok; h++) {
            const float *a0 = x0 + r * stride + (int64_t)h * shape.head_dim;
            const float *a1 = x + r * stride + (int64_t)h * shape.head_dim;
            for (int d = shape.rot_dim; d < shape.head_dim && ok; d++) ok = memcmp(&a0[d], &a1[d], 4) == 0;
            if (!ok) snprintf(why, why_size, "row %lld: a value past rot_dim or past the heads changed", (long long)r);
            for (int i = 0; i < half && ok; i++) {
                const int ia = style == BT_OP_ROPE_INTERLEAVED ? 2 * i : i;
                const int ib = style == BT_OP_ROPE_INTERLEAVED ? 2 * i + 1 : i + half;
                const double angle = pos[r] * pow((double)theta, -2.0 * i / shape.rot_dim);
                const double a = a0[ia], b = a0[ib];
                const double ref_a = a * cos(angle) - b * sin(angle), ref_b = a * sin(angle) + b * cos(angle);
                const double tol = (1e-6 * angle + 4 * 0x1p-24) * hypot(a, b) + 1e-30;
                ok = fabs(a1[ia] - ref_a) <= tol && fabs(a1[ib] - ref_b) <= tol;
                if (!ok)
                    snprintf(why, why_size,
                             "%s heads=%d head_dim=%d rot_dim=%d theta=%g pos=%d head %d pair %d: (%.9g, %.9g), "
                             "expected (%.9g, %.9g), tol %.3g",
                             style == BT_OP_ROPE_INTERLEAVED ? "interleaved" : "neox", shape.n_heads, shape.head_dim,
                             shape.rot_dim, theta, pos[r], h, i, a1[ia], a1[ib], ref_a, ref_b, tol);
            }
        }
    }
    free(x), free(x0);
    return ok;
}

BT_TEST(float_rope_matches_double_both_styles) {
    test_rng rng = test_rng_new(20);
    const rope_shape shapes[] = {{1, 2, 2}, {8, 8, 8}, {6, 32, 32}, {2, 64, 64}, {3, 128, 64}, {5, 6, 4}};
    const float thetas[] = {10000.0f, 500000.0f};
    char why[768];
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int ti = 0; ti < 2; ti++)
            for (int style = BT_OP_ROPE_INTERLEAVED; style <= BT_OP_ROPE_NEOX; style++)
                BT_CHECK(rope_case(&rng, shapes[si], thetas[ti], (bt_op_rope_style)style, why, sizeof why), "%s", why);
}

/* llama2.c's run.c, for q and k of stories260K (8 heads of 8): the same float
 * operations in the same order, so the result must be identical bit for bit. */
BT_TEST(float_rope_interleaved_reproduces_llama2c) {
    test_rng rng = test_rng_new(21);
    enum { DIM = 64, HEAD_SIZE = 8 };
    float x[DIM], expected[DIM];
    for (int pos = 0; pos < 512; pos++) {
        test_rng_fill(&rng, x, DIM, -3.0f, 3.0f);
        memcpy(expected, x, sizeof x);
        for (int i = 0; i < DIM; i += 2) {
            int head_dim = i % HEAD_SIZE;
            float freq = 1.0f / powf(10000.0f, head_dim / (float)HEAD_SIZE);
            float val = pos * freq;
            float fcr = cosf(val), fci = sinf(val);
            float v0 = expected[i], v1 = expected[i + 1];
            expected[i] = v0 * fcr - v1 * fci;
            expected[i + 1] = v0 * fci + v1 * fcr;
        }
        const int32_t p = pos;
        bt_rope(x, &p, 1, DIM, DIM / HEAD_SIZE, HEAD_SIZE, HEAD_SIZE, 10000.0f, BT_OP_ROPE_INTERLEAVED);
        for (int i = 0; i < DIM; i++)
            BT_CHECK(memcmp(&x[i], &expected[i], 4) == 0, "pos %d x[%d] = %.9g, llama2.c gives %.9g", pos, i, x[i],
                     expected[i]);
    }
}
