/* ops_cuda.c - the CUDA side of the ops that are not matrix products:
 * embedding rows, RMSNorm, LayerNorm, RoPE and the elementwise ops, plus what every
 * ops_cuda file shares (error conversion, per-device scratch). */
#include "ops_cuda.h"
#ifdef BT_HAVE_CUDA
#include <limits.h>
#include <stdlib.h>
#include "kernels/cuda/cuda_backend.h"

#define MAX_DEVICES 16

bt_status bt_op_cuda_result(int rc, const char *op, const char *err) {
    return rc == 0 ? BT_OK : bt_set_error(BT_ERR_DEVICE, "%s: %s", op, err);
}

/* ---- scratch ------------------------------------------------------------------ */

/* Per thread, device and slot; freed blocks go back to the pool, and work still
 * queued on the device's stream that reads them runs before any reuse. */
static _Thread_local struct { void *p; size_t cap; } scratch[MAX_DEVICES][BT_OP_CUDA_SCRATCH_SLOTS];

bt_status bt_op_cuda_scratch(void **out, bt_device dev, int slot, size_t bytes) {
    *out = NULL;
    if (dev.index < 0 || dev.index >= MAX_DEVICES)
        return bt_set_error(BT_ERR_DEVICE, "cuda:%d: the ops support CUDA devices 0..%d", dev.index, MAX_DEVICES - 1);
    if (scratch[dev.index][slot].cap < bytes) {
        bt_device_free(dev, scratch[dev.index][slot].p);
        scratch[dev.index][slot].p = NULL;
        scratch[dev.index][slot].cap = 0;
        size_t cap = (bytes + 65535) & ~(size_t)65535;
        bt_status st = bt_device_alloc(dev, cap, &scratch[dev.index][slot].p);
        if (st) return st;
        scratch[dev.index][slot].cap = cap;
    }
    *out = scratch[dev.index][slot].p;
    return BT_OK;
}

/* ---- helpers ------------------------------------------------------------------ */

static bt_cuda_queue queue_of(const bt_tensor *t) { return (bt_cuda_queue){bt_tensor_device(t).index, NULL}; }
static float *f32(const bt_tensor *t) { return t ? (float *)bt_tensor_data(t) : NULL; }

/* The kernels take int sizes. */
static bt_status int_sizes(const char *op, int64_t a, int64_t b) {
    if (a > INT_MAX || b > INT_MAX) return bt_set_error(BT_ERR_ARG, "%s: sizes %lld x %lld too large for the CUDA kernels", op, (long long)a, (long long)b);
    return BT_OK;
}


/* ---- ops ---------------------------------------------------------------------- */

bt_status bt_op_cuda_get_rows(bt_tensor *out, const bt_tensor *table, const bt_tensor *ids, int64_t m, int64_t d,
                              int64_t vocab) {
    const char *op = "get_rows";
    bt_status st = int_sizes(op, m, d);
    if (!st) st = int_sizes(op, vocab, 1);
    if (st) return st;
    if (!bt_tensor_is_contiguous(table)) return bt_set_error(BT_ERR_ARG, "%s: a table on a CUDA device must be contiguous", op);
    if (table->dtype != BT_F16 && table->dtype != BT_F32)
        return bt_set_error(BT_ERR_UNSUPPORTED, "%s: embedding tables of type %s have no CUDA kernel", op,
                            bt_dtype_get_info(table->dtype)->name);
    /* The kernel cannot report a bad id (it writes NaN): check the few ids on the host. */
    int32_t *host = malloc((size_t)(m ? m : 1) * sizeof *host);
    if (!host) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", op);
    st = bt_device_copy(BT_CPU, host, bt_tensor_device(ids), bt_tensor_data(ids), (size_t)m * sizeof *host);
    for (int64_t i = 0; !st && i < m; i++)
        if (host[i] < 0 || host[i] >= vocab)
            st = bt_set_error(BT_ERR_ARG, "%s: token id %d out of range 0..%lld", op, host[i], (long long)vocab - 1);
    free(host);
    if (st) return st;
    char err[BT_CUDA_ERR_CAP];
    int rc = table->dtype == BT_F16
                 ? bt_cuda_embed_f16(f32(out), bt_tensor_data(table), bt_tensor_data(ids), (int)m, (int)d, (int)vocab, queue_of(out), err)
                 : bt_cuda_embed_f32(f32(out), bt_tensor_data(table), bt_tensor_data(ids), (int)m, (int)d, (int)vocab, queue_of(out), err);
    return bt_op_cuda_result(rc, op, err);
}

bt_status bt_op_cuda_rmsnorm(bt_tensor *out, const bt_tensor *x, const bt_tensor *w, int64_t m, int64_t n, float eps) {
    bt_status st = int_sizes("rmsnorm", m, n);
    if (st) return st;
    char err[BT_CUDA_ERR_CAP];
    return bt_op_cuda_result(bt_cuda_rmsnorm_f32(f32(out), f32(x), f32(w), (int)m, (int)n, eps, queue_of(out), err),
                             "rmsnorm", err);
}

bt_status bt_op_cuda_layernorm(bt_tensor *out, const bt_tensor *x, const bt_tensor *w, const bt_tensor *b, int64_t m,
                               int64_t n, float eps) {
    bt_status st = int_sizes("layernorm", m, n);
    if (st) return st;
    char err[BT_CUDA_ERR_CAP];
    return bt_op_cuda_result(
        bt_cuda_layernorm_f32(f32(out), f32(x), f32(w), f32(b), (int)m, (int)n, eps, queue_of(out), err), "layernorm",
        err);
}

bt_status bt_op_cuda_rope(bt_tensor *x, const bt_tensor *pos, int64_t m, int64_t cols, int n_heads, int head_dim,
                          int rot_dim, float theta, bt_op_rope_style style) {
    bt_status st = int_sizes("rope", m, cols);
    if (st) return st;
    char err[BT_CUDA_ERR_CAP];
    return bt_op_cuda_result(bt_cuda_rope_f32(f32(x), bt_tensor_data(pos), NULL, (int)m, (int)cols, n_heads, head_dim,
                                              rot_dim, theta, style, queue_of(x), err),
                             "rope", err);
}

bt_status bt_op_cuda_gated(bt_tensor *out, const bt_tensor *gate, const bt_tensor *up, int64_t n, bt_op_activation act) {
    char err[BT_CUDA_ERR_CAP];
    return bt_op_cuda_result(bt_cuda_gated_f32(f32(out), f32(gate), f32(up), n, act, queue_of(out), err), "gated", err);
}

bt_status bt_op_cuda_activate(bt_tensor *out, const bt_tensor *x, int64_t n, bt_op_activation act) {
    char err[BT_CUDA_ERR_CAP];
    return bt_op_cuda_result(bt_cuda_activate_f32(f32(out), f32(x), n, act, queue_of(out), err), "activate", err);
}

bt_status bt_op_cuda_add(bt_tensor *out, const bt_tensor *a, const bt_tensor *b, int64_t n) {
    char err[BT_CUDA_ERR_CAP];
    return bt_op_cuda_result(bt_cuda_add_f32(f32(out), f32(a), f32(b), n, queue_of(out), err), "add", err);
}

bt_status bt_op_cuda_mul(bt_tensor *out, const bt_tensor *a, const bt_tensor *b, int64_t n) {
    char err[BT_CUDA_ERR_CAP];
    return bt_op_cuda_result(bt_cuda_mul_f32(f32(out), f32(a), f32(b), n, n, queue_of(out), err), "mul", err);
}

#endif
