/* ops.c - shape/dtype/device checks in front of the kernels. Each op checks its
 * arguments once, then runs the CPU kernels or, when its tensors live on a GPU,
 * hands them to the CUDA side (runtime/ops_cuda.h) at its one BT_OP_ON_CUDA line. */
#include "ops.h"
#include "ops_devices.h"
#include <inttypes.h>
#include <string.h>
#include <stdlib.h>
#include "kernels/cpu/act_quant.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/kv_cache.h"
#include "kernels/cpu/matmul_float.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/quant_q6_k.h"
#include "kernels/cpu/quant_q8_0.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/ternary.h"
#include "interrupt.h"
#include "ops_cuda.h"
#include "threads.h"
#include "platform/platform.h"

/* ---- devices ------------------------------------------------------------ */

bt_status bt_op_one_device(const char *op, bt_device *dev, const bt_op_arg *args, int n) {
    int first = -1;
    for (int i = 0; i < n; i++) {
        if (!args[i].t) continue;
        bt_device d = bt_tensor_device(args[i].t);
        if (first < 0) {
            first = i;
            *dev = d;
        } else if (!bt_device_equal(d, *dev)) {
            char a[32], b[32];
            return bt_set_error(BT_ERR_DEVICE, "%s: %s lives on %s but %s on %s; the tensors of an op must live on one device",
                                op, args[first].name, bt_device_name(*dev, a, sizeof a), args[i].name,
                                bt_device_name(d, b, sizeof b));
        }
    }
    return BT_OK;
}

bt_status bt_op_writable(const char *op, const bt_op_arg *args, int n) {
    for (int i = 0; i < n; i++)
        if (args[i].t && args[i].t->storage->read_only)
            return bt_set_error(BT_ERR_ARG, "%s: %s is read-only (mapped from a model file); write into a copy (t:clone())",
                                op, args[i].name);
    return BT_OK;
}

/* For ops that have no kernel on a GPU. */
bt_status bt_op_require_cpu(const char *op, bt_device dev) {
    char name[32];
    if (dev.type == BT_DEVICE_CPU) return BT_OK;
    return bt_set_error(BT_ERR_UNSUPPORTED, "%s: no kernel for %s (this op runs on the CPU only)", op,
                        bt_device_name(dev, name, sizeof name));
}

/* ---- shapes --------------------------------------------------------------- */

/* A contiguous f32 matrix [rows, cols] (a 1-d tensor counts as one row). */
static bt_status check_rows(const char *op, const bt_tensor *t, const char *what, int64_t *rows, int64_t *cols) {
    if (!t) return bt_set_error(BT_ERR_ARG, "%s: %s is missing", op, what);
    if (t->dtype != BT_F32)
        return bt_set_error(BT_ERR_ARG, "%s: %s must be f32, got %s", op, what, bt_dtype_get_info(t->dtype)->name);
    if (t->ndim < 1 || t->ndim > 2)
        return bt_set_error(BT_ERR_ARG, "%s: %s must be 1-d or 2-d, got %d-d", op, what, t->ndim);
    if (!bt_tensor_is_contiguous(t)) return bt_set_error(BT_ERR_ARG, "%s: %s must be contiguous", op, what);
    *rows = t->ndim == 2 ? t->shape[0] : 1;
    *cols = t->shape[t->ndim - 1];
    return BT_OK;
}

static bt_status check_same(const char *op, const bt_tensor *a, const char *an, const bt_tensor *b, const char *bn,
                            int64_t *rows, int64_t *cols) {
    int64_t r2 = 0, c2 = 0;
    bt_status st;
    if ((st = check_rows(op, a, an, rows, cols)) || (st = check_rows(op, b, bn, &r2, &c2))) return st;
    if (*rows != r2 || *cols != c2)
        return bt_set_error(BT_ERR_ARG, "%s: %s is [%" PRId64 ", %" PRId64 "] but %s is [%" PRId64 ", %" PRId64 "]",
                            op, an, *rows, *cols, bn, r2, c2);
    return BT_OK;
}

