/* ops_cuda_linear.c - out = x . W^T on a CUDA device, and weights placed there.
 *
 * Ternary W (TQ2_0, I2_S) is repacked once, when placed, into the CUDA layout
 * (kernels/cuda/ternary_layout.cuh); the tensor keeps its dtype and shape but
 * its device bytes are that layout, described by a bt_cuda_ternary in
 * `prepared`. Each call quantizes x to per-token int8 (BitNet) in device
 * scratch, then runs the ternary GEMV (m <= 8) or GEMM. Float W (f16, f32) is
 * a plain copy and runs the float GEMV/GEMM. */
#include "ops_cuda.h"
#ifdef BT_HAVE_CUDA
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/cuda/cuda_backend.h"

/* ---- placed ternary weights ---------------------------------------------------- */

/* Frees a placed weight's descriptor; also the mark that tells placed weights apart. */
static void ternary_descriptor_free(void *p) { free(p); }

const bt_cuda_ternary *bt_op_cuda_ternary_of(const bt_tensor *w) {
    return w->prepared_free == ternary_descriptor_free ? w->prepared : NULL;
}

static int is_cuda_ternary(bt_dtype d) { return d == BT_TQ2_0 || d == BT_I2_S; }

/* The source bytes of a ternary CPU matrix [n, k] (I2_S: its tensor scale follows the rows). */
static bt_status ternary_source(const bt_tensor *w, const void **src, int *n, int *k) {
    if (w->ndim != 2 || !bt_tensor_is_contiguous(w))
        return bt_set_error(BT_ERR_ARG, "place_weight: a ternary weight must be a contiguous matrix");
    if (w->shape[0] > INT_MAX || w->shape[1] > INT_MAX)
        return bt_set_error(BT_ERR_ARG, "place_weight: ternary matrix too large for the CUDA kernels");
    size_t need = bt_tensor_nbytes(w) + (w->dtype == BT_I2_S ? sizeof(float) : 0);
    if (w->storage->nbytes - w->offset < need)
        return bt_set_error(BT_ERR_ARG, "place_weight: %s matrix holds %zu bytes, needs %zu",
                            bt_dtype_get_info(w->dtype)->name, w->storage->nbytes - w->offset, need);
    *src = bt_tensor_data(w);
    *n = (int)w->shape[0];
    *k = (int)w->shape[1];
    return BT_OK;
}

/* 1 when a TQ2_0 matrix's rows mix block scales (then the layout keeps one per 256 columns). */
static bt_status block_scales_of(const bt_tensor *w, const void *src, int n, int k, int *block_scales) {
    *block_scales = 0;
    if (w->dtype != BT_TQ2_0) return BT_OK;
    char err[BT_CUDA_ERR_CAP];
    return bt_op_cuda_result(bt_cuda_tq2_0_needs_block_scales(block_scales, src, n, k, err), "place_weight", err);
}

static bt_status place_ternary(bt_tensor **out, const bt_tensor *w, bt_device d) {
    const void *src;
    int n, k, block_scales;
    bt_status st = ternary_source(w, &src, &n, &k);
    if (!st) st = block_scales_of(w, src, n, k, &block_scales);
    if (st) return st;
    size_t bytes = bt_cuda_ternary_bytes(n, k, block_scales);
    void *packed = malloc(bytes);
    if (!packed) return bt_set_error(BT_ERR_NOMEM, "place_weight: cannot allocate %zu bytes to repack", bytes);
    char err[BT_CUDA_ERR_CAP];
    int rc = w->dtype == BT_TQ2_0 ? bt_cuda_ternary_pack_tq2_0(packed, n, 0, block_scales, src, n, k, err)
                                  : bt_cuda_ternary_pack_i2_s(packed, n, 0, block_scales, src, n, k, err);
    bt_tensor *t = NULL;
    bt_cuda_ternary *desc = NULL;
    int64_t len = (int64_t)bytes;
    st = bt_op_cuda_result(rc, "place_weight", err);
    if (!st) st = bt_tensor_new(&t, BT_U8, 1, &len, d);
    if (!st) st = bt_device_copy(d, bt_tensor_data(t), BT_CPU, packed, bytes);
    if (!st && !(desc = malloc(sizeof *desc))) st = bt_set_error(BT_ERR_NOMEM, "place_weight: out of memory");
    free(packed);
    if (st) {
        bt_tensor_free(t);
        return st;
    }
    /* The device bytes are the CUDA layout; the header keeps the weight's dtype and shape for the ops' checks. */
    t->dtype = w->dtype;
    t->ndim = 2;
    memcpy(t->shape, w->shape, sizeof t->shape);
    memcpy(t->stride, w->stride, sizeof t->stride);
    *desc = (bt_cuda_ternary){.data = bt_tensor_data(t), .n = n, .k = k, .block_scales = block_scales};
    t->prepared = desc;
    t->prepared_free = ternary_descriptor_free;
    *out = t;
    return BT_OK;
}

