/* ternary.c - bt_ternary_prepare (validation, scale folding), the row
 * dequantizer, and the driver of the ternary matmul: chunks of rows split
 * across OpenMP threads, tiles run at the chosen SIMD level, the activation
 * sums subtracted and the result rescaled. */
#include "ternary.h"
#include "ternary_kernels.h"
#include "base/dtype.h"
#include <math.h>
#include <string.h>

enum {
    ROW_CHUNK = 64,                   /* rows per tile: a thread's unit of work */
    TOKEN_CHUNK = 64,                 /* tokens per tile */
    PARALLEL_MIN_WEIGHTS = 1 << 18    /* smaller matrices run on one thread */
};

typedef void (*tile_fn)(const bt_ternary_tile *);

static tile_fn pick_tile(bt_simd_level level) {
    const bt_simd_level best = bt_simd_level_get();
    if (level > best) level = best;
    switch (level) {
#if BT_X86_SIMD
    case BT_SIMD_AVX512: return bt_ternary_tile_avx512;
    case BT_SIMD_AVX2: return bt_ternary_tile_avx2;
#endif
    default: return bt_ternary_tile_scalar;
    }
}

/* ---- prepare -------------------------------------------------------------- */

static int block_is_zero(const bt_ternary_matrix *w, const uint8_t *row, int64_t b) {
    uint8_t codes[BT_TQ_BLOCK];
    bt_ternary_block_codes(codes, w->format, row, b);
    for (int j = 0; j < BT_TQ_BLOCK; j++)
        if (codes[j] != 1) return 0;
    return 1;
}

/* One scale for a TQ matrix if every block holding a nonzero weight has the same d. */
static void fold_block_scales(bt_ternary_matrix *w) {
    const int block_bytes = bt_ternary_format_get_info(w->format)->block_bytes;
    int have_ref = 0;
    uint16_t ref = 0;
    for (int64_t i = 0; i < w->n; i++) {
        const uint8_t *row = w->data + (size_t)i * w->row_bytes;
        for (int64_t b = 0; b < w->n_blocks; b++) {
            const uint8_t *d = row + (b + 1) * block_bytes - 2;
            const uint16_t bits = (uint16_t)(d[0] | d[1] << 8);
            if ((have_ref && bits == ref) || block_is_zero(w, row, b)) continue;
            if (have_ref) {
                w->per_block_scales = 1;
                return;
            }
            ref = bits;
            have_ref = 1;
        }
    }
    w->per_block_scales = 0;
    w->scale = have_ref ? bt_f16_to_f32(ref) : 0.0f;
}

/* Per-block scales are applied as they are: a NaN or infinite f16 (exponent bits all
 * ones) in any block, even an all-zero one, would make NaN outputs. */
static int find_non_finite_scale(const bt_ternary_matrix *w, int block_bytes, int64_t *row, int64_t *block) {
    for (int64_t i = 0; i < w->n; i++)
        for (int64_t b = 0; b < w->n_blocks; b++) {
            const uint8_t *d = w->data + (size_t)i * w->row_bytes + (b + 1) * block_bytes - 2;
            if ((d[1] & 0x7c) == 0x7c) {
                *row = i, *block = b;
                return 1;
            }
        }
    return 0;
}

bt_status bt_ternary_prepare(bt_ternary_matrix *out, bt_ternary_format format, const void *data, size_t data_bytes,
                             int64_t n, int64_t k) {
    const bt_ternary_format_info *in = bt_ternary_format_get_info(format);
    if (!in) return bt_set_error(BT_ERR_ARG, "ternary matrix: unknown format %d", (int)format);
    const size_t row_bytes = bt_ternary_row_bytes(format, k);
    if (!row_bytes)
        return bt_set_error(BT_ERR_ARG, "ternary matrix: %s: k = %lld: expected k >= 1%s", in->name, (long long)k,
                            in->pads_rows ? "" : format == BT_TERNARY_I2_S ? " and a multiple of 128" : " and a multiple of 256");
    size_t need = bt_ternary_data_bytes(format, n, k);   /* 0 if n < 1 or the size overflows */
    if (!need) return bt_set_error(BT_ERR_ARG, "ternary matrix: %s: n = %lld: expected n >= 1", in->name, (long long)n);
    if (format == BT_TERNARY_I2_S) need -= BT_I2_S_FILE_PADDING;   /* the padding is optional */
    if (!data || data_bytes < need)
        return bt_set_error(BT_ERR_ARG, "ternary matrix: %s [%lld, %lld] needs %zu bytes%s, got %zu", in->name,
                            (long long)n, (long long)k, need, in->has_block_scales ? "" : " (rows and the f32 scale)",
                            data ? data_bytes : 0);
    memset(out, 0, sizeof *out);
    out->format = format;
    out->data = data;
    out->row_bytes = row_bytes;
    out->n = n;
    out->k = k;
    out->n_blocks = (int64_t)(row_bytes / (size_t)in->block_bytes);
    if (in->has_block_scales) fold_block_scales(out);
    else memcpy(&out->scale, out->data + (size_t)n * row_bytes, 4);
    int64_t bad_row, bad_block;
    if (out->per_block_scales && find_non_finite_scale(out, in->block_bytes, &bad_row, &bad_block))
        return bt_set_error(BT_ERR_FORMAT, "ternary matrix: %s [%lld, %lld]: the scale of block %lld of row %lld is not "
                            "finite", in->name, (long long)n, (long long)k, (long long)bad_block, (long long)bad_row);
    if (!out->per_block_scales && (!isfinite(out->scale) || (!in->has_block_scales && out->scale < 0.0f)))
        return bt_set_error(BT_ERR_FORMAT, "ternary matrix: %s [%lld, %lld]: the %s scale is %g, expected a finite value%s",
                            in->name, (long long)n, (long long)k, in->has_block_scales ? "blocks'" : "tensor",
                            (double)out->scale, in->has_block_scales ? "" : " >= 0");
    return BT_OK;
}

