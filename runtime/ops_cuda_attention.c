/* ops_cuda_attention.c - attention over a KV cache (f32, f16 or q8_0: ops.c checked
 * which) on a CUDA device: stores the
 * new keys and values at their positions, then runs causal grouped-query
 * attention (flash-decoding splits for long contexts); and whether the
 * kernels take a layer's head shape. */
#include "ops_cuda.h"
#ifdef BT_HAVE_CUDA
#include <limits.h>
#include <stdio.h>
#include "kernels/cuda/cuda_backend.h"

#define MAX_DEVICES 16

/* The kernels take a position per query row; ops pass pos0. The rows pos0 .. pos0+m-1 are
 * uploaded once per (device, pos0, m): every layer of a forward pass reuses them. */
static _Thread_local struct { void *p; int64_t pos0, m; } uploaded[MAX_DEVICES];

static bt_status device_positions(const int32_t **out, bt_device dev, int64_t pos0, int64_t m) {
    void *p;
    bt_status st = bt_op_cuda_scratch(&p, dev, BT_OP_CUDA_SCRATCH_POSITIONS, (size_t)m * sizeof(int32_t));
    if (st) return st;
    if (uploaded[dev.index].p != p || uploaded[dev.index].pos0 != pos0 || uploaded[dev.index].m != m) {
        int32_t stage[256];
        for (int64_t done = 0; done < m; done += 256) {
            int64_t n = m - done < 256 ? m - done : 256;
            for (int64_t i = 0; i < n; i++) stage[i] = (int32_t)(pos0 + done + i);
            st = bt_device_copy(dev, (int32_t *)p + done, BT_CPU, stage, (size_t)n * sizeof(int32_t));
            if (st) {
                uploaded[dev.index].p = NULL;
                return st;
            }
        }
        uploaded[dev.index].p = p;
        uploaded[dev.index].pos0 = pos0;
        uploaded[dev.index].m = m;
    }
    *out = p;
    return BT_OK;
}

bt_status bt_op_cuda_attention(bt_tensor *out, const bt_tensor *q, const bt_tensor *k, const bt_tensor *v,
                               bt_tensor *k_cache, bt_tensor *v_cache, int64_t m, int64_t pos0, int n_head, float scale) {
    const char *op = "attention";
    int64_t n_kv = k_cache->shape[0], ctx = k_cache->shape[1], hd = k_cache->shape[2];
    if (m > INT_MAX || ctx > INT_MAX || n_kv * hd > INT_MAX || (int64_t)n_head * hd > INT_MAX)
        return bt_set_error(BT_ERR_ARG, "%s: sizes too large for the CUDA kernels", op);
    bt_device dev = bt_tensor_device(out);
    const int32_t *pos;
    bt_status st = device_positions(&pos, dev, pos0, m);
    if (st) return st;
    size_t work_bytes = bt_cuda_attention_work_bytes((int)m, n_head, (int)hd, (int)ctx);
    void *work = NULL;
    if (work_bytes && (st = bt_op_cuda_scratch(&work, dev, BT_OP_CUDA_SCRATCH_ATTENTION, work_bytes))) return st;
    bt_cuda_queue queue = {dev.index, NULL};
    char err[BT_CUDA_ERR_CAP];
    int kv_ld = (int)(n_kv * hd);
    const int kv_type = k_cache->dtype == BT_F16 ? BT_CUDA_KV_F16 : k_cache->dtype == BT_Q8_0 ? BT_CUDA_KV_Q8_0 : BT_CUDA_KV_F32;
    int rc = bt_cuda_kv_store(bt_tensor_data(k_cache), bt_tensor_data(v_cache), kv_type, bt_tensor_data(k), kv_ld,
                              bt_tensor_data(v), kv_ld, pos, (int)m, (int)n_kv, (int)hd, (int)ctx, queue, err);
    if (rc == 0)
        rc = bt_cuda_attention(bt_tensor_data(out), bt_tensor_data(q), n_head * (int)hd, bt_tensor_data(k_cache),
                               bt_tensor_data(v_cache), kv_type, pos, (int)m, n_head, (int)n_kv, (int)hd, (int)ctx, scale,
                               work, work_bytes, queue, err);
    return bt_op_cuda_result(rc, op, err);
}

/* A call with zero rows runs the wrappers' argument checks without touching a device;
 * the pointers only need to be non-NULL and aligned. */
const char *bt_op_cuda_attention_unsupported(int n_head, int n_kv, int head_dim, int rot_dim, char *why, size_t cap) {
    static float dummy[4] __attribute__((aligned(16)));
    float *f = dummy;
    const int32_t *pos = (const int32_t *)dummy;
    bt_cuda_queue queue = {0, NULL};
    char err[BT_CUDA_ERR_CAP];
    if (n_head < 1 || n_kv < 1 || head_dim < 1) {
        snprintf(why, cap, "%d heads, %d kv heads of %d", n_head, n_kv, head_dim);
        return why;
    }
    int rc = bt_cuda_rope_f32(f, pos, NULL, 0, n_head * head_dim, n_head, head_dim, rot_dim, 10000.0f,
                              BT_OP_ROPE_INTERLEAVED, queue, err);
    if (rc == 0)
        rc = bt_cuda_kv_store_f32(f, f, f, n_kv * head_dim, f, n_kv * head_dim, pos, 0, n_kv, head_dim, 1, queue, err);
    if (rc == 0)
        rc = bt_cuda_attention_f32(f, f, n_head * head_dim, f, f, pos, 0, n_head, n_kv, head_dim, 1, 1.0f, NULL, 0,
                                   queue, err);
    if (rc == 0) return NULL;
    snprintf(why, cap, "%s", err);
    return why;
}

#endif
