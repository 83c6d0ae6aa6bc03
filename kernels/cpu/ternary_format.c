/* ternary_format.c - sizes, code decoding and packers of the ternary weight
 * formats (layouts in ternary_format.h). Plain C: this is the reference the
 * SIMD kernels are tested against, and the packers run once, offline. */
#include "ternary_format.h"
#include "base/dtype.h"
#include <math.h>
#include <string.h>

static const bt_ternary_format_info infos[BT_TERNARY_FORMAT_COUNT] = {
    [BT_TERNARY_TQ2_0] = {"tq2_0", BT_TQ_BLOCK, BT_TQ2_0_BLOCK_BYTES, 1, 0},
    [BT_TERNARY_TQ1_0] = {"tq1_0", BT_TQ_BLOCK, BT_TQ1_0_BLOCK_BYTES, 1, 0},
    [BT_TERNARY_I2_S] = {"i2_s", BT_TERNARY_GROUP, BT_TERNARY_GROUP / 4, 0, 0},
    [BT_TERNARY_BT2] = {"bt2", BT_TERNARY_GROUP, BT_TERNARY_GROUP / 4, 0, 1},
};

static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};

const bt_ternary_format_info *bt_ternary_format_get_info(bt_ternary_format f) {
    if ((int)f < 0 || f >= BT_TERNARY_FORMAT_COUNT) return NULL;
    return &infos[f];
}

int bt_ternary_format_from_name(const char *name, bt_ternary_format *out) {
    for (int i = 0; i < BT_TERNARY_FORMAT_COUNT; i++)
        if (strcmp(infos[i].name, name) == 0) { *out = (bt_ternary_format)i; return 1; }
    return 0;
}

int bt_ternary_format_from_dtype(bt_dtype d, bt_ternary_format *out) {
    switch (d) {
    case BT_TQ2_0: *out = BT_TERNARY_TQ2_0; return 1;
    case BT_TQ1_0: *out = BT_TERNARY_TQ1_0; return 1;
    case BT_I2_S: *out = BT_TERNARY_I2_S; return 1;
    default: return 0;
    }
}

size_t bt_ternary_row_bytes(bt_ternary_format f, int64_t k) {
    const bt_ternary_format_info *in = bt_ternary_format_get_info(f);
    if (!in || k <= 0 || k > (INT64_C(1) << 40)) return 0;
    if (in->pads_rows) k = (k + in->block_cols - 1) / in->block_cols * in->block_cols;
    if (k % in->block_cols) return 0;
    return (size_t)(k / in->block_cols) * (size_t)in->block_bytes;
}

size_t bt_ternary_data_bytes(bt_ternary_format f, int64_t n, int64_t k) {
    size_t row = bt_ternary_row_bytes(f, k);
    if (!row || n <= 0 || (uint64_t)n > (SIZE_MAX - 64) / row) return 0;
    size_t bytes = (size_t)n * row;
    if (!infos[f].has_block_scales) bytes += 4;
    if (f == BT_TERNARY_I2_S) bytes += BT_I2_S_FILE_PADDING;
    return bytes;
}

/* ---- decoding ------------------------------------------------------------ */

/* digit j (0 = most significant) of a base-3 fixed-point byte */
static uint8_t trit(uint8_t q, int j) {
    uint8_t shifted = (uint8_t)(q * pow3[j]);
    return (uint8_t)(((uint16_t)shifted * 3) >> 8);
}

static void tq1_block_codes(uint8_t *codes /* [256] */, const uint8_t *block) {
    const uint8_t *qs = block, *qh = block + 48;
    for (int j = 0; j < 5; j++)
        for (int m = 0; m < 32; m++) codes[32 * j + m] = trit(qs[m], j);
    for (int j = 0; j < 5; j++)
        for (int m = 0; m < 16; m++) codes[160 + 16 * j + m] = trit(qs[32 + m], j);
    for (int j = 0; j < 4; j++)
        for (int m = 0; m < 4; m++) codes[240 + 4 * j + m] = trit(qh[m], j);
}

/* one 32-byte group of 128 codes; high_first selects the I2_S bit order */
static void group_codes(uint8_t *codes /* [128] */, const uint8_t *group, int high_first) {
    for (int j = 0; j < 4; j++) {
        int shift = high_first ? 6 - 2 * j : 2 * j;
        for (int m = 0; m < 32; m++) codes[32 * j + m] = (group[m] >> shift) & 3;
    }
}

void bt_ternary_block_codes(uint8_t *codes, bt_ternary_format f, const uint8_t *row, int64_t b) {
    const uint8_t *block = row + b * infos[f].block_bytes;
    switch (f) {
    case BT_TERNARY_TQ2_0:
        group_codes(codes, block, 0);
        group_codes(codes + 128, block + 32, 0);
        break;
    case BT_TERNARY_TQ1_0: tq1_block_codes(codes, block); break;
    case BT_TERNARY_I2_S: group_codes(codes, block, 1); break;
    case BT_TERNARY_BT2: group_codes(codes, block, 0); break;
    case BT_TERNARY_FORMAT_COUNT: break;   /* not a format: callers check it first */
    }
}

float bt_ternary_block_scale(bt_ternary_format f, const uint8_t *row, int64_t b) {
    const uint8_t *d = row + (b + 1) * infos[f].block_bytes - 2;
    return bt_f16_to_f32((uint16_t)(d[0] | d[1] << 8));
}

