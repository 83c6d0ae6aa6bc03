/* test_ternary_format.c - ternary weight layouts (kernels/cpu/ternary_format.h):
 * pack -> prepare -> dequantize round trips for every format, the bit
 * positions of TQ2_0 and I2_S, every base-3 byte of TQ1_0, scale folding,
 * absmean quantization, and refusals of bad sizes. */
#include "check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/cpu/ternary.h"
#include "kernels/cpu/ternary_quantize.h"
#include "base/dtype.h"

static uint64_t next(uint64_t *s) {   /* xorshift64* */
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static int64_t random_k(uint64_t *s, bt_ternary_format f) {
    switch (f) {
    case BT_TERNARY_TQ2_0:
    case BT_TERNARY_TQ1_0: return 256 * (1 + (int64_t)(next(s) % 4));
    case BT_TERNARY_I2_S: return 128 * (1 + (int64_t)(next(s) % 6));
    default: return 1 + (int64_t)(next(s) % 600);
    }
}

BT_TEST(ternary_format_sizes_agree_with_the_dtype_table) {
    const struct { bt_ternary_format f; bt_dtype d; } pairs[] = {
        {BT_TERNARY_TQ2_0, BT_TQ2_0}, {BT_TERNARY_TQ1_0, BT_TQ1_0}, {BT_TERNARY_I2_S, BT_I2_S}};
    for (int i = 0; i < 3; i++) {
        const bt_ternary_format_info *t = bt_ternary_format_get_info(pairs[i].f);
        const bt_dtype_info *d = bt_dtype_get_info(pairs[i].d);
        BT_CHECK(t && d && (uint32_t)t->block_cols == d->block_size && (uint32_t)t->block_bytes == d->block_bytes,
                 "%s: block %d/%d bytes, dtype table %u/%u", t->name, t->block_cols, t->block_bytes, d->block_size, d->block_bytes);
        bt_ternary_format back;
        BT_CHECK(bt_ternary_format_from_name(d->name, &back) && back == pairs[i].f, "name %s", d->name);
    }
    BT_CHECK(bt_ternary_row_bytes(BT_TERNARY_BT2, 129) == 64 && bt_ternary_data_bytes(BT_TERNARY_BT2, 3, 129) == 196, "bt2 sizes");
    BT_CHECK(bt_ternary_data_bytes(BT_TERNARY_I2_S, 2, 256) == 2 * 64 + 32, "i2_s size");
}

BT_TEST(ternary_pack_dequantize_round_trip_every_format) {
    uint64_t s = bt_test_seed() | 1;
    for (int f = 0; f < BT_TERNARY_FORMAT_COUNT; f++) {
        for (int trial = 0; trial < 12; trial++) {
            const int64_t n = 1 + (int64_t)(next(&s) % 9), k = random_k(&s, (bt_ternary_format)f);
            const float scale = (float)(1 + next(&s) % 1023) / 1024.0f;   /* exact in f16 */
            float *w = malloc(sizeof(float) * (size_t)(n * k)), *row = malloc(sizeof(float) * (size_t)k);
            for (int64_t i = 0; i < n * k; i++) w[i] = (float)((int)(next(&s) % 3) - 1) * scale;
            if (trial % 2 && n * k > 256) memset(w, 0, sizeof(float) * 256);   /* a zero block, d = 0 in TQ */
            const size_t bytes = bt_ternary_data_bytes((bt_ternary_format)f, n, k);
            uint8_t *packed = malloc(bytes);
            BT_CHECK(bt_ternary_pack(packed, bytes, (bt_ternary_format)f, w, n, k) == BT_OK, "%s", bt_last_error());
            bt_ternary_matrix m;
            BT_CHECK(bt_ternary_prepare(&m, (bt_ternary_format)f, packed, bytes, n, k) == BT_OK, "%s", bt_last_error());
            BT_CHECK(!m.per_block_scales && m.scale == scale, "%s: folded %d, scale %g, expected %g",
                     bt_ternary_format_get_info(m.format)->name, !m.per_block_scales, m.scale, scale);
            for (int64_t i = 0; i < n; i++) {
                bt_ternary_dequantize_row(row, &m, i);
                for (int64_t j = 0; j < k; j++)
                    BT_CHECK(row[j] == w[i * k + j], "%s [%lld, %lld] row %lld col %lld: %g, expected %g",
                             bt_ternary_format_get_info(m.format)->name, (long long)n, (long long)k, (long long)i,
                             (long long)j, row[j], w[i * k + j]);
            }
            free(packed);
            free(row);
            free(w);
        }
    }
}

/* one row of 256 with w[j] = +1, 0, -1 for j = 0, 32, 64 and +1 at 96 (the README's I2_S example) */
BT_TEST(ternary_pack_puts_codes_at_the_documented_bits) {
    float w[256] = {0};
    w[0] = 1.0f, w[64] = -1.0f, w[96] = 1.0f;
    w[128 + 33] = -1.0f;   /* TQ2_0 second half, byte 32 + 1, bits 2-3 */
    uint8_t i2s[64 + 32], tq2[66];
    BT_CHECK(bt_ternary_pack(i2s, sizeof i2s, BT_TERNARY_I2_S, w, 1, 256) == BT_OK, "%s", bt_last_error());
    BT_CHECK(i2s[0] == 0x92, "I2_S byte 0 is 0x%02x, expected 0x92", i2s[0]);
    BT_CHECK(i2s[32 + 1] == (0x55 & ~0x30), "I2_S byte 33 is 0x%02x (column 128 + 33 = -1 at bits 5-4)", i2s[33]);
    float scale;
    memcpy(&scale, i2s + 64, 4);
    BT_CHECK(scale == 1.0f, "I2_S scale %g", scale);
    BT_CHECK(bt_ternary_pack(tq2, sizeof tq2, BT_TERNARY_TQ2_0, w, 1, 256) == BT_OK, "%s", bt_last_error());
    BT_CHECK(tq2[0] == (2 | 1 << 2 | 0 << 4 | 2 << 6), "TQ2_0 byte 0 is 0x%02x", tq2[0]);
    BT_CHECK(tq2[32 + 1] == (1 | 0 << 2 | 1 << 4 | 1 << 6), "TQ2_0 byte 33 is 0x%02x", tq2[33]);
    BT_CHECK(tq2[64] == 0x00 && tq2[65] == 0x3c, "TQ2_0 d bytes %02x %02x (f16 1.0 is 00 3c)", tq2[64], tq2[65]);
}

/* every 5-digit base-3 value in qs[0] and every 4-digit value in qh[0] */
BT_TEST(ternary_tq1_0_every_base3_byte_decodes) {
    float w[256], row[256];
    uint8_t block[54];
    bt_ternary_matrix m;
    for (int v = 0; v < 243; v++) {
        memset(w, 0, sizeof w);
        w[255] = 1.0f;   /* keep d = 1 */
        for (int j = 0, rest = v; j < 5; j++, rest /= 3) w[32 * (4 - j)] = (float)(rest % 3 - 1);
        if (v < 81)
            for (int j = 0, rest = v; j < 4; j++, rest /= 3) w[240 + 4 * (3 - j)] = (float)(rest % 3 - 1);
        BT_CHECK(bt_ternary_pack(block, sizeof block, BT_TERNARY_TQ1_0, w, 1, 256) == BT_OK, "%s", bt_last_error());
        BT_CHECK(block[0] == (v * 256 + 242) / 243, "value %d: byte %d, expected ceil(v * 256 / 243)", v, block[0]);
        BT_CHECK(bt_ternary_prepare(&m, BT_TERNARY_TQ1_0, block, sizeof block, 1, 256) == BT_OK, "%s", bt_last_error());
        bt_ternary_dequantize_row(row, &m, 0);
        for (int j = 0; j < 256; j++) BT_CHECK(row[j] == w[j], "value %d column %d: %g, expected %g", v, j, row[j], w[j]);
    }
}

BT_TEST(ternary_prepare_folds_equal_block_scales_only) {
    uint64_t s = bt_test_seed() | 1;
    const int64_t n = 3, k = 512;
    float w[3 * 512];
    for (int i = 0; i < n * k; i++) w[i] = (float)((int)(next(&s) % 3) - 1) * 0.5f;
    for (int j = 256; j < 512; j++) w[512 + j] = 0.0f;   /* row 1, block 1: all zero, d = 0 */
    uint8_t packed[3 * 2 * 66];
    bt_ternary_matrix m;
    for (int f = BT_TERNARY_TQ2_0; f <= BT_TERNARY_TQ1_0; f++) {
        const int bb = bt_ternary_format_get_info((bt_ternary_format)f)->block_bytes;
        BT_CHECK(bt_ternary_pack(packed, sizeof packed, (bt_ternary_format)f, w, n, k) == BT_OK, "%s", bt_last_error());
        BT_CHECK(bt_ternary_prepare(&m, (bt_ternary_format)f, packed, sizeof packed, n, k) == BT_OK, "%s", bt_last_error());
        BT_CHECK(!m.per_block_scales && m.scale == 0.5f, "zero block with d = 0 must fold: %d %g", m.per_block_scales, m.scale);
        packed[2 * bb * 2 + bb - 1] ^= 0x04;   /* row 2, block 0: another d on a nonzero block */
        BT_CHECK(bt_ternary_prepare(&m, (bt_ternary_format)f, packed, sizeof packed, n, k) == BT_OK, "%s", bt_last_error());
        BT_CHECK(m.per_block_scales, "%s: blocks with different d were folded", bt_ternary_format_get_info(m.format)->name);
    }
}

BT_TEST(ternary_absmean_quantization) {
    uint64_t s = bt_test_seed() | 1;
    const int64_t count = 1000 + (int64_t)(next(&s) % 1000);
    float *w = malloc(sizeof(float) * (size_t)count), *q = malloc(sizeof(float) * (size_t)count);
    double sum = 0;
    for (int64_t i = 0; i < count; i++) {
        w[i] = ((float)(next(&s) >> 40) / (float)(1 << 24) - 0.5f) * 0.2f;
        sum += fabs((double)w[i]);
    }
    float scale;
    BT_CHECK(bt_ternary_quantize_absmean(q, &scale, w, count) == BT_OK, "%s", bt_last_error());
    const float inv = 1.0f / (float)(sum / (double)count);
    BT_CHECK(scale == 1.0f / inv, "scale %.9g, expected %.9g", scale, 1.0f / inv);
    for (int64_t i = 0; i < count; i++) {
        const float v = w[i] * inv;
        const float want = v > 0.5f ? scale : v < -0.5f ? -scale : (v == 0.5f || v == -0.5f) ? -99.0f : 0.0f;
        if (want == -99.0f) continue;   /* an exact tie: round half to even gives 0 */
        BT_CHECK(q[i] == want, "w %g -> %g, expected %g", w[i], q[i], want);
    }
    /* the packers keep these codes and this scale */
    uint8_t *packed = malloc(bt_ternary_data_bytes(BT_TERNARY_BT2, 1, count));
    bt_ternary_matrix m;
    float *back = malloc(sizeof(float) * (size_t)count);
    BT_CHECK(bt_ternary_pack(packed, bt_ternary_data_bytes(BT_TERNARY_BT2, 1, count), BT_TERNARY_BT2, q, 1, count) == BT_OK, "%s", bt_last_error());
    BT_CHECK(bt_ternary_prepare(&m, BT_TERNARY_BT2, packed, bt_ternary_data_bytes(BT_TERNARY_BT2, 1, count), 1, count) == BT_OK, "%s", bt_last_error());
    bt_ternary_dequantize_row(back, &m, 0);
    BT_CHECK(m.scale == scale, "BT2 scale %g, expected %g", m.scale, scale);
    for (int64_t i = 0; i < count; i++) BT_CHECK(back[i] == q[i], "BT2 round trip: %g, expected %g", back[i], q[i]);
    w[3] = NAN;
    BT_CHECK(bt_ternary_quantize_absmean(q, &scale, w, count) == BT_ERR_ARG, "NaN weight accepted");
    BT_CHECK(bt_ternary_quantize_absmean(q, &scale, w, 0) == BT_ERR_ARG, "empty tensor accepted");
    free(back);
    free(packed);
    free(q);
    free(w);
}

BT_TEST(ternary_format_refuses_bad_sizes) {
    float w[512] = {0};
    uint8_t buf[1024] = {0};
    bt_ternary_matrix m;
    BT_CHECK(bt_ternary_pack(buf, sizeof buf, BT_TERNARY_TQ2_0, w, 1, 100) == BT_ERR_ARG, "TQ2_0 k = 100 packed");
    BT_CHECK(strstr(bt_last_error(), "multiple of 256"), "message: %s", bt_last_error());
    BT_CHECK(bt_ternary_pack(buf, sizeof buf, BT_TERNARY_I2_S, w, 1, 192) == BT_ERR_ARG, "I2_S k = 192 packed");
    BT_CHECK(bt_ternary_pack(buf, 10, BT_TERNARY_BT2, w, 1, 100) == BT_ERR_ARG, "too small a buffer accepted");
    BT_CHECK(bt_ternary_pack(buf, sizeof buf, BT_TERNARY_BT2, w, 1, 100) == BT_OK, "BT2 k = 100: %s", bt_last_error());
    BT_CHECK(bt_ternary_pack(buf, sizeof buf, (bt_ternary_format)9, w, 1, 256) == BT_ERR_ARG, "unknown format packed");
    BT_CHECK(bt_ternary_prepare(&m, BT_TERNARY_TQ1_0, buf, sizeof buf, 1, 300) == BT_ERR_ARG, "TQ1_0 k = 300 prepared");
    BT_CHECK(bt_ternary_prepare(&m, BT_TERNARY_TQ2_0, buf, 65, 1, 256) == BT_ERR_ARG, "65 bytes for one TQ2_0 block");
    BT_CHECK(strstr(bt_last_error(), "66 bytes"), "message: %s", bt_last_error());
    BT_CHECK(bt_ternary_prepare(&m, BT_TERNARY_I2_S, buf, 64, 1, 256) == BT_ERR_ARG, "I2_S without its scale");
    BT_CHECK(bt_ternary_prepare(&m, BT_TERNARY_I2_S, buf, 68, 1, 256) == BT_OK, "I2_S without the padding: %s", bt_last_error());
    BT_CHECK(bt_ternary_prepare(&m, BT_TERNARY_BT2, buf, sizeof buf, 0, 10) == BT_ERR_ARG, "n = 0 prepared");
    const float nan_scale = NAN;
    memcpy(buf + 32, &nan_scale, 4);
    BT_CHECK(bt_ternary_prepare(&m, BT_TERNARY_BT2, buf, 36, 1, 10) == BT_ERR_FORMAT, "NaN scale accepted");
    memset(buf, 0xaa, 66);   /* a nonzero TQ2_0 block whose d is 0xaaaa, then a NaN d */
    BT_CHECK(bt_ternary_prepare(&m, BT_TERNARY_TQ2_0, buf, 66, 1, 256) == BT_OK, "%s", bt_last_error());
    buf[64] = 0x00, buf[65] = 0x7e;
    BT_CHECK(bt_ternary_prepare(&m, BT_TERNARY_TQ2_0, buf, 66, 1, 256) == BT_ERR_FORMAT, "NaN block scale accepted");
}