bt_status bt_op_cuda_place_weight(bt_tensor **out, const bt_tensor *w, bt_device d) {
    *out = NULL;
    if (is_cuda_ternary(w->dtype)) return place_ternary(out, w, d);
    if (w->dtype == BT_F16 || w->dtype == BT_F32) return bt_tensor_to(out, w, w->dtype, d);
    return bt_set_error(BT_ERR_UNSUPPORTED, "place_weight: %s weights have no CUDA kernel", bt_dtype_get_info(w->dtype)->name);
}

bt_status bt_op_cuda_placed_bytes(const bt_tensor *w, size_t *out) {
    *out = 0;
    if (is_cuda_ternary(w->dtype)) {
        const void *src;
        int n, k, block_scales;
        bt_status st = ternary_source(w, &src, &n, &k);
        if (!st) st = block_scales_of(w, src, n, k, &block_scales);
        if (!st) *out = bt_cuda_ternary_bytes(n, k, block_scales);
        return st;
    }
    if (w->dtype == BT_F16 || w->dtype == BT_F32) {
        *out = bt_tensor_nbytes(w);
        return BT_OK;
    }
    return bt_set_error(BT_ERR_UNSUPPORTED, "placed_bytes: %s weights have no CUDA kernel", bt_dtype_get_info(w->dtype)->name);
}

const char *bt_op_cuda_linear_unsupported(const bt_tensor *w, int act_quant, char *why, size_t cap) {
    const char *name = bt_dtype_get_info(w->dtype)->name;
    if (w->ndim != 2 || w->shape[0] > INT_MAX || w->shape[1] > INT_MAX) snprintf(why, cap, "weights must be matrices of int sizes");
    else if (is_cuda_ternary(w->dtype)) return NULL;
    else if (w->dtype == BT_F16 || w->dtype == BT_F32) {
        if (!act_quant) return NULL;
        snprintf(why, cap, "%s weights with BitLinear activation quantization have no CUDA kernel", name);
    } else if (w->dtype == BT_TQ1_0) snprintf(why, cap, "tq1_0 weights have no CUDA kernel (requantize the model as tq2_0)");
    else snprintf(why, cap, "%s weights have no CUDA kernel", name);
    return why;
}

/* ---- the op --------------------------------------------------------------------- */

static size_t align256(size_t n) { return (n + 255) & ~(size_t)255; }

/* Bytes of int8 activations [m, k] with their scales and sums (block sums when asked). */
static size_t q8_bytes(int64_t m, int64_t k) {
    return align256((size_t)(m * k)) + 2 * align256((size_t)m * 4) + align256((size_t)(m * (k / 256 + 1)) * 4);
}

static bt_cuda_q8 q8_carve(void *buf, int64_t m, int64_t k, int block_sums) {
    char *p = buf;
    bt_cuda_q8 q;
    q.q = (int8_t *)p;
    p += align256((size_t)(m * k));
    q.scale = (float *)p;
    p += align256((size_t)m * 4);
    q.sum = (int32_t *)p;
    p += align256((size_t)m * 4);
    q.block_sum = block_sums ? (int32_t *)p : NULL;
    return q;
}

size_t bt_op_cuda_scratch_bytes(int64_t max_rows, int64_t max_k, int n_head, int head_dim, int64_t ctx) {
    if (max_rows < 1 || max_k < 1) return 0;
    size_t attention = n_head > 0 && head_dim > 0 && ctx > 0 && ctx <= INT_MAX && max_rows <= INT_MAX
                           ? bt_cuda_attention_work_bytes((int)max_rows, n_head, head_dim, (int)ctx) : 0;
    return q8_bytes(max_rows, max_k) + attention + (size_t)max_rows * sizeof(int32_t);
}

static bt_status linear_ternary(bt_tensor *out, const bt_cuda_ternary *w, const bt_tensor *x, int64_t m, int64_t k) {
    void *buf;
    bt_status st = bt_op_cuda_scratch(&buf, bt_tensor_device(x), BT_OP_CUDA_SCRATCH_Q8, q8_bytes(m, k));
    if (st) return st;
    bt_cuda_q8 xq = q8_carve(buf, m, k, w->block_scales);
    bt_cuda_queue queue = {bt_tensor_device(x).index, NULL};
    char err[BT_CUDA_ERR_CAP];
    int rc = bt_cuda_quantize_q8(xq, bt_tensor_data(x), NULL, 0.0f, (int)m, (int)k, queue, err);
    if (rc == 0) rc = bt_cuda_ternary_matmul(bt_tensor_data(out), xq, w, (int)m, 0, queue, err);
    return bt_op_cuda_result(rc, "linear", err);
}

