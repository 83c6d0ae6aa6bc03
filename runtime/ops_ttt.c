/* ops_ttt.c - shape/dtype/device checks in front of the TTT kernels (see ops_ttt.h). */
#include "ops_ttt.h"
#include <inttypes.h>
#include "ops_cuda.h"
#include "ops_devices.h"
#include "kernels/cpu/causal_conv.h"
#include "kernels/cpu/ttt_fastweight.h"
#include "kernels/cpu/ttt_linear.h"
#include "kernels/cpu/ttt_mlp.h"
#include "interrupt.h"
#include "threads.h"

/* A contiguous f32 tensor (on any device: each op checks they share one); its element count in *numel. */
static bt_status check_f32(const char *op, const bt_tensor *t, const char *what, int64_t *numel) {
    if (!t) return bt_set_error(BT_ERR_ARG, "%s: %s is missing", op, what);
    if (t->dtype != BT_F32)
        return bt_set_error(BT_ERR_ARG, "%s: %s must be f32, got %s", op, what, bt_dtype_get_info(t->dtype)->name);
    if (!bt_tensor_is_contiguous(t)) return bt_set_error(BT_ERR_ARG, "%s: %s must be contiguous", op, what);
    *numel = bt_tensor_numel(t);
    return BT_OK;
}

/* A contiguous f32 tensor of exactly n elements (any shape). */
static bt_status check_count(const char *op, const bt_tensor *t, const char *what, int64_t n) {
    int64_t numel = 0;
    bt_status st = check_f32(op, t, what, &numel);
    if (st) return st;
    if (numel != n)
        return bt_set_error(BT_ERR_ARG, "%s: %s must hold %" PRId64 " values, got %" PRId64, op, what, n, numel);
    return BT_OK;
}

/* A contiguous f32 matrix [rows, cols] (2-d). */
static bt_status check_matrix(const char *op, const bt_tensor *t, const char *what, int64_t rows, int64_t cols) {
    int64_t numel = 0;
    bt_status st = check_f32(op, t, what, &numel);
    if (st) return st;
    if (t->ndim != 2 || t->shape[0] != rows || t->shape[1] != cols)
        return bt_set_error(BT_ERR_ARG, "%s: %s must be [%" PRId64 ", %" PRId64 "]", op, what, rows, cols);
    return BT_OK;
}

static float *f32(const bt_tensor *t) { return t ? (float *)bt_tensor_data(t) : NULL; }

bt_status bt_op_ttt_eta(bt_tensor *eta, const bt_tensor *bias, const bt_tensor *mult, float scale) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "ttt_eta";
    int64_t numel = 0;
    bt_status st = check_f32(op, eta, "eta", &numel);
    if (st) return st;
    if (eta->ndim != 2) return bt_set_error(BT_ERR_ARG, "%s: eta must be [m, n_head], got %d-d", op, eta->ndim);
    const int64_t m = eta->shape[0], n_head = eta->shape[1];
    bt_device dev = BT_CPU;
    if ((st = check_count(op, bias, "bias", n_head)) || (mult && (st = check_count(op, mult, "multipliers", m))) ||
        (st = ONE_DEVICE(op, &dev, {eta, "eta"}, {bias, "bias"}, {mult, "multipliers"})) || (st = WRITABLE(op, {eta, "eta"})))
        return st;
    BT_OP_ON_CUDA(dev, bt_op_cuda_ttt_eta(eta, bias, mult, scale, m, n_head));
    bt_ttt_eta(f32(eta), f32(eta), f32(bias), f32(mult), scale, m, (int)n_head);
    return BT_OK;
}

size_t bt_op_ttt_linear_scratch_floats(int64_t max_tok, int n_head, int head_dim) {
    return bt_ttt_linear_scratch_floats((int)(max_tok > 1 ? max_tok : 1), n_head, head_dim);
}

/* The checks TTT-Linear and TTT-MLP share: out, xq, xk, xv [m, n_head * d], eta [m, n_head], the token
 * scales (their count is the mini-batch size, in *mini_batch), the inner norm; the device in *dev. */
