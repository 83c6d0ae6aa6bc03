/* ops_place.c - where weights and ops can live: placing weights on a device in
 * the layout its kernels read, their size there, and whether an op's kernels
 * accept a layer's shapes (see runtime/ops.h). The CUDA answers come from
 * runtime/ops_cuda_linear.c and ops_cuda_attention.c. */
#include <stdio.h>
#include "ops.h"
#include "ops_cuda.h"

#ifndef BT_HAVE_CUDA
static const char *no_cuda(bt_device d, char *why, size_t cap) {
    snprintf(why, cap, "cuda:%d: no CUDA support compiled in", d.index);
    return why;
}
#endif

bt_status bt_op_place_weight(bt_tensor **out, const bt_tensor *w, bt_device d) {
    *out = NULL;
    if (bt_tensor_device(w).type != BT_DEVICE_CPU)
        return bt_set_error(BT_ERR_ARG, "place_weight: the weight must be a CPU tensor (as read from its file)");
    BT_OP_ON_CUDA(d, bt_op_cuda_place_weight(out, w, d));
    return bt_tensor_view(out, w);
}

bt_status bt_op_placed_bytes(const bt_tensor *w, bt_device d, size_t *out) {
    *out = 0;
    if (bt_tensor_device(w).type != BT_DEVICE_CPU)
        return bt_set_error(BT_ERR_ARG, "placed_bytes: the weight must be a CPU tensor (as read from its file)");
    BT_OP_ON_CUDA(d, bt_op_cuda_placed_bytes(w, out));
    *out = bt_tensor_nbytes(w);
    return BT_OK;
}

const char *bt_op_linear_unsupported(const bt_tensor *w, int act_quant, bt_device d, char *why, size_t cap) {
    if (d.type == BT_DEVICE_CPU) return NULL;
#ifdef BT_HAVE_CUDA
    return bt_op_cuda_linear_unsupported(w, act_quant, why, cap);
#else
    (void)w, (void)act_quant;
    return no_cuda(d, why, cap);
#endif
}

const char *bt_op_attention_unsupported(int n_head, int n_kv, int head_dim, int rot_dim, bt_device d, char *why, size_t cap) {
    if (d.type == BT_DEVICE_CPU) return NULL;
#ifdef BT_HAVE_CUDA
    return bt_op_cuda_attention_unsupported(n_head, n_kv, head_dim, rot_dim, why, cap);
#else
    (void)n_head, (void)n_kv, (void)head_dim, (void)rot_dim;
    return no_cuda(d, why, cap);
#endif
}

size_t bt_op_scratch_bytes(bt_device d, int64_t max_rows, int64_t max_k, int n_head, int head_dim, int64_t ctx) {
    if (d.type == BT_DEVICE_CPU) return 0;
#ifdef BT_HAVE_CUDA
    return bt_op_cuda_scratch_bytes(max_rows, max_k, n_head, head_dim, ctx);
#else
    (void)max_rows, (void)max_k, (void)n_head, (void)head_dim, (void)ctx;
    return 0;
#endif
}