static bt_status check_vector(const char *op, const bt_tensor *t, const char *what, int64_t n) {
    if (!t) return BT_OK;
    if (t->dtype != BT_F32 || t->ndim != 1 || t->shape[0] != n || !bt_tensor_is_contiguous(t))
        return bt_set_error(BT_ERR_ARG, "%s: %s must be a contiguous f32 vector of %" PRId64 " values", op, what, n);
    return BT_OK;
}

static bt_status check_i32_vector(const char *op, const bt_tensor *t, const char *what, int64_t n) {
    if (t->dtype != BT_I32 || t->ndim != 1 || t->shape[0] != n || !bt_tensor_is_contiguous(t))
        return bt_set_error(BT_ERR_ARG, "%s: %s must be a contiguous i32 vector of %" PRId64 " values", op, what, n);
    return BT_OK;
}

static const float *f32(const bt_tensor *t) { return t ? (const float *)bt_tensor_data(t) : NULL; }
static float *f32_out(bt_tensor *t) { return (float *)bt_tensor_data(t); }

/* A weight matrix [n, k] whose rows are contiguous (row stride may exceed the row's bytes). */
static bt_status check_weight(const char *op, const bt_tensor *w, int64_t *n, int64_t *k, size_t *row_bytes) {
    if (w->ndim != 2) return bt_set_error(BT_ERR_ARG, "%s: weight must be 2-d, got %d-d", op, w->ndim);
    *n = w->shape[0];
    *k = w->shape[1];
    *row_bytes = bt_dtype_row_bytes(w->dtype, *k);
    const bt_dtype_info *info = bt_dtype_get_info(w->dtype);
    if (info->block_size == 1 && w->stride[1] != (int64_t)info->block_bytes)
        return bt_set_error(BT_ERR_ARG, "%s: weight rows must be contiguous", op);
    if (*n > 1 && w->stride[0] < (int64_t)*row_bytes) return bt_set_error(BT_ERR_ARG, "%s: weight rows overlap", op);
    if (*n > 1) *row_bytes = (size_t)w->stride[0];
    return BT_OK;
}

bt_status bt_op_get_rows(bt_tensor *out, const bt_tensor *table, const bt_tensor *ids) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "get_rows";
    int64_t m = 0, d = 0, vocab = 0, k = 0;
    size_t row_bytes = 0;
    bt_device dev = BT_CPU;
    bt_status st;
    if ((st = check_rows(op, out, "out", &m, &d)) || (st = check_weight(op, table, &vocab, &k, &row_bytes)) ||
        (st = check_i32_vector(op, ids, "ids", m)) || (st = ONE_DEVICE(op, &dev, {out, "out"}, {table, "table"}, {ids, "ids"})) ||
        (st = WRITABLE(op, {out, "out"})))
        return st;
    if (k != d) return bt_set_error(BT_ERR_ARG, "%s: table rows have %" PRId64 " values, out rows %" PRId64, op, k, d);
    BT_OP_ON_CUDA(dev, bt_op_cuda_get_rows(out, table, ids, m, d, vocab));
    const int32_t *id = bt_tensor_data(ids);
    const uint8_t *base = bt_tensor_data(table);
    float *o = f32_out(out);
    for (int64_t i = 0; i < m; i++) {
        if (id[i] < 0 || id[i] >= vocab)
            return bt_set_error(BT_ERR_ARG, "%s: token id %d out of range 0..%" PRId64, op, id[i], vocab - 1);
        const void *row = base + (size_t)id[i] * row_bytes;
        switch (table->dtype) {
        case BT_F32: memcpy(o + i * d, row, (size_t)d * sizeof(float)); break;
        case BT_F16: bt_convert_f16_to_f32(o + i * d, row, d); break;
        case BT_BF16: bt_convert_bf16_to_f32(o + i * d, row, d); break;
        case BT_Q8_0: bt_q8_0_dequantize_row(o + i * d, row, d); break;
        case BT_Q6_K: bt_q6_k_dequantize_row(o + i * d, row, d); break;
        default:
            return bt_set_error(BT_ERR_UNSUPPORTED, "%s: embedding tables of type %s are not supported", op,
                                bt_dtype_get_info(table->dtype)->name);
        }
    }
    return BT_OK;
}