static bt_status check_inner(const char *op, const bt_tensor *out, const bt_tensor *xq, const bt_tensor *xk,
                             const bt_tensor *xv, const bt_tensor *eta, const bt_tensor *token_scale,
                             const bt_tensor *ln_w, const bt_tensor *ln_b, int64_t n_head, int64_t d, int64_t pos0,
                             int64_t *mini_batch, bt_device *dev) {
    const int64_t width = n_head * d;
    int64_t numel = 0;
    bt_status st;
    if ((st = check_f32(op, out, "out", &numel))) return st;
    if (out->ndim != 2 || out->shape[1] != width)
        return bt_set_error(BT_ERR_ARG, "%s: out must be [m, %" PRId64 "] (%" PRId64 " heads of %" PRId64 ")", op,
                            width, n_head, d);
    const int64_t m = out->shape[0];
    if ((st = check_matrix(op, xq, "xq", m, width)) || (st = check_matrix(op, xk, "xk", m, width)) ||
        (st = check_matrix(op, xv, "xv", m, width)) || (st = check_matrix(op, eta, "eta", m, n_head)) ||
        (st = check_f32(op, token_scale, "token scales", mini_batch)) ||
        (st = check_count(op, ln_w, "norm weight", width)) || (st = check_count(op, ln_b, "norm bias", width)))
        return st;
    if (*mini_batch < 1) return bt_set_error(BT_ERR_ARG, "%s: token scales are empty (mini-batch size 0)", op);
    if (pos0 < 0) return bt_set_error(BT_ERR_ARG, "%s: negative position %" PRId64, op, pos0);
    if (f32(out) == f32(xq) || f32(out) == f32(xk) || f32(out) == f32(xv))
        return bt_set_error(BT_ERR_ARG, "%s: out may not alias xq, xk or xv", op);
    return ONE_DEVICE(op, dev, {out, "out"}, {xq, "xq"}, {xk, "xk"}, {xv, "xv"}, {eta, "eta"},
                      {token_scale, "token scales"}, {ln_w, "norm weight"}, {ln_b, "norm bias"});
}

/* The CPU kernels' scratch: at least `need` floats on the device of out. */
static bt_status check_scratch(const char *op, const bt_tensor *scratch, const bt_tensor *out, size_t need) {
    int64_t scratch_n = 0;
    bt_device dev = BT_CPU;
    bt_status st;
    if ((st = check_f32(op, scratch, "scratch", &scratch_n)) || (st = ONE_DEVICE(op, &dev, {out, "out"}, {scratch, "scratch"})))
        return st;
    if ((size_t)scratch_n < need)
        return bt_set_error(BT_ERR_ARG, "%s: scratch holds %" PRId64 " floats, %zu needed", op, scratch_n, need);
    return BT_OK;
}

/* Both TTT ops take auto, dual or primal; anything else is refused, never run as one of them. */
static bt_status check_form(const char *op, bt_ttt_form form) {
    if (form == BT_TTT_FORM_AUTO || form == BT_TTT_FORM_DUAL || form == BT_TTT_FORM_PRIMAL) return BT_OK;
    return bt_set_error(BT_ERR_ARG, "%s: unknown form %d (expected auto %d, dual %d or primal %d)", op, (int)form,
                        (int)BT_TTT_FORM_AUTO, (int)BT_TTT_FORM_DUAL, (int)BT_TTT_FORM_PRIMAL);
}

/* The span of n tokens `done` tokens into the call (in-batch index first). */
static bt_ttt_linear_span span_of(const bt_tensor *xq, const bt_tensor *xk, const bt_tensor *xv, const bt_tensor *eta,
                                  const bt_tensor *token_scale, int64_t done, int64_t first, int64_t n,
                                  int64_t mini_batch) {
    const int64_t width = xq->shape[1], n_head = eta->shape[1];
    return (bt_ttt_linear_span){.xq = f32(xq) + done * width, .xk = f32(xk) + done * width,
                                .xv = f32(xv) + done * width, .eta = f32(eta) + done * n_head,
                                .token_scale = f32(token_scale), .row_stride = width, .first = (int)first,
                                .n_tok = (int)n, .mini_batch = (int)mini_batch};
}

