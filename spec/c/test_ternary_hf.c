/* test_ternary_hf.c - Hugging Face packed BitNet weights (kernels/cpu/ternary_hf.h):
 * the bit layout against transformers' documented unpack example and a direct
 * reading of pack_weights, pack -> TQ2_0 -> dequantize round trips in both
 * scale directions, and refusals of bad input. */
#include "check.h"
#include <math.h>
#include <stdlib.h>
#include "kernels/cpu/ternary.h"
#include "kernels/cpu/ternary_hf.h"
#include "base/dtype.h"

static uint64_t next(uint64_t *s) {   /* xorshift64* */
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* A random ternary W [n, k] with +1 worth `s` (an f16-exact value in [0.05, 0.3)); W[0] = +s. */
static float *random_ternary(uint64_t *seed, int64_t n, int64_t k, float *s) {
    *s = bt_f16_to_f32(bt_f32_to_f16(0.05f + 0.25f * (float)(next(seed) % 1000) / 1000.0f));
    float *w = malloc((size_t)(n * k) * sizeof *w);
    for (int64_t i = 0; i < n * k; i++) w[i] = (float)((int)(next(seed) % 3) - 1) * *s;
    w[0] = *s;   /* so that max|W| = s */
    return w;
}

/* TQ2_0 [n, k] -> f32 values, through the runtime's own prepare/dequantize. */
static int dequantize_tq2_0(float *out /* [n, k] */, const uint8_t *data, size_t bytes, int64_t n, int64_t k) {
    bt_ternary_matrix m;
    if (bt_ternary_prepare(&m, BT_TERNARY_TQ2_0, data, bytes, n, k) != BT_OK) return 0;
    for (int64_t r = 0; r < n; r++) bt_ternary_dequantize_row(out + r * k, &m, r);
    return 1;
}

BT_TEST(ternary_hf_unpacks_the_transformers_docstring_example) {
    /* unpack_weights' docstring: [[0b10100001, 0b00011000], [0b10010000, 0b00001010]]
     * unpacks to [[0,-1],[-1,1],[-1,1],[-1,1],[1,0],[0,-1],[1,-1],[1,-1]] */
    const uint8_t packed[2 * 2] = {0xA1, 0x18, 0x90, 0x0A};
    const int want[8][2] = {{0, -1}, {-1, 1}, {-1, 1}, {-1, 1}, {1, 0}, {0, -1}, {1, -1}, {1, -1}};
    for (int r = 0; r < 8; r++) {
        uint8_t codes[2];
        bt_ternary_hf_row_codes(codes, packed, 2, 2, r);
        for (int j = 0; j < 2; j++)
            BT_CHECK(codes[j] - 1 == want[r][j], "row %d col %d: %d, want %d", r, j, codes[j] - 1, want[r][j]);
    }
}

BT_TEST(ternary_hf_pack_follows_pack_weights_bit_for_bit) {
    uint64_t seed = bt_test_seed() | 1;
    const int64_t n = 4 * (1 + (int64_t)(next(&seed) % 13)), k = 1 + (int64_t)(next(&seed) % 300), p = n / 4;
    float s, got_scale;
    float *w = random_ternary(&seed, n, k, &s);
    uint8_t *packed = malloc((size_t)(p * k)), *codes = malloc((size_t)k);
    BT_CHECK(bt_ternary_hf_pack(packed, &got_scale, w, n, k) == BT_OK, "%s", bt_last_error());
    BT_CHECK(got_scale == s, "scale %g, want %g", (double)got_scale, (double)s);
    /* pack_weights: packed[j] |= (W[i * p + j] + 1) << 2i for i = 0..3 */
    int ok = 1;
    for (int64_t j = 0; j < p && ok; j++)
        for (int64_t c = 0; c < k && ok; c++) {
            unsigned byte = 0;
            for (int i = 0; i < 4; i++) byte |= (unsigned)(int)(w[(i * p + j) * k + c] / s + 1.5f) << (2 * i);
            ok = packed[j * k + c] == byte;
        }
    BT_CHECK(ok, "packed bytes differ from pack_weights' layout (n %lld, k %lld)", (long long)n, (long long)k);
    for (int64_t r = 0; r < n && ok; r++) {
        bt_ternary_hf_row_codes(codes, packed, p, k, r);
        for (int64_t c = 0; c < k && ok; c++) ok = (float)(codes[c] - 1) * s == w[r * k + c];
    }
    BT_CHECK(ok, "row codes do not give W back");
    free(w), free(packed), free(codes);
}

BT_TEST(ternary_hf_to_tq2_0_round_trips_in_both_scale_directions) {
    uint64_t seed = bt_test_seed() | 1;
    const int64_t n = 4 * (1 + (int64_t)(next(&seed) % 11)), k = 256 * (1 + (int64_t)(next(&seed) % 3)), p = n / 4;
    float s, scale;
    float *w = random_ternary(&seed, n, k, &s), *back = malloc((size_t)(n * k) * sizeof *back);
    uint8_t *packed = malloc((size_t)(p * k));
    const size_t bytes = bt_ternary_data_bytes(BT_TERNARY_TQ2_0, n, k);
    uint8_t *tq = malloc(bytes);
    BT_CHECK(bt_ternary_hf_pack(packed, &scale, w, n, k) == BT_OK, "%s", bt_last_error());
    /* BitLinear stores weight_scale = 1 / s and divides by it; AutoBitLinear stores s and multiplies */
    const struct { float weight_scale; bt_hf_scale_use use; } cases[] = {
        {1.0f / s, BT_HF_SCALE_DIVIDES}, {s, BT_HF_SCALE_MULTIPLIES}};
    for (int c = 0; c < 2; c++) {
        BT_CHECK(bt_ternary_hf_to_tq2_0(tq, bytes, packed, p, k, cases[c].weight_scale, cases[c].use) == BT_OK, "%s",
                 bt_last_error());
        BT_CHECK(dequantize_tq2_0(back, tq, bytes, n, k), "%s", bt_last_error());
        for (int64_t i = 0; i < n * k; i++)
            BT_CHECK(back[i] == w[i], "case %d, element %lld: %g, want %g (n %lld, k %lld)", c, (long long)i,
                     (double)back[i], (double)w[i], (long long)n, (long long)k);
    }
    /* the other direction gives +1 the value s * s: the conversion must not ignore `use` */
    BT_CHECK(bt_ternary_hf_to_tq2_0(tq, bytes, packed, p, k, s, BT_HF_SCALE_DIVIDES) == BT_OK, "%s", bt_last_error());
    BT_CHECK(dequantize_tq2_0(back, tq, bytes, n, k), "%s", bt_last_error());
    BT_CHECK(fabsf(back[0] - 1.0f / s) <= 1e-3f / s, "divides: %g, want %g", (double)back[0], (double)(1.0f / s));
    free(w), free(back), free(packed), free(tq);
}

BT_TEST(ternary_hf_refuses_bad_widths_scales_and_codes) {
    uint8_t packed[2 * 256] = {0}, tq[8 * 66];
    for (int i = 0; i < 2 * 256; i++) packed[i] = 0x55;   /* all zeros (code 1) */
    BT_CHECK(bt_ternary_hf_to_tq2_0(tq, sizeof tq, packed, 2, 256, 0.5f, BT_HF_SCALE_DIVIDES) == BT_OK, "%s",
             bt_last_error());
    BT_CHECK(bt_ternary_hf_to_tq2_0(tq, sizeof tq, packed, 1, 300, 0.5f, BT_HF_SCALE_DIVIDES) == BT_ERR_ARG,
             "k = 300 accepted");
    BT_CHECK(bt_ternary_hf_to_tq2_0(tq, sizeof tq, packed, 2, 256, 0.0f, BT_HF_SCALE_DIVIDES) == BT_ERR_ARG,
             "scale 0 accepted");
    BT_CHECK(bt_ternary_hf_to_tq2_0(tq, sizeof tq, packed, 2, 256, NAN, BT_HF_SCALE_DIVIDES) == BT_ERR_ARG,
             "NaN scale accepted");
    BT_CHECK(bt_ternary_hf_to_tq2_0(tq, sizeof tq - 1, packed, 2, 256, 0.5f, BT_HF_SCALE_DIVIDES) == BT_ERR_ARG,
             "short output accepted");
    packed[256 + 17] = 0xD5;   /* row 7 (packed row 1, bits 6-7) holds code 3 */
    BT_CHECK(bt_ternary_hf_to_tq2_0(tq, sizeof tq, packed, 2, 256, 0.5f, BT_HF_SCALE_DIVIDES) == BT_ERR_FORMAT,
             "code 3 accepted");
    float w[6 * 3] = {0}, scale;
    BT_CHECK(bt_ternary_hf_pack(packed, &scale, w, 6, 3) == BT_ERR_ARG, "n = 6 accepted");
}