/* One growing scratch buffer per thread and slot (quantized activations, dequantized
 * activations): decoding allocates nothing after the first token. Held in a per-thread
 * slot, so a thread's buffers are freed when the thread ends. */
enum { SCRATCH_ACT_I8, SCRATCH_ACT_F32, SCRATCH_SLOTS };
typedef struct { void *p[SCRATCH_SLOTS]; size_t cap[SCRATCH_SLOTS]; } thread_scratch;

static void scratch_release(void *p) {
    thread_scratch *s = p;
    for (int i = 0; i < SCRATCH_SLOTS; i++) bt_aligned_free(s->p[i]);
    free(s);
}

static bt_thread_slot scratch_slot = BT_THREAD_SLOT_INIT(scratch_release);

static void *scratch_get(int slot, size_t bytes) {
    thread_scratch *s = bt_thread_slot_get(&scratch_slot);
    if (!s) {
        if (!(s = calloc(1, sizeof *s))) return NULL;
        if (bt_thread_slot_set(&scratch_slot, s) != 0) { free(s); return NULL; }
    }
    if (s->cap[slot] < bytes) {
        bt_aligned_free(s->p[slot]);
        size_t cap = (bytes + 4095) & ~(size_t)4095;
        s->p[slot] = bt_aligned_alloc(64, cap);
        s->cap[slot] = s->p[slot] ? cap : 0;
    }
    return s->p[slot];
}

static void ternary_prepared_free(void *prepared) {
    bt_ternary_release(prepared);
    free(prepared);
}

/* The ternary layout of w, validated once and cached on the tensor handle
 * (TQ1_0 repacked as TQ2_0: see bt_ternary_repack). */
static bt_status ternary_prepared(const char *op, bt_tensor *w, bt_ternary_format format, const bt_ternary_matrix **out) {
    if (!w->prepared) {
        if (!bt_tensor_is_contiguous(w)) return bt_set_error(BT_ERR_ARG, "%s: ternary weights must be contiguous", op);
        bt_ternary_matrix *m = malloc(sizeof *m);
        if (!m) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", op);
        size_t avail = w->storage->nbytes - w->offset;   /* I2_S keeps its scale after the rows */
        bt_status st = bt_ternary_prepare(m, format, bt_tensor_data(w), avail, w->shape[0], w->shape[1]);
        if (!st) st = bt_ternary_repack(m);
        if (st) { free(m); return st; }
        w->prepared = m;
        w->prepared_free = ternary_prepared_free;
    }
    *out = w->prepared;
    return BT_OK;
}

bt_status bt_op_prepare_weight(bt_tensor *w) {
    const char *op = "prepare_weight";
    if (!w) return bt_set_error(BT_ERR_ARG, "%s: no weight", op);
    bt_ternary_format format;
    if (bt_tensor_device(w).type != BT_DEVICE_CPU || !bt_ternary_format_from_dtype(w->dtype, &format)) return BT_OK;
    if (w->ndim != 2)
        return bt_set_error(BT_ERR_ARG, "%s: a %s weight must be 2-d [n, k], got %d-d", op,
                            bt_dtype_get_info(w->dtype)->name, w->ndim);
    const bt_ternary_matrix *tm;
    return ternary_prepared(op, w, format, &tm);
}

/* x [m, k] as per-token int8 in thread scratch. */
static bt_status quantize_activations(bt_act_i8 *xq, const float *x, int64_t m, int64_t k) {
    size_t bytes = bt_act_i8_bytes(m, k);
    void *buf = bytes ? scratch_get(SCRATCH_ACT_I8, bytes) : NULL;
    if (!buf) return bt_set_error(BT_ERR_NOMEM, "linear: cannot allocate %zu bytes for int8 activations", bytes);
    bt_status st = bt_act_i8_init(xq, buf, bytes, m, k);
    if (st) return st;
    bt_act_quantize(xq, x);
    return BT_OK;
}