bt_status bt_op_ttt_linear(bt_tensor *out, bt_tensor *weights, bt_tensor *grads, const bt_tensor *xq,
                           const bt_tensor *xk, const bt_tensor *xv, const bt_tensor *eta,
                           const bt_tensor *token_scale, const bt_tensor *ln_w, const bt_tensor *ln_b, float eps,
                           int64_t pos0, bt_tensor *scratch, bt_ttt_form form, const bt_ttt_decay *decay) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "ttt_linear";
    int64_t numel = 0, mini_batch = 0;
    bt_status st;
    if ((st = check_form(op, form)) || (st = check_f32(op, weights, "fast weights", &numel))) return st;
    if (weights->ndim != 3 || weights->shape[1] != weights->shape[2] + 1)
        return bt_set_error(BT_ERR_ARG, "%s: fast weights must be [n_head, head_dim + 1, head_dim]", op);
    const int64_t n_head = weights->shape[0], d = weights->shape[2], width = n_head * d;
    bt_device dev = BT_CPU;
    if ((st = check_inner(op, out, xq, xk, xv, eta, token_scale, ln_w, ln_b, n_head, d, pos0, &mini_batch, &dev)) ||
        (st = check_count(op, grads, "gradient sums", n_head * (d + 1) * d)))
        return st;
    const int64_t m = out->shape[0];
    if (decay) {
        if (!(decay->keep >= 0.0f && decay->keep <= 1.0f))
            return bt_set_error(BT_ERR_ARG, "%s: decay keeps %g of the weights; expected 0 to 1", op, decay->keep);
        if ((st = check_count(op, decay->toward, "decay target", n_head * (d + 1) * d))) return st;
    }
    if ((st = ONE_DEVICE(op, &dev, {out, "out"}, {weights, "fast weights"}, {grads, "gradient sums"},
                         {decay ? decay->toward : NULL, "decay target"})) ||
        (st = WRITABLE(op, {out, "out"}, {weights, "fast weights"}, {grads, "gradient sums"}, {scratch, "scratch"})))
        return st;
    BT_OP_ON_CUDA(dev, bt_op_cuda_ttt_linear(out, weights, grads, xq, xk, xv, eta, token_scale, ln_w, ln_b, eps, pos0,
                                             form, decay, m, n_head, d, mini_batch));
    const int64_t max_span = m < mini_batch ? m : mini_batch;
    if ((st = check_scratch(op, scratch, out, bt_op_ttt_linear_scratch_floats(max_span, (int)n_head, (int)d))))
        return st;

    bt_apply_num_threads();
    const bt_ttt_linear_norm norm = {f32(ln_w), f32(ln_b), eps};
    for (int64_t j = 0; j < m;) {
        int64_t first;
        const int64_t n = bt_ttt_span_at(pos0, j, m, mini_batch, &first);
        const bt_ttt_linear_span span = span_of(xq, xk, xv, eta, token_scale, j, first, n, mini_batch);
        const int primal = bt_ttt_span_primal(form, n);
        (primal ? bt_ttt_linear_primal : bt_ttt_linear_dual)(f32(out) + j * width, f32(weights), f32(grads), &span,
                                                              &norm, (int)n_head, (int)d, f32(scratch));
        if (decay && decay->keep < 1.0f && first + n == mini_batch)
            bt_ttt_linear_decay(f32(weights), f32(decay->toward), decay->keep, (size_t)(n_head * (d + 1) * d));
        j += n;
    }
    return BT_OK;
}

size_t bt_op_ttt_mlp_scratch_floats(int64_t max_tok, int n_head, int head_dim, int hidden) {
    return bt_ttt_mlp_scratch_floats((int)(max_tok > 1 ? max_tok : 1), n_head, head_dim, hidden);
}

bt_status bt_op_ttt_mlp(bt_tensor *out, bt_tensor *weights, bt_tensor *grads, const bt_tensor *xq,
                        const bt_tensor *xk, const bt_tensor *xv, const bt_tensor *eta, const bt_tensor *token_scale,
                        const bt_tensor *ln_w, const bt_tensor *ln_b, float eps, int64_t pos0, int hidden,
                        bt_tensor *scratch, bt_ttt_form form) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "ttt_mlp";
    int64_t numel = 0, mini_batch = 0;
    bt_status st;
    if ((st = check_form(op, form)) || (st = check_f32(op, weights, "fast weights", &numel))) return st;
    if (weights->ndim != 2 || weights->shape[0] < 1 || hidden < 1)
        return bt_set_error(BT_ERR_ARG, "%s: fast weights must be [n_head, (d + 1) * F + (F + 1) * d] (F = %d)", op,
                            hidden);
    const int64_t n_head = weights->shape[0], F = hidden;
    /* (d + 1) F + (F + 1) d = d (2F + 1) + F */
    const int64_t d = (weights->shape[1] - F) / (2 * F + 1), width = n_head * d;
    if (d < 1 || (int64_t)bt_ttt_mlp_head_floats((int)d, (int)F) != weights->shape[1])
        return bt_set_error(BT_ERR_ARG, "%s: fast weights of %" PRId64 " floats per head fit no head size with F = %d",
                            op, weights->shape[1], hidden);
    bt_device dev = BT_CPU;
    if ((st = check_inner(op, out, xq, xk, xv, eta, token_scale, ln_w, ln_b, n_head, d, pos0, &mini_batch, &dev)) ||
        (st = check_matrix(op, grads, "gradient sums", n_head, weights->shape[1])) ||
        (st = ONE_DEVICE(op, &dev, {out, "out"}, {weights, "fast weights"}, {grads, "gradient sums"})) ||
        (st = WRITABLE(op, {out, "out"}, {weights, "fast weights"}, {grads, "gradient sums"}, {scratch, "scratch"})) ||
        (st = bt_op_require_cpu(op, dev)))
        return st;
    const int64_t m = out->shape[0], max_span = m < mini_batch ? m : mini_batch;
    if ((st = check_scratch(op, scratch, out, bt_op_ttt_mlp_scratch_floats(max_span, (int)n_head, (int)d, hidden))))
        return st;

    bt_apply_num_threads();
    const bt_ttt_linear_norm norm = {f32(ln_w), f32(ln_b), eps};
    for (int64_t j = 0; j < m;) {
        int64_t first;
        const int64_t n = bt_ttt_span_at(pos0, j, m, mini_batch, &first);
        const bt_ttt_linear_span span = span_of(xq, xk, xv, eta, token_scale, j, first, n, mini_batch);
        (bt_ttt_span_primal(form, n) ? bt_ttt_mlp_primal : bt_ttt_mlp_dual)(
            f32(out) + j * width, f32(weights), f32(grads), &span, &norm, (int)n_head, (int)d, hidden, f32(scratch));
        j += n;
    }
    return BT_OK;
}

