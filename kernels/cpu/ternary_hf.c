/* ternary_hf.c - Hugging Face packed BitNet weights (layout in ternary_hf.h):
 * unpacking a row, conversion to TQ2_0 through bt_ternary_pack, and packing. */
#include "ternary_hf.h"
#include <math.h>
#include <stdlib.h>
#include "kernels/cpu/ternary_format.h"

enum { HF_CODES_PER_BYTE = 4, HF_INVALID_CODE = 3 };

void bt_ternary_hf_row_codes(uint8_t *codes, const uint8_t *packed, int64_t packed_rows, int64_t k, int64_t row) {
    const uint8_t *src = packed + (row % packed_rows) * k;
    const int shift = 2 * (int)(row / packed_rows);
    for (int64_t j = 0; j < k; j++) codes[j] = (uint8_t)(src[j] >> shift & 3);
}

/* One row of W as floats (c - 1) * plus_one; 0 if the row holds code 3. */
static int row_values(float *values /* [k] */, uint8_t *codes /* [k] */, const uint8_t *packed,
                      int64_t packed_rows, int64_t k, int64_t row, float plus_one) {
    bt_ternary_hf_row_codes(codes, packed, packed_rows, k, row);
    for (int64_t j = 0; j < k; j++) {
        if (codes[j] == HF_INVALID_CODE) return 0;
        values[j] = (float)((int)codes[j] - 1) * plus_one;
    }
    return 1;
}

bt_status bt_ternary_hf_to_tq2_0(void *out, size_t out_bytes, const uint8_t *packed, int64_t packed_rows, int64_t k,
                                 float weight_scale, bt_hf_scale_use use) {
    const int64_t n = packed_rows * HF_CODES_PER_BYTE;
    if (packed_rows < 1 || k < 1 || k % BT_TQ_BLOCK != 0)
        return bt_set_error(BT_ERR_ARG, "hf ternary: packed weight [%lld, %lld]: expected at least one row and "
                            "in_features a multiple of %d (TQ2_0 blocks)", (long long)packed_rows, (long long)k, BT_TQ_BLOCK);
    if (!isfinite(weight_scale) || weight_scale <= 0.0f)
        return bt_set_error(BT_ERR_ARG, "hf ternary: weight_scale %g: expected a finite value > 0", (double)weight_scale);
    const size_t need = bt_ternary_data_bytes(BT_TERNARY_TQ2_0, n, k);
    if (out_bytes < need)
        return bt_set_error(BT_ERR_ARG, "hf ternary: TQ2_0 [%lld, %lld] needs %zu bytes, got %zu", (long long)n,
                            (long long)k, need, out_bytes);
    const float plus_one = use == BT_HF_SCALE_DIVIDES ? 1.0f / weight_scale : weight_scale;
    const size_t row_bytes = bt_ternary_row_bytes(BT_TERNARY_TQ2_0, k);
    int64_t bad_row = -1;   /* the first row found with code 3 (any, when threads race) */
    int out_of_memory = 0;
#pragma omp parallel
    {
        float *values = malloc((size_t)k * sizeof *values);
        uint8_t *codes = malloc((size_t)k);
        if (!values || !codes) {
#pragma omp atomic write
            out_of_memory = 1;
        }
#pragma omp for schedule(static)
        for (int64_t r = 0; r < n; r++) {
            if (!values || !codes) continue;
            if (!row_values(values, codes, packed, packed_rows, k, r, plus_one)) {
#pragma omp atomic write
                bad_row = r;
                continue;
            }
            /* cannot fail: k and the row size were checked above */
            bt_ternary_pack((uint8_t *)out + r * row_bytes, row_bytes, BT_TERNARY_TQ2_0, values, 1, k);
        }
        free(values);
        free(codes);
    }
    if (out_of_memory) return bt_set_error(BT_ERR_NOMEM, "hf ternary: no memory for a row of %lld values", (long long)k);
    if (bad_row >= 0)
        return bt_set_error(BT_ERR_FORMAT, "hf ternary: row %lld of the unpacked weight holds code 3 "
                            "(expected codes 0, 1, 2 for -1, 0, +1)", (long long)bad_row);
    return BT_OK;
}

bt_status bt_ternary_hf_pack(uint8_t *packed, float *scale, const float *w, int64_t n, int64_t k) {
    if (n < HF_CODES_PER_BYTE || n % HF_CODES_PER_BYTE != 0 || k < 1)
        return bt_set_error(BT_ERR_ARG, "hf ternary pack: W [%lld, %lld]: expected out_features a positive multiple of 4",
                            (long long)n, (long long)k);
    float s = 0.0f;
    for (int64_t i = 0; i < n * k; i++) s = fmaxf(s, fabsf(w[i]));
    const float inv = s != 0.0f ? 1.0f / s : 0.0f;
    const int64_t packed_rows = n / HF_CODES_PER_BYTE;
    for (int64_t i = 0; i < packed_rows * k; i++) packed[i] = 0;
    for (int64_t r = 0; r < n; r++) {
        const int shift = 2 * (int)(r / packed_rows);
        uint8_t *dst = packed + (r % packed_rows) * k;
        for (int64_t j = 0; j < k; j++) {
            long c = lroundf(w[r * k + j] * inv);
            c = c < -1 ? -1 : c > 1 ? 1 : c;
            dst[j] |= (uint8_t)((c + 1) << shift);
        }
    }
    *scale = s;
    return BT_OK;
}
