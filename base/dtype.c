/* dtype.c - the dtype table (the one source of truth for block layouts) and
 * scalar half/bfloat16 conversions. */
#include "dtype.h"
#include <string.h>

static const bt_dtype_info infos[BT_DTYPE_COUNT] = {
    [BT_F32] = {"f32", 1, 4, 1},
    [BT_F16] = {"f16", 1, 2, 1},
    [BT_BF16] = {"bf16", 1, 2, 1},
    [BT_I8] = {"i8", 1, 1, 0},
    [BT_I32] = {"i32", 1, 4, 0},
    [BT_U8] = {"u8", 1, 1, 0},
    [BT_F64] = {"f64", 1, 8, 1},
    [BT_Q8_0] = {"q8_0", 32, 34, 0},
    [BT_TQ2_0] = {"tq2_0", 256, 66, 0},
    [BT_TQ1_0] = {"tq1_0", 256, 54, 0},
    [BT_I2_S] = {"i2_s", 128, 32, 0},
    [BT_Q6_K] = {"q6_k", 256, 210, 0},
};

const bt_dtype_info *bt_dtype_get_info(bt_dtype t) {
    if ((int)t < 0 || t >= BT_DTYPE_COUNT) return NULL;
    return &infos[t];
}

int bt_dtype_from_name(const char *name, bt_dtype *out) {
    for (int i = 0; i < BT_DTYPE_COUNT; i++)
        if (strcmp(infos[i].name, name) == 0) { *out = (bt_dtype)i; return 1; }
    return 0;
}

size_t bt_dtype_row_bytes(bt_dtype t, int64_t n) {
    const bt_dtype_info *in = bt_dtype_get_info(t);
    if (!in || n < 0 || n % in->block_size) return 0;
    return (size_t)(n / in->block_size) * in->block_bytes;
}

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float bt_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000 | (mant << 13));    /* inf / nan */
    if (exp == 0) {                                                         /* zero / subnormal */
        float v = (float)mant * (1.0f / 16777216.0f);                       /* mant * 2^-24 */
        return sign ? -v : v;
    }
    return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t bt_f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000;
    uint32_t abs = u & 0x7fffffff;
    if (abs >= 0x7f800000) return (uint16_t)(sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0));
    if (abs >= 0x477ff000) return (uint16_t)(sign | 0x7c00);  /* rounds to >= 65520: inf */
    if (abs < 0x38800000) {                                   /* below the smallest normal half */
        /* value / 2^-24 rounded to nearest even, as an integer count of subnormal steps */
        float v = bits_f32(abs) * 16777216.0f;
        uint32_t m = (uint32_t)v;
        float rem = v - (float)m;
        if (rem > 0.5f || (rem == 0.5f && (m & 1))) m++;
        return (uint16_t)(sign | m);
    }
    uint32_t mant = abs & 0x7fffff, exp = (abs >> 23) - 112;
    uint32_t h = (exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;    /* carries into the exponent correctly */
    return (uint16_t)(sign | h);
}

float bt_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t bt_f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 0x40);  /* quiet nan */
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}