/* The shapes of out [m, n] = x [m, k] . W^T and the device they share. */
static bt_status check_linear(const char *op, const bt_tensor *out, const bt_tensor *w, const bt_tensor *x, int64_t *m,
                              int64_t *n, int64_t *k, size_t *row_bytes, bt_device *dev) {
    int64_t mx = 0, kx = 0;
    bt_status st;
    if ((st = check_rows(op, out, "out", m, n)) || (st = check_rows(op, x, "x", &mx, &kx)) ||
        (st = check_weight(op, w, n, k, row_bytes)) || (st = ONE_DEVICE(op, dev, {out, "out"}, {w, "weight"}, {x, "x"})) ||
        (st = WRITABLE(op, {out, "out"})))
        return st;
    if (out->shape[out->ndim - 1] != *n || mx != *m || kx != *k)
        return bt_set_error(BT_ERR_ARG, "%s: out [%" PRId64 ", %" PRId64 "] = x [%" PRId64 ", %" PRId64 "] . W^T with W [%" PRId64 ", %" PRId64 "]",
                            op, *m, out->shape[out->ndim - 1], mx, kx, *n, *k);
    return BT_OK;
}

bt_status bt_op_linear_group(bt_tensor *const *out, bt_tensor *const *w, int count, const bt_tensor *x, int act_quant) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "linear_group";
    if (count < 1 || count > BT_OP_LINEAR_GROUP_MAX || !out || !w)
        return bt_set_error(BT_ERR_ARG, "%s: %d weights (1 to %d, with as many outputs)", op, count, BT_OP_LINEAR_GROUP_MAX);
    int64_t m = 0, n = 0, k = 0;
    size_t row_bytes = 0;
    bt_device dev = BT_CPU;   /* x is in every check, so all share its device */
    bt_status st;
    for (int i = 0; i < count; i++)
        if ((st = check_linear(op, out[i], w[i], x, &m, &n, &k, &row_bytes, &dev))) return st;
    BT_OP_ON_CUDA(dev, bt_op_cuda_linear_group(out, w, count, x, m, k, act_quant));
    for (int i = 0; i < count; i++)
        if ((st = bt_op_linear(out[i], w[i], x, act_quant))) return st;
    return BT_OK;
}

bt_status bt_op_linear(bt_tensor *out, bt_tensor *w, const bt_tensor *x, int act_quant) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "linear";
    int64_t m = 0, n = 0, k = 0;
    size_t row_bytes = 0;
    bt_device dev = BT_CPU;
    bt_status st;
    if ((st = check_linear(op, out, w, x, &m, &n, &k, &row_bytes, &dev))) return st;
    BT_OP_ON_CUDA(dev, bt_op_cuda_linear(out, w, x, m, n, k, act_quant));
    bt_apply_num_threads();
    bt_ternary_format format;
    if (bt_ternary_format_from_dtype(w->dtype, &format)) {
        const bt_ternary_matrix *tm = NULL;
        bt_act_i8 xq;
        if ((st = ternary_prepared(op, w, format, &tm)) || (st = quantize_activations(&xq, f32(x), m, k))) return st;
        return bt_ternary_matmul(f32_out(out), tm, &xq);
    }
    if (!bt_matmul_float_supports(w->dtype)) goto unsupported;
    const float *xin = f32(x);
    if (act_quant) {   /* round the activations as a ternary kernel would, then multiply in float */
        bt_act_i8 xq;
        float *deq = scratch_get(SCRATCH_ACT_F32, (size_t)(m * k) * sizeof(float));
        if (!deq) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", op);
        if ((st = quantize_activations(&xq, xin, m, k))) return st;
        for (int64_t t = 0; t < m; t++)
            for (int64_t j = 0; j < k; j++) deq[t * k + j] = (float)xq.q[t * xq.k_pad + j] / xq.scale[t];
        xin = deq;
    }
    return bt_matmul_float(f32_out(out), xin, bt_tensor_data(w), w->dtype, row_bytes, m, n, k);
unsupported:
    return bt_set_error(BT_ERR_UNSUPPORTED, "%s: weights of type %s are not supported", op, bt_dtype_get_info(w->dtype)->name);
}

