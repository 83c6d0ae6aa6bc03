/* kv_cache.c - KV cache rows as f32, f16 or Q8_0 (see kv_cache.h). */
#include "kv_cache.h"
#include <math.h>
#include <string.h>
#include "elementwise.h"
#include "base/dtype.h"

enum { Q8_BLOCK = 32, Q8_BLOCK_BYTES = 2 + Q8_BLOCK };

size_t bt_kv_row_bytes(bt_kv_type type, int head_dim) {
    switch (type) {
    case BT_KV_F16: return (size_t)head_dim * 2;
    case BT_KV_Q8_0: return head_dim % Q8_BLOCK ? 0 : (size_t)(head_dim / Q8_BLOCK) * Q8_BLOCK_BYTES;
    default: return (size_t)head_dim * 4;
    }
}

static void store_q8_0(uint8_t *row, const float *x, int head_dim) {
    for (int b = 0; b < head_dim / Q8_BLOCK; b++, x += Q8_BLOCK, row += Q8_BLOCK_BYTES) {
        float amax = 0.0f;
        for (int i = 0; i < Q8_BLOCK; i++) amax = fmaxf(amax, fabsf(x[i]));
        const float d = amax / 127.0f, inv = d > 0.0f ? 1.0f / d : 0.0f;
        const uint16_t h = bt_f32_to_f16(d);
        memcpy(row, &h, 2);
        for (int i = 0; i < Q8_BLOCK; i++) row[2 + i] = (uint8_t)(int8_t)lrintf(x[i] * inv);   /* |x * inv| <= 127 */
    }
}

void bt_kv_store_row(bt_kv_type type, void *row, const float *x, int head_dim) {
    switch (type) {
    case BT_KV_F16: bt_convert_f32_to_f16(row, x, head_dim); break;
    case BT_KV_Q8_0: store_q8_0(row, x, head_dim); break;
    default: memcpy(row, x, (size_t)head_dim * sizeof(float)); break;
    }
}

static void load_q8_0(float *out, const uint8_t *row, int head_dim) {
    for (int b = 0; b < head_dim / Q8_BLOCK; b++, out += Q8_BLOCK, row += Q8_BLOCK_BYTES) {
        uint16_t h;
        memcpy(&h, row, 2);
        const float d = bt_f16_to_f32(h);
        for (int i = 0; i < Q8_BLOCK; i++) out[i] = d * (float)(int8_t)row[2 + i];
    }
}

void bt_kv_load_rows(bt_kv_type type, float *out, const void *rows, int64_t n, int head_dim) {
    const size_t row_bytes = bt_kv_row_bytes(type, head_dim);
    const uint8_t *p = rows;
    switch (type) {
    case BT_KV_F16: bt_convert_f16_to_f32(out, rows, n * head_dim); break;
    case BT_KV_Q8_0:
        for (int64_t t = 0; t < n; t++) load_q8_0(out + t * head_dim, p + (size_t)t * row_bytes, head_dim);
        break;
    default: memcpy(out, rows, (size_t)(n * head_dim) * sizeof(float)); break;
    }
}