bt_status bt_op_gelu_gate(bt_tensor *x, const bt_tensor *gate) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "gelu_gate";
    int64_t numel = 0;
    bt_status st = check_f32(op, x, "x", &numel);
    if (st) return st;
    if (x->ndim != 2) return bt_set_error(BT_ERR_ARG, "%s: x must be [m, width], got %d-d", op, x->ndim);
    bt_device dev = BT_CPU;
    if ((st = check_matrix(op, gate, "gate", x->shape[0], x->shape[1])) ||
        (st = ONE_DEVICE(op, &dev, {x, "x"}, {gate, "gate"})) || (st = WRITABLE(op, {x, "x"})) ||
        (st = bt_op_require_cpu(op, dev)))
        return st;
    bt_gelu_tanh_gate(f32(x), f32(gate), numel);
    return BT_OK;
}

bt_status bt_op_fastweight(bt_tensor *p, bt_tensor *W, bt_tensor *k, const bt_tensor *eta) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "fastweight";
    int64_t numel = 0;
    bt_status st = check_f32(op, k, "k", &numel);
    if (st) return st;
    if (k->ndim != 2) return bt_set_error(BT_ERR_ARG, "%s: k must be [m, d], got %d-d", op, k->ndim);
    const int64_t m = k->shape[0], d = k->shape[1];
    bt_device dev = BT_CPU;
    if ((st = check_matrix(op, p, "p", m, d)) || (st = check_matrix(op, W, "W", d, d)) ||
        (st = check_count(op, eta, "eta", m)) ||
        (st = ONE_DEVICE(op, &dev, {p, "p"}, {W, "W"}, {k, "k"}, {eta, "eta"})) || (st = bt_op_require_cpu(op, dev)) ||
        (st = WRITABLE(op, {p, "p"}, {W, "W"}, {k, "k"})))
        return st;
    if (f32(p) == f32(k)) return bt_set_error(BT_ERR_ARG, "%s: p may not alias k", op);
    bt_apply_num_threads();
    bt_fastweight_forward(f32(p), f32(W), f32(k), f32(eta), m, (int)d);
    return BT_OK;
}

bt_status bt_op_causal_conv(bt_tensor *x, bt_tensor *history, const bt_tensor *w, const bt_tensor *bias) {
    if (bt_interrupted()) return bt_interrupt_error();
    const char *op = "causal_conv";
    int64_t numel = 0;
    bt_status st;
    if ((st = check_f32(op, x, "x", &numel)) || (st = check_f32(op, w, "conv weight", &numel))) return st;
    if (x->ndim != 2) return bt_set_error(BT_ERR_ARG, "%s: x must be [m, width], got %d-d", op, x->ndim);
    if (w->ndim != 2) return bt_set_error(BT_ERR_ARG, "%s: conv weight must be [kernel, width], got %d-d", op, w->ndim);
    const int64_t m = x->shape[0], width = x->shape[1], K = w->shape[0];
    if (K < 1 || K > BT_CAUSAL_CONV_MAX_KERNEL)
        return bt_set_error(BT_ERR_ARG, "%s: kernel size %" PRId64 " is outside 1..%d", op, K,
                            (int)BT_CAUSAL_CONV_MAX_KERNEL);
    if ((st = check_matrix(op, w, "conv weight", K, width)) ||
        ((K > 1 || history) && (st = check_count(op, history, "history", (K - 1) * width))) ||
        (bias && (st = check_count(op, bias, "bias", width))))
        return st;
    bt_device dev = BT_CPU;
    if ((st = ONE_DEVICE(op, &dev, {x, "x"}, {history, "history"}, {w, "conv weight"}, {bias, "bias"})) ||
        (st = WRITABLE(op, {x, "x"}, {history, "history"})))
        return st;
    BT_OP_ON_CUDA(dev, bt_op_cuda_causal_conv(x, history, w, bias, m, width, (int)K));
    bt_apply_num_threads();
    bt_causal_conv(f32(x), f32(history), f32(w), f32(bias), m, width, (int)K);
    return BT_OK;
}