/* Ternary weights placed for the CUDA kernels: one quantization of x (with block sums when
 * a matrix keeps block scales) and bt_cuda_ternary_matmul_group (one launch where it can). */
static bt_status linear_ternary_group(bt_tensor *const *out, const bt_cuda_ternary *const *w, int count,
                                      const bt_tensor *x, int64_t m, int64_t k) {
    bt_cuda_ternary desc[BT_OP_LINEAR_GROUP_MAX];
    float *y[BT_OP_LINEAR_GROUP_MAX];
    int block_scales = 0;
    for (int i = 0; i < count; i++) {
        desc[i] = *w[i];
        y[i] = bt_tensor_data(out[i]);
        block_scales |= w[i]->block_scales;
    }
    void *buf;
    bt_status st = bt_op_cuda_scratch(&buf, bt_tensor_device(x), BT_OP_CUDA_SCRATCH_Q8, q8_bytes(m, k));
    if (st) return st;
    bt_cuda_q8 xq = q8_carve(buf, m, k, block_scales);
    bt_cuda_queue queue = {bt_tensor_device(x).index, NULL};
    char err[BT_CUDA_ERR_CAP];
    int rc = bt_cuda_quantize_q8(xq, bt_tensor_data(x), NULL, 0.0f, (int)m, (int)k, queue, err);
    if (rc == 0) rc = bt_cuda_ternary_matmul_group(y, xq, desc, count, (int)m, 0, queue, err);
    return bt_op_cuda_result(rc, "linear_group", err);
}

bt_status bt_op_cuda_linear_group(bt_tensor *const *out, bt_tensor *const *w, int count, const bt_tensor *x, int64_t m,
                                  int64_t k, int act_quant) {
    const bt_cuda_ternary *tw[BT_OP_LINEAR_GROUP_MAX];
    int all_ternary = m <= INT_MAX;
    for (int i = 0; i < count; i++) all_ternary = all_ternary && (tw[i] = bt_op_cuda_ternary_of(w[i])) != NULL;
    if (all_ternary) return linear_ternary_group(out, tw, count, x, m, k);
    for (int i = 0; i < count; i++) {   /* float weights (or unplaced ones, which bt_op_cuda_linear refuses) */
        bt_status st = bt_op_cuda_linear(out[i], w[i], x, m, w[i]->shape[0], k, act_quant);
        if (st) return st;
    }
    return BT_OK;
}

bt_status bt_op_cuda_linear(bt_tensor *out, const bt_tensor *w, const bt_tensor *x, int64_t m, int64_t n, int64_t k,
                            int act_quant) {
    const char *op = "linear";
    char why[160];
    if (bt_op_cuda_linear_unsupported(w, act_quant, why, sizeof why))
        return bt_set_error(BT_ERR_UNSUPPORTED, "%s: %s", op, why);
    if (m > INT_MAX) return bt_set_error(BT_ERR_ARG, "%s: %lld rows are too many for the CUDA kernels", op, (long long)m);
    if (is_cuda_ternary(w->dtype)) {
        const bt_cuda_ternary *tw = bt_op_cuda_ternary_of(w);
        if (!tw)
            return bt_set_error(BT_ERR_ARG, "%s: this %s weight holds the file's layout on the GPU; place it with "
                                "place_weight, which repacks it for the CUDA kernels", op, bt_dtype_get_info(w->dtype)->name);
        return linear_ternary(out, tw, x, m, k);
    }
    if (!bt_tensor_is_contiguous(w)) return bt_set_error(BT_ERR_ARG, "%s: weights on a CUDA device must be contiguous", op);
    bt_cuda_queue queue = {bt_tensor_device(x).index, NULL};
    char err[BT_CUDA_ERR_CAP];
    int rc = w->dtype == BT_F16
                 ? bt_cuda_matmul_f16(bt_tensor_data(out), bt_tensor_data(x), bt_tensor_data(w), (int)m, (int)n, (int)k, 0, queue, err)
                 : bt_cuda_matmul_f32(bt_tensor_data(out), bt_tensor_data(x), bt_tensor_data(w), (int)m, (int)n, (int)k, 0, queue, err);
    return bt_op_cuda_result(rc, op, err);
}

#endif