bt_status bt_op_rmsnorm(bt_tensor *out, const bt_tensor *x, const bt_tensor *w, float eps) {
    if (bt_interrupted()) return bt_interrupt_error();
    int64_t m = 0, n = 0;
    bt_device dev = BT_CPU;
    bt_status st;
    if ((st = check_same("rmsnorm", out, "out", x, "x", &m, &n)) || (st = check_vector("rmsnorm", w, "weight", n)) ||
        (st = ONE_DEVICE("rmsnorm", &dev, {out, "out"}, {x, "x"}, {w, "weight"})) || (st = WRITABLE("rmsnorm", {out, "out"})))
        return st;
    BT_OP_ON_CUDA(dev, bt_op_cuda_rmsnorm(out, x, w, m, n, eps));
    bt_apply_num_threads();
    bt_rmsnorm(f32_out(out), f32(x), f32(w), m, n, eps);
    return BT_OK;
}

bt_status bt_op_layernorm(bt_tensor *out, const bt_tensor *x, const bt_tensor *w, const bt_tensor *b, float eps) {
    if (bt_interrupted()) return bt_interrupt_error();
    int64_t m = 0, n = 0;
    bt_device dev = BT_CPU;
    bt_status st;
    if ((st = check_same("layernorm", out, "out", x, "x", &m, &n)) || (st = check_vector("layernorm", w, "weight", n)) ||
        (st = check_vector("layernorm", b, "bias", n)) ||
        (st = ONE_DEVICE("layernorm", &dev, {out, "out"}, {x, "x"}, {w, "weight"}, {b, "bias"})) ||
        (st = WRITABLE("layernorm", {out, "out"})))
        return st;
    BT_OP_ON_CUDA(dev, bt_op_cuda_layernorm(out, x, w, b, m, n, eps));
    bt_apply_num_threads();
    bt_layernorm(f32_out(out), f32(x), f32(w), f32(b), m, n, eps);
    return BT_OK;
}

/* Enum arguments come from callers (C API, scripts); a value outside the enum is refused,
 * never run as some default. */
static bt_status check_rope_style(const char *op, bt_op_rope_style style) {
    if (bt_op_rope_style_name(style)) return BT_OK;
    return bt_set_error(BT_ERR_ARG, "%s: unknown RoPE style %d (expected interleaved %d or neox %d)", op, (int)style,
                        (int)BT_OP_ROPE_INTERLEAVED, (int)BT_OP_ROPE_NEOX);
}

static bt_status check_activation(const char *op, bt_op_activation act) {
    if (bt_op_activation_name(act)) return BT_OK;
    return bt_set_error(BT_ERR_ARG, "%s: unknown activation %d (expected silu %d or relu2 %d)", op, (int)act,
                        (int)BT_OP_SILU, (int)BT_OP_RELU2);
}

bt_status bt_op_rope(bt_tensor *x, const bt_tensor *pos, int n_heads, int head_dim, int rot_dim, float theta,
                     bt_op_rope_style style) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "rope";
    int64_t m = 0, cols = 0;
    bt_device dev = BT_CPU;
    bt_status st;
    if ((st = check_rope_style(op, style)) || (st = check_rows(op, x, "x", &m, &cols)) ||
        (st = check_i32_vector(op, pos, "positions", m)) || (st = ONE_DEVICE(op, &dev, {x, "x"}, {pos, "positions"})) ||
        (st = WRITABLE(op, {x, "x"})))
        return st;
    if (n_heads < 1 || head_dim < 2 || (int64_t)n_heads * head_dim > cols || rot_dim < 2 || rot_dim > head_dim || rot_dim % 2)
        return bt_set_error(BT_ERR_ARG, "%s: %d heads of %d (rotary dim %d) do not fit rows of %" PRId64, op, n_heads,
                            head_dim, rot_dim, cols);
    BT_OP_ON_CUDA(dev, bt_op_cuda_rope(x, pos, m, cols, n_heads, head_dim, rot_dim, theta, style));
    const int32_t *p = bt_tensor_data(pos);
    for (int64_t i = 0; i < m; i++)
        if (p[i] < 0) return bt_set_error(BT_ERR_ARG, "%s: negative position %d", op, p[i]);
    bt_rope(f32_out(x), p, m, cols, n_heads, head_dim, rot_dim, theta, style);
    return BT_OK;
}

