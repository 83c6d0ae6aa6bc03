/* ops_ternary.c - ternary weight tools on tensors (ops_ternary.h). */
#include "ops_ternary.h"
#include <stdlib.h>
#include "kernels/cpu/ternary.h"
#include "kernels/cpu/ternary_format.h"
#include "kernels/cpu/ternary_quantize.h"
#include "kernels/cpu/quant_q6_k.h"
#include "kernels/cpu/quant_q8_0.h"
#include "kernels/cpu/elementwise.h"

static const char *dtype_name(bt_dtype d) {
    const bt_dtype_info *info = bt_dtype_get_info(d);
    return info ? info->name : "?";
}

/* A contiguous CPU tensor of dtype `want` (with ndim dimensions unless ndim is 0). */
static bt_status check_cpu_tensor(const char *op, const bt_tensor *t, bt_dtype want, int ndim) {
    if (!t || t->dtype != want || (ndim && t->ndim != ndim) || !bt_tensor_is_contiguous(t) ||
        bt_tensor_device(t).type != BT_DEVICE_CPU)
        return bt_set_error(BT_ERR_ARG, "%s: expected a contiguous %s%s CPU tensor, got %s%d-d %s", op,
                            ndim == 2 ? "2-d " : "", dtype_name(want), t ? "a " : "", t ? t->ndim : 0,
                            t ? dtype_name(t->dtype) : "nothing");
    return BT_OK;
}

/* The format of a dtype GGUF files pack ternary weights in (TQ2_0, TQ1_0). */
static bt_status packable(const char *op, bt_dtype d, bt_ternary_format *f) {
    if ((d == BT_TQ2_0 || d == BT_TQ1_0) && bt_ternary_format_from_dtype(d, f)) return BT_OK;
    return bt_set_error(BT_ERR_ARG, "%s: dtype %s: expected tq2_0 or tq1_0", op, dtype_name(d));
}

static bt_status new_matrix(bt_tensor **out, bt_dtype d, int64_t n, int64_t k) {
    const int64_t shape[2] = {n, k};
    return bt_tensor_new(out, d, 2, shape, BT_CPU);
}

/* Frees *out when st is a failure; returns st. */
static bt_status keep_if_ok(bt_tensor **out, bt_status st) {
    if (st) { bt_tensor_free(*out); *out = NULL; }
    return st;
}

bt_status bt_op_ternary_quantize(bt_tensor **out, float *scale, const bt_tensor *w) {
    *out = NULL;
    bt_status st = check_cpu_tensor("ternary_quantize", w, BT_F32, 0);
    if (!st) st = bt_tensor_new(out, BT_F32, w->ndim, w->shape, BT_CPU);
    if (!st) st = bt_ternary_quantize_absmean(bt_tensor_data(*out), scale, bt_tensor_data(w), bt_tensor_numel(w));
    return keep_if_ok(out, st);
}

bt_status bt_op_ternary_pack(bt_tensor **out, const bt_tensor *w, bt_dtype d) {
    *out = NULL;
    bt_ternary_format f;
    bt_status st = check_cpu_tensor("ternary_pack", w, BT_F32, 2);
    if (!st) st = packable("ternary_pack", d, &f);
    if (!st) st = new_matrix(out, d, w->shape[0], w->shape[1]);
    if (!st) st = bt_ternary_pack(bt_tensor_data(*out), bt_tensor_nbytes(*out), f, bt_tensor_data(w), w->shape[0], w->shape[1]);
    return keep_if_ok(out, st);
}