/* ---- packing ------------------------------------------------------------- */

static int round_code(float v, float inv_scale) {
    long c = lroundf(v * inv_scale);
    return (int)(c < -1 ? -1 : c > 1 ? 1 : c) + 1;
}

static float max_abs(const float *w, int64_t count) {
    float m = 0.0f;
    for (int64_t i = 0; i < count; i++) m = fmaxf(m, fabsf(w[i]));
    return m;
}

/* byte of 4 base-3 digits (or 5), most significant first, as llama.cpp stores it */
static uint8_t trit_byte(const int *digits, int n_digits) {
    unsigned v = 0;
    for (int j = 0; j < n_digits; j++) v = v * 3 + (unsigned)digits[j];
    for (int j = n_digits; j < 5; j++) v *= 3;
    return (uint8_t)((v * 256 + 242) / 243);
}

static void pack_tq_block(uint8_t *out, bt_ternary_format f, const float *x /* [256] */) {
    const float d = max_abs(x, BT_TQ_BLOCK);
    const float inv = d != 0.0f ? 1.0f / d : 0.0f;
    int c[BT_TQ_BLOCK];
    for (int j = 0; j < BT_TQ_BLOCK; j++) c[j] = round_code(x[j], inv);
    int digits[5];
    if (f == BT_TERNARY_TQ2_0) {
        for (int half = 0; half < 2; half++)
            for (int m = 0; m < 32; m++) {
                const int *h = c + 128 * half;
                out[32 * half + m] = (uint8_t)(h[m] | h[m + 32] << 2 | h[m + 64] << 4 | h[m + 96] << 6);
            }
    } else {
        for (int m = 0; m < 32; m++) {
            for (int j = 0; j < 5; j++) digits[j] = c[32 * j + m];
            out[m] = trit_byte(digits, 5);
        }
        for (int m = 0; m < 16; m++) {
            for (int j = 0; j < 5; j++) digits[j] = c[160 + 16 * j + m];
            out[32 + m] = trit_byte(digits, 5);
        }
        for (int m = 0; m < 4; m++) {
            for (int j = 0; j < 4; j++) digits[j] = c[240 + 4 * j + m];
            out[48 + m] = trit_byte(digits, 4);
        }
    }
    const uint16_t h = bt_f32_to_f16(d);
    out[infos[f].block_bytes - 2] = (uint8_t)(h & 0xff);
    out[infos[f].block_bytes - 1] = (uint8_t)(h >> 8);
}

/* one 128-column group of a tensor-scaled format; columns past k get code 1 */
static void pack_group(uint8_t *out /* [32] */, bt_ternary_format f, const float *x, int64_t cols, float scale) {
    const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
    uint8_t c[BT_TERNARY_GROUP];
    for (int j = 0; j < BT_TERNARY_GROUP; j++) {
        if (j >= cols) c[j] = 1;
        else if (f == BT_TERNARY_I2_S) c[j] = fabs((double)x[j]) < 1e-6 ? 1 : x[j] > 0.0f ? 2 : 0;
        else c[j] = (uint8_t)round_code(x[j], inv);
    }
    for (int m = 0; m < 32; m++)
        out[m] = f == BT_TERNARY_I2_S
                     ? (uint8_t)(c[m] << 6 | c[m + 32] << 4 | c[m + 64] << 2 | c[m + 96])
                     : (uint8_t)(c[m] | c[m + 32] << 2 | c[m + 64] << 4 | c[m + 96] << 6);
}

bt_status bt_ternary_pack(void *out, size_t out_bytes, bt_ternary_format f, const float *w, int64_t n, int64_t k) {
    const bt_ternary_format_info *in = bt_ternary_format_get_info(f);
    if (!in) return bt_set_error(BT_ERR_ARG, "ternary pack: unknown format %d", (int)f);
    const size_t need = bt_ternary_data_bytes(f, n, k);
    if (!need)
        return bt_set_error(BT_ERR_ARG, "ternary pack: %s: n = %lld, k = %lld: expected n >= 1 and k >= 1%s",
                            in->name, (long long)n, (long long)k,
                            in->pads_rows ? "" : f == BT_TERNARY_I2_S ? ", k a multiple of 128" : ", k a multiple of 256");
    if (out_bytes < need)
        return bt_set_error(BT_ERR_ARG, "ternary pack: %s [%lld, %lld] needs %zu bytes, got %zu", in->name,
                            (long long)n, (long long)k, need, out_bytes);
    uint8_t *dst = out;
    const size_t row_bytes = bt_ternary_row_bytes(f, k);
    if (in->has_block_scales) {
        for (int64_t r = 0; r < n; r++)
            for (int64_t b = 0; b < k / BT_TQ_BLOCK; b++)
                pack_tq_block(dst + r * row_bytes + b * in->block_bytes, f, w + r * k + b * BT_TQ_BLOCK);
        return BT_OK;
    }
    const float scale = max_abs(w, n * k);
    for (int64_t r = 0; r < n; r++)
        for (int64_t g = 0; g * BT_TERNARY_GROUP < k; g++)
            pack_group(dst + r * row_bytes + g * 32, f, w + r * k + g * BT_TERNARY_GROUP, k - g * BT_TERNARY_GROUP, scale);
    memcpy(dst + n * row_bytes, &scale, 4);
    memset(dst + n * row_bytes + 4, 0, need - n * row_bytes - 4);
    return BT_OK;
}
