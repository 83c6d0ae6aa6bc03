/* ops_cuda_ttt.c - the CUDA side of the TTT ops (ops_ttt.c checked the arguments):
 * inner learning rates, TTT-Linear split at mini-batch boundaries as on the CPU
 * (primal for single tokens, dual for longer spans, forgetting after each completed
 * mini-batch) and the causal convs of queries and keys. */
#include "ops_cuda.h"
#ifdef BT_HAVE_CUDA
#include <limits.h>
#include "kernels/cuda/cuda_backend.h"

static float *f32(const bt_tensor *t) { return t ? (float *)bt_tensor_data(t) : NULL; }
static bt_cuda_queue queue_on(const bt_tensor *t) { return (bt_cuda_queue){bt_tensor_device(t).index, NULL}; }

bt_status bt_op_cuda_ttt_eta(bt_tensor *eta, const bt_tensor *bias, const bt_tensor *mult, float scale, int64_t m,
                             int64_t n_head) {
    if (n_head > INT_MAX) return bt_set_error(BT_ERR_ARG, "ttt_eta: %lld heads", (long long)n_head);
    char err[BT_CUDA_ERR_CAP];
    return bt_op_cuda_result(
        bt_cuda_ttt_eta(f32(eta), f32(eta), f32(bias), f32(mult), scale, m, (int)n_head, queue_on(eta), err), "ttt_eta",
        err);
}

bt_status bt_op_cuda_ttt_linear(bt_tensor *out, bt_tensor *weights, bt_tensor *grads, const bt_tensor *xq,
                                const bt_tensor *xk, const bt_tensor *xv, const bt_tensor *eta,
                                const bt_tensor *token_scale, const bt_tensor *ln_w, const bt_tensor *ln_b, float eps,
                                int64_t pos0, bt_ttt_form form, const bt_ttt_decay *decay, int64_t m, int64_t n_head,
                                int64_t head_dim, int64_t mini_batch) {
    const char *op = "ttt_linear";
    if (n_head > INT_MAX || head_dim > INT_MAX || mini_batch > INT_MAX)
        return bt_set_error(BT_ERR_ARG, "%s: sizes too large for the CUDA kernels", op);
    const bt_cuda_queue q = queue_on(out);
    const bt_cuda_ttt_norm norm = {f32(ln_w), f32(ln_b), eps};
    const int64_t width = n_head * head_dim;
    const size_t state = (size_t)(n_head * (head_dim + 1) * head_dim);
    char err[BT_CUDA_ERR_CAP];
    for (int64_t j = 0; j < m;) {
        int64_t first;
        const int64_t n = bt_ttt_span_at(pos0, j, m, mini_batch, &first);
        const bt_cuda_ttt_span span = {
            .xq = f32(xq) + j * width, .xk = f32(xk) + j * width, .xv = f32(xv) + j * width,
            .eta = f32(eta) + j * n_head, .token_scale = f32(token_scale), .row_stride = width,
            .first = (int)first, .n_tok = (int)n, .mini_batch = (int)mini_batch};
        const int primal = bt_ttt_span_primal(form, n);
        int rc = (primal ? bt_cuda_ttt_linear_primal : bt_cuda_ttt_linear_dual)(
            f32(out) + j * width, f32(weights), f32(grads), &span, &norm, (int)n_head, (int)head_dim, q, err);
        if (!rc && decay && decay->keep < 1.0f && first + n == mini_batch)
            rc = bt_cuda_ttt_decay(f32(weights), f32(decay->toward), decay->keep, state, q, err);
        if (rc) return bt_op_cuda_result(rc, op, err);
        j += n;
    }
    return BT_OK;
}

bt_status bt_op_cuda_causal_conv(bt_tensor *x, bt_tensor *history, const bt_tensor *w, const bt_tensor *bias,
                                 int64_t m, int64_t width, int kernel) {
    if (width > INT_MAX) return bt_set_error(BT_ERR_ARG, "causal_conv: width %lld too large", (long long)width);
    char err[BT_CUDA_ERR_CAP];
    return bt_op_cuda_result(bt_cuda_causal_conv(f32(x), f32(history), f32(w), f32(bias), m, (int)width, kernel,
                                                 queue_on(x), err),
                             "causal_conv", err);
}
#endif