/* splitmix64: a fast, seedable stream for synthetic weights */
static uint64_t next_random(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

bt_status bt_op_ternary_random(bt_tensor **out, int64_t n, int64_t k, bt_dtype d, uint64_t seed, float scale) {
    *out = NULL;
    bt_ternary_format f;
    bt_status st = packable("ternary_random", d, &f);
    if (st) return st;
    if (n < 1 || k < 1)
        return bt_set_error(BT_ERR_ARG, "ternary_random: bad shape [%lld, %lld]", (long long)n, (long long)k);
    if ((st = new_matrix(out, d, n, k))) return keep_if_ok(out, st);
    const size_t row_bytes = bt_ternary_row_bytes(f, k);
    float *row = malloc((size_t)k * sizeof *row);
    if (!row) return keep_if_ok(out, bt_set_error(BT_ERR_NOMEM, "ternary_random: out of memory"));
    uint8_t *dst = bt_tensor_data(*out);
    for (int64_t i = 0; i < n && !st; i++) {
        for (int64_t j = 0; j < k; j++) row[j] = scale * (float)((int)(next_random(&seed) % 3) - 1);
        st = bt_ternary_pack(dst + (size_t)i * row_bytes, row_bytes, f, row, 1, k);
    }
    free(row);
    return keep_if_ok(out, st);
}

bt_status bt_op_ternary_dequantize(bt_tensor **out, const bt_tensor *w) {
    *out = NULL;
    bt_ternary_format f;
    if (!w || w->ndim != 2 || !bt_ternary_format_from_dtype(w->dtype, &f) || !bt_tensor_is_contiguous(w) ||
        bt_tensor_device(w).type != BT_DEVICE_CPU)
        return bt_set_error(BT_ERR_ARG, "ternary_dequantize: expected a contiguous 2-d ternary CPU tensor, got %s",
                            w ? dtype_name(w->dtype) : "nothing");
    bt_ternary_matrix m;   /* I2_S keeps its scale after the rows: the prepare reads past the data */
    bt_status st = bt_ternary_prepare(&m, f, bt_tensor_data(w), w->storage->nbytes - w->offset, w->shape[0], w->shape[1]);
    if (!st) st = new_matrix(out, BT_F32, w->shape[0], w->shape[1]);
    if (st) return keep_if_ok(out, st);
    for (int64_t i = 0; i < w->shape[0]; i++)
        bt_ternary_dequantize_row((float *)bt_tensor_data(*out) + i * w->shape[1], &m, i);
    return BT_OK;
}

bt_status bt_op_ternary_from_hf(bt_tensor **out, const bt_tensor *packed, float weight_scale, bt_hf_scale_use use) {
    *out = NULL;
    bt_status st = check_cpu_tensor("ternary_from_hf", packed, BT_U8, 2);
    if (st) return st;
    const int64_t p = packed->shape[0], k = packed->shape[1];
    if (k % 256 != 0)   /* checked before allocating: TQ2_0 tensors need whole blocks */
        return bt_set_error(BT_ERR_ARG, "ternary_from_hf: packed weight [%lld, %lld]: in_features must be a multiple "
                            "of 256 for TQ2_0", (long long)p, (long long)k);
    st = new_matrix(out, BT_TQ2_0, 4 * p, k);
    if (!st) st = bt_ternary_hf_to_tq2_0(bt_tensor_data(*out), bt_tensor_nbytes(*out), bt_tensor_data(packed), p, k,
                                         weight_scale, use);
    return keep_if_ok(out, st);
}

bt_status bt_op_ternary_to_hf(bt_tensor **out, float *scale, const bt_tensor *w) {
    *out = NULL;
    bt_status st = check_cpu_tensor("ternary_to_hf", w, BT_F32, 2);
    if (st) return st;
    if (w->shape[0] % 4 != 0)
        return bt_set_error(BT_ERR_ARG, "ternary_to_hf: out_features %lld is not a multiple of 4", (long long)w->shape[0]);
    st = new_matrix(out, BT_U8, w->shape[0] / 4, w->shape[1]);
    if (!st) st = bt_ternary_hf_pack(bt_tensor_data(*out), scale, bt_tensor_data(w), w->shape[0], w->shape[1]);
    return keep_if_ok(out, st);
}

bt_status bt_op_quantize_head(bt_tensor **out, const bt_tensor *w, bt_dtype to) {
    const char *op = "quantize_head";
    *out = NULL;
    void (*quantize_row)(uint8_t *, const float *, int64_t) =
        to == BT_Q8_0 ? bt_q8_0_quantize_row : to == BT_Q6_K ? bt_q6_k_quantize_row : NULL;
    if (!quantize_row) return bt_set_error(BT_ERR_ARG, "%s: expected q8_0 or q6_k, got %s", op, dtype_name(to));
    if (!w || w->ndim != 2 || !bt_tensor_is_contiguous(w) || bt_tensor_device(w).type != BT_DEVICE_CPU ||
        !(w->dtype == BT_F32 || w->dtype == BT_F16 || w->dtype == BT_BF16))
        return bt_set_error(BT_ERR_ARG, "%s: expected a contiguous 2-d f32, f16 or bf16 CPU tensor, got %s", op,
                            w ? dtype_name(w->dtype) : "nothing");
    const int64_t n = w->shape[0], k = w->shape[1];
    const bt_dtype_info *info = bt_dtype_get_info(to);
    if (k % info->block_size)
        return bt_set_error(BT_ERR_ARG, "%s: rows of %lld values; %s needs a multiple of %u", op, (long long)k,
                            info->name, (unsigned)info->block_size);
    bt_status st = new_matrix(out, to, n, k);
    if (st) return keep_if_ok(out, st);
    const uint8_t *src = bt_tensor_data(w);
    uint8_t *dst = bt_tensor_data(*out);
    const bt_dtype dtype = w->dtype;
    const size_t src_row = (size_t)k * bt_dtype_get_info(dtype)->block_bytes, dst_row = bt_dtype_row_bytes(to, k);
    int failed = 0;
#pragma omp parallel reduction(|| : failed)
    {
        float *row = dtype == BT_F32 ? NULL : malloc((size_t)k * sizeof(float));   /* this thread's f32 row */
        failed = dtype != BT_F32 && !row;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < n; i++) {
            const void *r = src + (size_t)i * src_row;
            if (failed) continue;
            if (dtype == BT_F16) bt_convert_f16_to_f32(row, r, k);
            if (dtype == BT_BF16) bt_convert_bf16_to_f32(row, r, k);
            quantize_row(dst + (size_t)i * dst_row, row ? row : r, k);
        }
        free(row);
    }
    if (failed) st = bt_set_error(BT_ERR_NOMEM, "%s: out of memory for the f32 rows", op);
    return keep_if_ok(out, st);
}