void bt_ternary_dequantize_row(float *out, const bt_ternary_matrix *w, int64_t row) {
    const bt_ternary_format_info *in = bt_ternary_format_get_info(w->format);
    const uint8_t *data = w->data + (size_t)row * w->row_bytes;
    uint8_t codes[BT_TQ_BLOCK];
    for (int64_t b = 0; b < w->n_blocks; b++) {
        bt_ternary_block_codes(codes, w->format, data, b);
        const float d = in->has_block_scales ? bt_ternary_block_scale(w->format, data, b) : w->scale;
        for (int64_t j = 0; j < in->block_cols && b * in->block_cols + j < w->k; j++)
            out[b * in->block_cols + j] = (float)(codes[j] - 1) * d;
    }
}

/* ---- the driver ----------------------------------------------------------- */

static bt_status check_args(const void *out, const bt_ternary_matrix *w, const bt_act_i8 *x) {
    if (!out || !w || !x || !w->data || !x->q)
        return bt_set_error(BT_ERR_ARG, "ternary matmul: NULL output, matrix or activations");
    if (x->k != w->k)
        return bt_set_error(BT_ERR_ARG, "ternary matmul: activations have k = %lld, the matrix [%lld, %lld] wants %lld",
                            (long long)x->k, (long long)w->n, (long long)w->k, (long long)w->k);
    return BT_OK;
}

static int64_t n_groups(const bt_ternary_matrix *w) { return (w->k + BT_TERNARY_GROUP - 1) / BT_TERNARY_GROUP; }

/* sum of token t's activations over groups [g0, g1) */
static int32_t act_sum(const bt_act_i8 *x, int64_t t, int64_t g0, int64_t g1) {
    const int32_t *s = x->group_sum + t * (x->k_pad / BT_ACT_SUM_COLS);
    int32_t sum = 0;
    for (int64_t g = g0; g < g1; g++) sum += s[g];
    return sum;
}

static bt_ternary_tile make_tile(int32_t *raw, const bt_ternary_matrix *w, int64_t r0, int64_t r1,
                                 const bt_act_i8 *x, int64_t t0, int64_t t1, int64_t g0, int64_t g1) {
    return (bt_ternary_tile){raw, ROW_CHUNK, w, r0, r1, x->q + t0 * x->k_pad, x->k_pad, t1 - t0, g0, g1};
}

/* Whole rows: y[t, i] = (raw - sum q) * scale / s_t, or the integers themselves. */
static void run_rows(float *y, int32_t *dots, const bt_ternary_matrix *w, const bt_act_i8 *x, tile_fn tile) {
    const int64_t n_chunks = (w->n + ROW_CHUNK - 1) / ROW_CHUNK, groups = n_groups(w);
#pragma omp parallel for schedule(static) if (w->n * w->k * x->m >= PARALLEL_MIN_WEIGHTS)
    for (int64_t c = 0; c < n_chunks; c++) {
        int32_t raw[TOKEN_CHUNK * ROW_CHUNK];
        const int64_t r0 = c * ROW_CHUNK, r1 = r0 + ROW_CHUNK < w->n ? r0 + ROW_CHUNK : w->n;
        for (int64_t t0 = 0; t0 < x->m; t0 += TOKEN_CHUNK) {
            const int64_t t1 = t0 + TOKEN_CHUNK < x->m ? t0 + TOKEN_CHUNK : x->m;
            const bt_ternary_tile job = make_tile(raw, w, r0, r1, x, t0, t1, 0, groups);
            tile(&job);
            for (int64_t t = t0; t < t1; t++) {
                const int32_t sum = act_sum(x, t, 0, groups);
                const int32_t *r = raw + (t - t0) * ROW_CHUNK;
                if (dots) {
                    for (int64_t i = r0; i < r1; i++) dots[t * w->n + i] = r[i - r0] - sum;
                } else {
                    const float f = w->scale / x->scale[t];
                    for (int64_t i = r0; i < r1; i++) y[t * w->n + i] = (float)(r[i - r0] - sum) * f;
                }
            }
        }
    }
}

