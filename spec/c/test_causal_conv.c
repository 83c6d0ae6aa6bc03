/* test_causal_conv.c - the depthwise causal conv of TTT-Linear's queries and keys
 * (kernels/cpu/causal_conv.h) against a double reference over the whole stream,
 * with the stream fed in chunks of random lengths (0 included) so the history
 * carries across calls; random kernel sizes and odd widths. */
#include "check.h"
#include "test_float_kernels.h"
#include "kernels/cpu/causal_conv.h"
#include <math.h>
#include <string.h>

enum { MAX_TOK = 97, MAX_WIDTH = 67, MAX_K = 6 };

BT_TEST(causal_conv_in_chunks_matches_double) {
    test_rng rng = test_rng_new(61);
    static float x[MAX_TOK * MAX_WIDTH], x0[MAX_TOK * MAX_WIDTH];
    float w[MAX_K * MAX_WIDTH], bias[MAX_WIDTH], history[(MAX_K - 1) * MAX_WIDTH];
    for (int trial = 0; trial < 40; trial++) {
        const int n = 1 + (int)(test_rng_next(&rng) % MAX_TOK);
        const int width = 1 + (int)(test_rng_next(&rng) % MAX_WIDTH);
        const int K = 1 + (int)(test_rng_next(&rng) % MAX_K);
        const int with_bias = trial % 3 != 0;
        test_rng_fill(&rng, x, (int64_t)n * width, -2.0f, 2.0f);
        test_rng_fill(&rng, w, (int64_t)K * width, -1.0f, 1.0f);
        test_rng_fill(&rng, bias, width, -0.5f, 0.5f);
        memcpy(x0, x, sizeof(float) * n * width);
        memset(history, 0, sizeof history);
        for (int t0 = 0; t0 < n;) {
            const int len = (int)(test_rng_next(&rng) % 9);   /* 0..8 tokens a call */
            const int m = t0 + len > n ? n - t0 : len;
            bt_causal_conv(x + (int64_t)t0 * width, history, w, with_bias ? bias : NULL, m, width, K);
            t0 += m;
        }
        for (int t = 0; t < n; t++)
            for (int c = 0; c < width; c++) {
                double ref = with_bias ? bias[c] : 0.0;
                for (int j = 0; j < K; j++) {
                    const int s = t - (K - 1) + j;
                    if (s >= 0) ref += (double)w[j * width + c] * x0[s * width + c];
                }
                BT_CHECK(fabs(x[t * width + c] - ref) <= 1e-5 * (1 + fabs(ref)),
                         "n %d width %d K %d: y[%d, %d] = %.7g, expected %.7g", n, width, K, t, c, x[t * width + c], ref);
            }
        /* the history holds the last K-1 inputs, zeros before the stream's start */
        for (int j = 0; j < K - 1; j++) {
            const int s = n - (K - 1) + j;
            for (int c = 0; c < width; c++) {
                const float want = s >= 0 ? x0[s * width + c] : 0.0f;
                BT_CHECK(history[j * width + c] == want, "history[%d, %d] = %g, expected %g", j, c,
                         history[j * width + c], want);
            }
        }
    }
}
