/* test_ternary_act_quant.c - per-token int8 activations (kernels/cpu/act_quant.h):
 * every SIMD level gives the bytes of a plain reference (round half to even,
 * clamp), ties round to even, zero rows stay zero, padding and group sums are
 * right, and bad sizes are refused. */
#include "check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/cpu/act_quant.h"

static uint64_t next(uint64_t *s) {   /* xorshift64* */
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}
static float uniform(uint64_t *s) { return (float)(next(s) >> 40) / (float)(1 << 24) * 2.0f - 1.0f; }

/* round half to even without rintf: floor, then look at the fraction */
static int reference_q(float v) {
    const double f = floor((double)v), frac = (double)v - f;
    double r = frac > 0.5 ? f + 1 : frac < 0.5 ? f : (fmod(f, 2.0) == 0.0 ? f : f + 1);
    return r < -128 ? -128 : r > 127 ? 127 : (int)r;
}

/* checks a against the reference for x [m, k]; returns a message or NULL */
static const char *check_against_reference(const bt_act_i8 *a, const float *x) {
    static char msg[256];
    for (int64_t t = 0; t < a->m; t++) {
        float mx = 0.0f;
        for (int64_t j = 0; j < a->k; j++) mx = fmaxf(mx, fabsf(x[t * a->k + j]));
        const float s = 127.0f / (mx > 1e-5f ? mx : 1e-5f);
        if (a->scale[t] != s) {
            snprintf(msg, sizeof msg, "token %lld: scale %.9g, expected %.9g", (long long)t, a->scale[t], s);
            return msg;
        }
        for (int64_t j = 0; j < a->k_pad; j++) {
            const int want = j < a->k ? reference_q(x[t * a->k + j] * s) : 0;
            if (a->q[t * a->k_pad + j] != want) {
                snprintf(msg, sizeof msg, "token %lld column %lld: q %d, expected %d", (long long)t, (long long)j,
                         a->q[t * a->k_pad + j], want);
                return msg;
            }
        }
        for (int64_t g = 0; g < a->k_pad / 128; g++) {
            int32_t sum = 0;
            for (int j = 0; j < 128; j++) sum += a->q[t * a->k_pad + g * 128 + j];
            if (a->group_sum[t * (a->k_pad / 128) + g] != sum) {
                snprintf(msg, sizeof msg, "token %lld group %lld: sum %d, expected %d", (long long)t, (long long)g,
                         a->group_sum[t * (a->k_pad / 128) + g], sum);
                return msg;
            }
        }
    }
    return NULL;
}

BT_TEST(ternary_act_quant_matches_reference_at_every_level) {
    uint64_t s = bt_test_seed() | 1;
    for (int trial = 0; trial < 40; trial++) {
        const int64_t m = 1 + (int64_t)(next(&s) % 5), k = 1 + (int64_t)(next(&s) % 700);
        const float range = trial % 3 == 0 ? 1e-3f : trial % 3 == 1 ? 1.0f : 300.0f;
        float *x = malloc(sizeof(float) * (size_t)(m * k));
        for (int64_t i = 0; i < m * k; i++) x[i] = uniform(&s) * range;
        const size_t bytes = bt_act_i8_bytes(m, k);
        void *buf = malloc(bytes);
        bt_act_i8 a;
        BT_CHECK(bt_act_i8_init(&a, buf, bytes, m, k) == BT_OK, "%s", bt_last_error());
        BT_CHECK(a.k_pad % 256 == 0 && a.k_pad >= k && a.k_pad - k < 256, "k_pad %lld for k %lld", (long long)a.k_pad, (long long)k);
        for (int level = BT_SIMD_SCALAR; level <= (int)bt_simd_level_get(); level++) {
            memset(buf, 0x5a, bytes);   /* the padding must be written, not inherited */
            bt_act_quantize_at(&a, x, (bt_simd_level)level);
            const char *err = check_against_reference(&a, x);
            BT_CHECK(!err, "%s: m %lld k %lld: %s", bt_simd_level_name((bt_simd_level)level), (long long)m, (long long)k, err);
        }
        free(buf);
        free(x);
    }
}

BT_TEST(ternary_act_quant_rounds_ties_to_even) {
    /* max |x| = 127 makes s exactly 1, so x * s are the halves themselves */
    const float x[8] = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f};
    const int8_t want[8] = {127, 0, 2, 2, 0, -2, -2, 126};
    unsigned char buf[4096];
    bt_act_i8 a;
    BT_CHECK(bt_act_i8_init(&a, buf, sizeof buf, 1, 8) == BT_OK, "%s", bt_last_error());
    for (int level = BT_SIMD_SCALAR; level <= (int)bt_simd_level_get(); level++) {
        bt_act_quantize_at(&a, x, (bt_simd_level)level);
        BT_CHECK(a.scale[0] == 1.0f, "scale %g", a.scale[0]);
        for (int j = 0; j < 8; j++)
            BT_CHECK(a.q[j] == want[j], "%s: x %g -> %d, expected %d", bt_simd_level_name((bt_simd_level)level), x[j], a.q[j], want[j]);
    }
}

BT_TEST(ternary_act_quant_zero_row_uses_the_clamped_max) {
    float x[300] = {0};
    x[7] = 1e-7f;   /* below the 1e-5 clamp: s = 127 / 1e-5, q = round(1.27) = 1 */
    unsigned char buf[4096];
    bt_act_i8 a;
    BT_CHECK(bt_act_i8_init(&a, buf, sizeof buf, 1, 300) == BT_OK, "%s", bt_last_error());
    for (int level = BT_SIMD_SCALAR; level <= (int)bt_simd_level_get(); level++) {
        bt_act_quantize_at(&a, x, (bt_simd_level)level);
        BT_CHECK(a.scale[0] == 127.0f / 1e-5f, "scale %g", a.scale[0]);
        for (int j = 0; j < 512; j++) BT_CHECK(a.q[j] == (j == 7), "column %d: %d", j, a.q[j]);
        BT_CHECK(a.group_sum[0] == 1 && a.group_sum[1] == 0, "sums %d %d", a.group_sum[0], a.group_sum[1]);
    }
}

BT_TEST(ternary_act_quant_refuses_bad_sizes) {
    unsigned char buf[64];
    bt_act_i8 a;
    BT_CHECK(bt_act_i8_bytes(0, 10) == 0 && bt_act_i8_bytes(3, 0) == 0 && bt_act_i8_bytes(-1, 5) == 0, "sizes");
    BT_CHECK(bt_act_i8_init(&a, buf, sizeof buf, 0, 10) == BT_ERR_ARG, "m = 0 accepted");
    BT_CHECK(bt_act_i8_init(&a, buf, sizeof buf, 1, 1) == BT_ERR_ARG, "64 bytes accepted for 256 + scale + sums");
    BT_CHECK(strstr(bt_last_error(), "bytes") != NULL, "message: %s", bt_last_error());
    BT_CHECK(bt_act_i8_init(&a, NULL, 1 << 20, 1, 1) == BT_ERR_ARG, "NULL buffer accepted");
}