/* Block by block (TQ blocks of 256 columns with their own d), or the per-block integers. */
static void run_blocks(float *y, int32_t *dots, const bt_ternary_matrix *w, const bt_act_i8 *x, tile_fn tile) {
    const int64_t n_chunks = (w->n + ROW_CHUNK - 1) / ROW_CHUNK;
    const int block_groups = bt_ternary_format_get_info(w->format)->block_cols / BT_TERNARY_GROUP;
#pragma omp parallel for schedule(static) if (w->n * w->k * x->m >= PARALLEL_MIN_WEIGHTS)
    for (int64_t c = 0; c < n_chunks; c++) {
        int32_t raw[TOKEN_CHUNK * ROW_CHUNK];
        float acc[TOKEN_CHUNK * ROW_CHUNK];
        const int64_t r0 = c * ROW_CHUNK, r1 = r0 + ROW_CHUNK < w->n ? r0 + ROW_CHUNK : w->n;
        for (int64_t t0 = 0; t0 < x->m; t0 += TOKEN_CHUNK) {
            const int64_t t1 = t0 + TOKEN_CHUNK < x->m ? t0 + TOKEN_CHUNK : x->m;
            memset(acc, 0, sizeof acc);
            for (int64_t b = 0; b < w->n_blocks; b++) {
                const int64_t g0 = b * block_groups, g1 = g0 + block_groups;
                const bt_ternary_tile job = make_tile(raw, w, r0, r1, x, t0, t1, g0, g1);
                tile(&job);
                int32_t sums[TOKEN_CHUNK];
                for (int64_t t = t0; t < t1; t++) sums[t - t0] = act_sum(x, t, g0, g1);
                for (int64_t i = r0; i < r1; i++) {
                    const uint8_t *row = w->data + (size_t)i * w->row_bytes;
                    const float d = dots ? 0.0f : bt_ternary_block_scale(w->format, row, b);
                    for (int64_t t = t0; t < t1; t++) {
                        const int32_t v = raw[(t - t0) * ROW_CHUNK + (i - r0)] - sums[t - t0];
                        if (dots) dots[(t * w->n + i) * w->n_blocks + b] = v;
                        else acc[(t - t0) * ROW_CHUNK + (i - r0)] += (float)v * d;
                    }
                }
            }
            if (dots) continue;
            for (int64_t t = t0; t < t1; t++)
                for (int64_t i = r0; i < r1; i++) y[t * w->n + i] = acc[(t - t0) * ROW_CHUNK + (i - r0)] / x->scale[t];
        }
    }
}

bt_status bt_ternary_matmul_at(float *y, const bt_ternary_matrix *w, const bt_act_i8 *x, bt_simd_level level) {
    const bt_status st = check_args(y, w, x);
    if (st != BT_OK) return st;
    if (w->per_block_scales) run_blocks(y, NULL, w, x, pick_tile(level));
    else run_rows(y, NULL, w, x, pick_tile(level));
    return BT_OK;
}

bt_status bt_ternary_matmul(float *y, const bt_ternary_matrix *w, const bt_act_i8 *x) {
    return bt_ternary_matmul_at(y, w, x, bt_simd_level_get());
}

bt_status bt_ternary_dot_rows(int32_t *out, const bt_ternary_matrix *w, const bt_act_i8 *x, bt_simd_level level) {
    const bt_status st = check_args(out, w, x);
    if (st == BT_OK) run_rows(NULL, out, w, x, pick_tile(level));
    return st;
}

bt_status bt_ternary_dot_blocks(int32_t *out, const bt_ternary_matrix *w, const bt_act_i8 *x, bt_simd_level level) {
    const bt_status st = check_args(out, w, x);
    if (st == BT_OK) run_blocks(NULL, out, w, x, pick_tile(level));
    return st;
}