/* k_cache/v_cache [n_kv, ctx, hd] rows of the cache's type; rows of k/v [m, n_kv*hd] go to positions pos0.. */
static void store_kv(bt_kv_type type, void *cache, const float *kv, int64_t m, int64_t pos0, int64_t n_kv, int64_t ctx,
                     int64_t hd) {
    const size_t row_bytes = bt_kv_row_bytes(type, (int)hd);
    for (int64_t i = 0; i < m; i++)
        for (int64_t g = 0; g < n_kv; g++)
            bt_kv_store_row(type, (char *)cache + (size_t)(g * ctx + pos0 + i) * row_bytes, kv + i * n_kv * hd + g * hd,
                            (int)hd);
}

static int kv_type_of(bt_dtype dtype, bt_kv_type *type) {
    switch (dtype) {
    case BT_F32: *type = BT_KV_F32; return 1;
    case BT_F16: *type = BT_KV_F16; return 1;
    case BT_Q8_0: *type = BT_KV_Q8_0; return 1;
    default: return 0;
    }
}

bt_status bt_op_attention(bt_tensor *out, const bt_tensor *q, const bt_tensor *k, const bt_tensor *v,
                          bt_tensor *k_cache, bt_tensor *v_cache, int64_t pos0, int n_head, float scale) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "attention";
    int64_t m = 0, q_cols = 0, mk = 0, k_cols = 0;
    bt_device dev = BT_CPU;
    bt_kv_type type;
    bt_status st;
    if ((st = check_same(op, out, "out", q, "q", &m, &q_cols)) || (st = check_same(op, k, "k", v, "v", &mk, &k_cols)) ||
        (st = ONE_DEVICE(op, &dev, {out, "out"}, {q, "q"}, {k, "k"}, {v, "v"}, {k_cache, "k cache"}, {v_cache, "v cache"})) ||
        (st = WRITABLE(op, {out, "out"}, {k_cache, "k cache"}, {v_cache, "v cache"})))
        return st;
    if (k_cache->ndim != 3 || !kv_type_of(k_cache->dtype, &type) || !bt_tensor_is_contiguous(k_cache) ||
        !bt_tensor_same_shape(k_cache, v_cache) || v_cache->dtype != k_cache->dtype || !bt_tensor_is_contiguous(v_cache))
        return bt_set_error(BT_ERR_ARG, "%s: caches must be contiguous f32, f16 or q8_0 [n_kv_head, ctx, head_dim], of one "
                            "shape and type", op);
    int64_t n_kv = k_cache->shape[0], ctx = k_cache->shape[1], hd = k_cache->shape[2];
    if (mk != m || k_cols != n_kv * hd || n_head < 1 || q_cols != n_head * hd || n_head % n_kv)
        return bt_set_error(BT_ERR_ARG, "%s: q [%" PRId64 ", %" PRId64 "], k/v [%" PRId64 ", %" PRId64 "] do not fit %d heads over a cache of %" PRId64 " kv heads of %" PRId64,
                            op, m, q_cols, mk, k_cols, n_head, n_kv, hd);
    if (pos0 < 0 || pos0 + m > ctx)
        return bt_set_error(BT_ERR_ARG, "%s: positions %" PRId64 "..%" PRId64 " exceed the context of %" PRId64, op, pos0, pos0 + m - 1, ctx);
    BT_OP_ON_CUDA(dev, bt_op_cuda_attention(out, q, k, v, k_cache, v_cache, m, pos0, n_head, scale));
    if (type != BT_KV_F32 && bt_attention_kv_tile((int)hd) < 1)
        return bt_set_error(BT_ERR_ARG, "%s: head_dim %" PRId64 " is too large for a %s cache", op, hd,
                            bt_dtype_get_info(k_cache->dtype)->name);
    store_kv(type, bt_tensor_data(k_cache), f32(k), m, pos0, n_kv, ctx, hd);
    store_kv(type, bt_tensor_data(v_cache), f32(v), m, pos0, n_kv, ctx, hd);
    bt_apply_num_threads();
    bt_attention_kv(f32_out(out), f32(q), bt_tensor_data(k_cache), bt_tensor_data(v_cache), type, m, pos0, n_head,
                    (int)n_kv, (int)hd, ctx, scale);
    return BT_OK;
}

bt_status bt_op_gated(bt_tensor *out, const bt_tensor *gate, const bt_tensor *up, bt_op_activation act) {
    if (bt_interrupted()) return bt_interrupt_error();
    int64_t m = 0, n = 0, m2 = 0, n2 = 0;
    bt_device dev = BT_CPU;
    bt_status st;
    if ((st = check_activation("gated", act)) || (st = check_same("gated", out, "out", gate, "gate", &m, &n)) ||
        (st = check_same("gated", gate, "gate", up, "up", &m2, &n2)) ||
        (st = ONE_DEVICE("gated", &dev, {out, "out"}, {gate, "gate"}, {up, "up"})) || (st = WRITABLE("gated", {out, "out"})))
        return st;
    BT_OP_ON_CUDA(dev, bt_op_cuda_gated(out, gate, up, m * n, act));
    bt_apply_num_threads();
    bt_gated_activate(f32_out(out), f32(gate), f32(up), m * n, act);
    return BT_OK;
}

bt_status bt_op_activate(bt_tensor *out, const bt_tensor *x, bt_op_activation act) {
    if (bt_interrupted()) return bt_interrupt_error();
    int64_t m = 0, n = 0;
    bt_device dev = BT_CPU;
    bt_status st;
    if ((st = check_activation("activate", act)) || (st = check_same("activate", out, "out", x, "x", &m, &n)) ||
        (st = ONE_DEVICE("activate", &dev, {out, "out"}, {x, "x"})) || (st = WRITABLE("activate", {out, "out"})))
        return st;
    BT_OP_ON_CUDA(dev, bt_op_cuda_activate(out, x, m * n, act));
    bt_apply_num_threads();
    bt_activate(f32_out(out), f32(x), m * n, act);
    return BT_OK;
}

/* out, a and b: one shape, one device; *n elements. */
static bt_status check_binary(const char *op, bt_tensor *out, const bt_tensor *a, const bt_tensor *b, int64_t *n,
                              bt_device *dev) {
    int64_t m = 0, cols = 0, m2 = 0, cols2 = 0;
    bt_status st;
    if ((st = check_same(op, out, "out", a, "a", &m, &cols)) || (st = check_same(op, a, "a", b, "b", &m2, &cols2)) ||
        (st = ONE_DEVICE(op, dev, {out, "out"}, {a, "a"}, {b, "b"})) || (st = WRITABLE(op, {out, "out"})))
        return st;
    *n = m * cols;
    return BT_OK;
}

typedef enum { BINARY_ADD, BINARY_MUL } binary_kind;

static bt_status binary(const char *op, binary_kind kind, bt_tensor *out, const bt_tensor *a, const bt_tensor *b) {
    if (bt_interrupted()) return bt_interrupt_error();
    int64_t n = 0;
    bt_device dev = BT_CPU;
    bt_status st = check_binary(op, out, a, b, &n, &dev);
    if (st) return st;
    BT_OP_ON_CUDA(dev, kind == BINARY_ADD ? bt_op_cuda_add(out, a, b, n) : bt_op_cuda_mul(out, a, b, n));
    bt_apply_num_threads();
    (kind == BINARY_ADD ? bt_add : bt_mul)(f32_out(out), f32(a), f32(b), n);
    return BT_OK;
}

bt_status bt_op_add(bt_tensor *out, const bt_tensor *a, const bt_tensor *b) { return binary("add", BINARY_ADD, out, a, b); }
bt_status bt_op_mul(bt_tensor *out, const bt_tensor *a, const bt_tensor *b) { return binary("mul", BINARY_MUL, out, a, b); }

bt_status bt_op_scale(bt_tensor *out, const bt_tensor *x, float s) {
    if (bt_interrupted()) return bt_interrupt_error();
    int64_t m = 0, n = 0;
    bt_device dev = BT_CPU;
    bt_status st;
    if ((st = check_same("scale", out, "out", x, "x", &m, &n)) || (st = ONE_DEVICE("scale", &dev, {out, "out"}, {x, "x"})) ||
        (st = WRITABLE("scale", {out, "out"})) ||
        (st = bt_op_require_cpu("scale", dev)))
        return st;
    bt_apply_num_threads();
    bt_scale(f32_out(out), f32(x), s, m * n);
    return BT_OK;
}
