/* test_cuda_ops.c - the ops of runtime/ops.h with their tensors on a CUDA device,
 * against the same ops on the CPU, on random inputs of odd sizes: weights placed
 * with bt_op_place_weight (ternary repacked, floats copied), the ternary linear
 * (both sides quantize the activations to the same int8, so they differ only in
 * the rounding of the final rescale: 1e-5 of the largest output), float linear
 * (1e-4: f32 sums in another order), grouped linears (exactly the single ones), norms, attention over a KV cache in
 * prefill and decode steps, elementwise ops and embedding rows (1e-5), RoPE
 * (5e-4 at positions up to 500: the CPU computes angles in f32, the GPU in double), a
 * TTT-Linear layer's ops over a stream; then the errors: tensors on two devices, a
 * ternary weight copied instead of placed, a CPU-only op, a bad token id. Skipped
 * without a GPU. */
#include "check.h"
#ifdef BT_HAVE_CUDA
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/cpu/ternary_format.h"
#include "runtime/ops.h"
#include "runtime/ops_ttt.h"
#include "test_cuda_util.h"

static const bt_device gpu = {BT_DEVICE_CUDA, 0};

/* A CPU f32 tensor of uniform values: [rows, cols], or [rows] when cols == 0. */
static bt_tensor *random_f32(int64_t rows, int64_t cols, cu_rng *r, float lo, float hi) {
    int64_t shape[2] = {rows, cols};
    bt_tensor *t = NULL;
    if (bt_tensor_new(&t, BT_F32, cols ? 2 : 1, shape, BT_CPU)) return NULL;
    float *p = bt_tensor_data(t);
    for (int64_t i = 0; i < bt_tensor_numel(t); i++) p[i] = cu_uniform(r, lo, hi);
    return t;
}

static bt_tensor *to_gpu(const bt_tensor *t) {
    bt_tensor *out = NULL;
    if (t && bt_tensor_to(&out, t, t->dtype, gpu)) return NULL;
    return out;
}

/* Largest |got - want| over the elements, in units of tol * max(1, max |want|); got is copied back. */
static double error_units(const bt_tensor *got_gpu, const bt_tensor *want, double tol) {
    bt_tensor *got = NULL;
    if (bt_tensor_to(&got, got_gpu, BT_F32, BT_CPU)) return INFINITY;
    const float *g = bt_tensor_data(got), *w = bt_tensor_data(want);
    int64_t n = bt_tensor_numel(want);
    double scale = 1.0, worst = 0.0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(w[i]));
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)g[i] - w[i]) / (tol * scale);
        if (isnan(e)) e = INFINITY;
        worst = fmax(worst, e);
    }
    bt_tensor_free(got);
    return worst;
}

/* Ternary weights [n, k] with values {-s, 0, +s}; mixed: odd 256-blocks of each row use 2s. */
static bt_tensor *random_ternary(bt_dtype dtype, int64_t n, int64_t k, int mixed, cu_rng *r) {
    bt_ternary_format f = dtype == BT_TQ2_0 ? BT_TERNARY_TQ2_0 : BT_TERNARY_I2_S;
    size_t bytes = bt_ternary_data_bytes(f, n, k);
    float *w = malloc((size_t)(n * k) * sizeof *w);
    void *buf = malloc(bytes);
    bt_tensor *t = NULL;
    int64_t shape[2] = {n, k};
    for (int64_t i = 0; i < n * k; i++)
        w[i] = (mixed && (i % k) / 256 % 2 ? 0.2f : 0.1f) * (float)(cu_int(r, 0, 2) - 1);
    if (w && buf && bt_ternary_pack(buf, bytes, f, w, n, k) == BT_OK &&
        bt_tensor_wrap(&t, dtype, 2, shape, buf, bytes, 1, free, buf) == BT_OK)
        buf = NULL;   /* the tensor owns it now */
    free(buf);
    free(w);
    return t;
}

/* out = x . W^T on both devices for m tokens; the error in units of tol. */
static double linear_case(bt_tensor *w_cpu, int64_t m, int act_quant, double tol, cu_rng *r) {
    int64_t n = w_cpu->shape[0], k = w_cpu->shape[1], shape[2] = {m, n};
    bt_tensor *x = random_f32(m, k, r, -3.0f, 3.0f), *xg = to_gpu(x), *wg = NULL, *out = NULL, *outg = NULL;
    double e = INFINITY;
    if (xg && !bt_op_place_weight(&wg, w_cpu, gpu) && !bt_tensor_new(&out, BT_F32, 2, shape, BT_CPU) &&
        !bt_tensor_new(&outg, BT_F32, 2, shape, gpu) && !bt_op_linear(out, w_cpu, x, act_quant) &&
        !bt_op_linear(outg, wg, xg, act_quant))
        e = error_units(outg, out, tol);
    else
        fprintf(stderr, "  linear m=%lld: %s\n", (long long)m, bt_last_error());
    bt_tensor_free(x), bt_tensor_free(xg), bt_tensor_free(wg), bt_tensor_free(out), bt_tensor_free(outg);
    return e;
}

BT_TEST(cuda_ops_linear_ternary) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ops_linear_ternary");
    static const struct { bt_dtype dtype; int mixed; const char *name; } kinds[] = {
        {BT_TQ2_0, 0, "tq2_0"}, {BT_TQ2_0, 1, "tq2_0 with per-block scales"}, {BT_I2_S, 0, "i2_s"}};
    static const int64_t rows[] = {1, 5, 8, 9, 37};
    for (size_t kind = 0; kind < sizeof kinds / sizeof kinds[0]; kind++) {
        int64_t n = cu_int(&r, 40, 90), k = 512;
        bt_tensor *w = random_ternary(kinds[kind].dtype, n, k, kinds[kind].mixed, &r);
        BT_CHECK(w, "%s: %s", kinds[kind].name, bt_last_error());
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            double e = linear_case(w, rows[i], 1, 1e-5, &r);
            if (e > 1.0) bt_tensor_free(w);
            BT_CHECK(e <= 1.0, "%s [%lld, %lld], m = %lld: error %.3g x tolerance", kinds[kind].name, (long long)n,
                     (long long)k, (long long)rows[i], e);
        }
        bt_tensor_free(w);
    }
}

BT_TEST(cuda_ops_linear_float) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ops_linear_float");
    static const int64_t rows[] = {1, 3, 20};
    for (int f16 = 0; f16 < 2; f16++) {
        int64_t n = cu_int(&r, 30, 70), k = cu_int(&r, 100, 300);
        bt_tensor *w32 = random_f32(n, k, &r, -1.0f, 1.0f), *w = NULL;
        BT_CHECK(w32 && !bt_tensor_to(&w, w32, f16 ? BT_F16 : BT_F32, BT_CPU), "%s", bt_last_error());
        bt_tensor_free(w32);
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            double e = linear_case(w, rows[i], 0, 1e-4, &r);
            if (e > 1.0) bt_tensor_free(w);
            BT_CHECK(e <= 1.0, "%s [%lld, %lld], m = %lld: error %.3g x tolerance", f16 ? "f16" : "f32", (long long)n,
                     (long long)k, (long long)rows[i], e);
        }
        bt_tensor_free(w);
    }
}

/* Runs `op` on the CPU tensors and on their GPU copies (same argument order), compares outputs. */
typedef struct pair { bt_tensor *c, *g; } pair;

static pair pair_random(int64_t rows, int64_t cols, cu_rng *r, float lo, float hi) {
    pair p = {random_f32(rows, cols, r, lo, hi), NULL};
    p.g = to_gpu(p.c);
    return p;
}

static pair pair_positions(int64_t m, int64_t pos0) {
    pair p = {NULL, NULL};
    int64_t shape[1] = {m};
    if (bt_tensor_new(&p.c, BT_I32, 1, shape, BT_CPU)) return p;
    for (int64_t i = 0; i < m; i++) ((int32_t *)bt_tensor_data(p.c))[i] = (int32_t)(pos0 + i);
    p.g = to_gpu(p.c);
    return p;
}

static void pair_free(pair p) { bt_tensor_free(p.c); bt_tensor_free(p.g); }

/* bt_op_linear_group on the GPU (one quantization, one launch where it can) gives exactly
 * what one bt_op_linear per weight gives there: ternary q/k/v-like groups (one with block
 * scales), decode and prefill row counts, and float weights (one linear each). */
BT_TEST(cuda_ops_linear_group) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ops_linear_group");
    const int64_t k = 768, rows[3] = {75, 21, 8};
    for (int kind = 0; kind < 3; kind++)
        for (int mi = 0; mi < 2; mi++) {
            const int64_t m = mi ? 40 : 1;
            bt_tensor *wc[3] = {NULL}, *wg[3] = {NULL}, *ys[3] = {NULL}, *yg[3] = {NULL};
            pair x = pair_random(m, k, &r, -2.0f, 2.0f);
            bt_status st = x.g ? BT_OK : BT_ERR_DEVICE;
            for (int i = 0; i < 3 && !st; i++) {
                int64_t shape[2] = {m, rows[i]};
                wc[i] = kind == 2 ? random_f32(rows[i], k, &r, -0.1f, 0.1f)
                                  : random_ternary(BT_TQ2_0, rows[i], k, kind == 1 && i == 1, &r);
                st = !wc[i] || bt_op_place_weight(&wg[i], wc[i], gpu) || bt_tensor_new(&ys[i], BT_F32, 2, shape, gpu) ||
                     bt_tensor_new(&yg[i], BT_F32, 2, shape, gpu);
            }
            for (int i = 0; i < 3 && !st; i++) st = bt_op_linear(ys[i], wg[i], x.g, kind != 2);
            if (!st) st = bt_op_linear_group(yg, wg, 3, x.g, kind != 2);
            double e = 0.0;
            for (int i = 0; i < 3 && !st; i++) {
                bt_tensor *want = NULL;
                st = bt_tensor_to(&want, ys[i], BT_F32, BT_CPU);
                if (!st) e = fmax(e, error_units(yg[i], want, 1e-30));   /* exact */
                bt_tensor_free(want);
            }
            BT_CHECK(!st, "%s", bt_last_error());
            BT_CHECK(e <= 1.0, "%s, m %lld: the group differs from single linears (%.3g)",
                     kind == 0 ? "tq2_0" : kind == 1 ? "tq2_0 with block scales" : "f32", (long long)m, e);
            for (int i = 0; i < 3; i++) bt_tensor_free(wc[i]), bt_tensor_free(wg[i]), bt_tensor_free(ys[i]), bt_tensor_free(yg[i]);
            pair_free(x);
        }
}

BT_TEST(cuda_ops_norm_rope_elementwise) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ops_norm_rope_elementwise");
    int64_t m = cu_int(&r, 2, 11), n = 4 * cu_int(&r, 20, 60);
    pair x = pair_random(m, n, &r, -2.0f, 2.0f), y = pair_random(m, n, &r, -2.0f, 2.0f);
    pair w = pair_random(n, 0, &r, 0.5f, 1.5f), out = pair_random(m, n, &r, 0.0f, 0.0f);
    pair pos = pair_positions(m, cu_int(&r, 0, 500));
    BT_CHECK(x.g && y.g && w.g && out.g && pos.g, "%s", bt_last_error());
    const char *what = "";
    double e = 0.0, tol = 1e-5;
    bt_status st = BT_OK;
    for (int step = 0; step < 9 && !st && e <= 1.0; step++) {
        bt_tensor *oc = out.c, *og = out.g;
        switch (step) {
        case 0: what = "rmsnorm"; st = bt_op_rmsnorm(oc, x.c, w.c, 1e-5f) || bt_op_rmsnorm(og, x.g, w.g, 1e-5f); break;
        case 1: what = "rmsnorm without weight"; st = bt_op_rmsnorm(oc, x.c, NULL, 1e-6f) || bt_op_rmsnorm(og, x.g, NULL, 1e-6f); break;
        case 2: what = "gated silu"; st = bt_op_gated(oc, x.c, y.c, BT_OP_SILU) || bt_op_gated(og, x.g, y.g, BT_OP_SILU); break;
        case 3: what = "gated relu2"; st = bt_op_gated(oc, x.c, y.c, BT_OP_RELU2) || bt_op_gated(og, x.g, y.g, BT_OP_RELU2); break;
        case 4: what = "activate silu"; st = bt_op_activate(oc, x.c, BT_OP_SILU) || bt_op_activate(og, x.g, BT_OP_SILU); break;
        case 5: what = "add"; st = bt_op_add(oc, x.c, y.c) || bt_op_add(og, x.g, y.g); break;
        case 6: what = "mul"; st = bt_op_mul(oc, x.c, y.c) || bt_op_mul(og, x.g, y.g); break;
        case 7: /* RoPE in place on copies of x: interleaved over 4 heads of n/4, rotary dim n/8 rounded to even */
            what = "rope interleaved";
            tol = 5e-4;
            st = bt_tensor_copy(oc, x.c) || bt_tensor_copy(og, x.g) ||
                 bt_op_rope(oc, pos.c, 4, (int)n / 4, (int)(n / 8) & ~1, 10000.0f, BT_OP_ROPE_INTERLEAVED) ||
                 bt_op_rope(og, pos.g, 4, (int)n / 4, (int)(n / 8) & ~1, 10000.0f, BT_OP_ROPE_INTERLEAVED);
            break;
        case 8:
            what = "rope neox";
            st = bt_tensor_copy(oc, x.c) || bt_tensor_copy(og, x.g) ||
                 bt_op_rope(oc, pos.c, 2, (int)n / 2, (int)n / 2, 500000.0f, BT_OP_ROPE_NEOX) ||
                 bt_op_rope(og, pos.g, 2, (int)n / 2, (int)n / 2, 500000.0f, BT_OP_ROPE_NEOX);
            break;
        }
        if (!st) e = error_units(og, oc, tol);
    }
    pair_free(x), pair_free(y), pair_free(w), pair_free(out), pair_free(pos);
    BT_CHECK(!st, "%s: %s", what, bt_last_error());
    BT_CHECK(e <= 1.0, "%s [%lld, %lld]: error %.3g x tolerance", what, (long long)m, (long long)n, e);
}

/* A TTT-Linear layer's ops on the GPU against the CPU over a stream fed in calls of
 * random lengths (single tokens too) crossing mini-batch boundaries: the causal convs,
 * LayerNorm, inner learning rates, TTT-Linear with forgetting (outputs and the state).
 * The GPU sums in other orders: outputs within 2e-4 of the largest, state within 2e-5. */
BT_TEST(cuda_ops_ttt_layer) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ops_ttt_layer");
    const int64_t H = 3, hd = 16, width = H * hd, B = 4, K = 3, T = 23;
    pair xq = pair_random(T, width, &r, -1.0f, 1.0f), xk = pair_random(T, width, &r, -1.0f, 1.0f);
    pair xv = pair_random(T, width, &r, -1.0f, 1.0f), logit = pair_random(T, H, &r, -3.0f, 3.0f);
    pair z = pair_random(T, width, &r, 0.0f, 0.0f), lr_bias = pair_random(H, 0, &r, -1.0f, 1.0f);
    pair mult = pair_random(T, 0, &r, 0.5f, 1.5f), scale = pair_random(B, 0, &r, 0.2f, 1.0f);
    pair ln_w = pair_random(width, 0, &r, 0.8f, 1.2f), ln_b = pair_random(width, 0, &r, -0.1f, 0.1f);
    pair conv_w = pair_random(K, width, &r, -0.5f, 0.5f), conv_b = pair_random(width, 0, &r, -0.1f, 0.1f);
    pair hist = pair_random(K - 1, width, &r, 0.0f, 0.0f);
    int64_t state_shape[3] = {H, hd + 1, hd};
    bt_tensor *w0 = NULL, *wc = NULL, *gc = NULL, *wg = NULL, *gg = NULL, *w0g = NULL, *scratch = NULL;
    int64_t scratch_n = (int64_t)bt_op_ttt_linear_scratch_floats(B, (int)H, (int)hd);
    bt_status st = bt_tensor_new(&w0, BT_F32, 3, state_shape, BT_CPU) ||
                   bt_tensor_new(&gc, BT_F32, 3, state_shape, BT_CPU) || bt_tensor_new(&scratch, BT_F32, 1, &scratch_n, BT_CPU);
    if (!st) {
        float *p = bt_tensor_data(w0);
        for (int64_t i = 0; i < bt_tensor_numel(w0); i++) p[i] = cu_uniform(&r, -0.2f, 0.2f);
        memset(bt_tensor_data(gc), 0, bt_tensor_nbytes(gc));
        st = bt_tensor_to(&wc, w0, BT_F32, BT_CPU) || !(wg = to_gpu(w0)) || !(gg = to_gpu(gc)) || !(w0g = to_gpu(w0));
    }
    BT_CHECK(!st && xq.g && xk.g && xv.g && logit.g && z.g && lr_bias.g && mult.g && scale.g && ln_w.g && ln_b.g &&
                 conv_w.g && conv_b.g && hist.g, "%s", bt_last_error());
    const bt_ttt_decay decay_c = {w0, 0.9f}, decay_g = {w0g, 0.9f};
    double e = 0.0;
    const char *what = "";
    for (int64_t t = 0; t < T && !st && e <= 1.0;) {
        const int64_t n = t == 0 ? 1 : cu_int(&r, 1, (int)(T - t < 7 ? T - t : 7));
        bt_tensor *v[2][6] = {{NULL}};   /* [cpu, gpu] views of rows t .. t+n-1: xq xk xv logit z mult */
        pair *rows[6] = {&xq, &xk, &xv, &logit, &z, &mult};
        for (int d = 0; d < 2 && !st; d++)
            for (int i = 0; i < 6 && !st; i++) st = bt_tensor_narrow(&v[d][i], d ? rows[i]->g : rows[i]->c, 0, t, n);
        for (int d = 0; d < 2 && !st; d++) {
            bt_tensor *q = v[d][0], *k = v[d][1], *vv = v[d][2], *eta = v[d][3], *out = v[d][4], *mu = v[d][5];
            st = bt_op_causal_conv(q, d ? hist.g : hist.c, d ? conv_w.g : conv_w.c, d ? conv_b.g : conv_b.c) ||
                 bt_op_ttt_eta(eta, d ? lr_bias.g : lr_bias.c, mu, 0.1f) ||
                 bt_op_ttt_linear(out, d ? wg : wc, d ? gg : gc, q, k, vv, eta, d ? scale.g : scale.c,
                                  d ? ln_w.g : ln_w.c, d ? ln_b.g : ln_b.c, 1e-6f, t, d ? NULL : scratch,
                                  BT_TTT_FORM_AUTO, d ? &decay_g : &decay_c) ||
                 bt_op_layernorm(out, out, d ? ln_w.g : ln_w.c, d ? ln_b.g : ln_b.c, 1e-6f);
        }
        for (int d = 0; d < 2; d++)
            for (int i = 0; i < 6; i++) bt_tensor_free(v[d][i]);
        if (!st) {
            what = "conv'd queries";
            e = error_units(xq.g, xq.c, 1e-5);
            if (e <= 1.0) what = "outputs", e = error_units(z.g, z.c, 2e-4);
            if (e <= 1.0) what = "fast weights", e = error_units(wg, wc, 2e-5);
            if (e <= 1.0) what = "conv history", e = error_units(hist.g, hist.c, 1e-6);
        }
        t += n;
    }
    BT_CHECK(!st, "%s", bt_last_error());
    BT_CHECK(e <= 1.0, "%s: error %.3g x tolerance", what, e);
    pair_free(xq), pair_free(xk), pair_free(xv), pair_free(logit), pair_free(z), pair_free(lr_bias), pair_free(mult);
    pair_free(scale), pair_free(ln_w), pair_free(ln_b), pair_free(conv_w), pair_free(conv_b), pair_free(hist);
    bt_tensor_free(w0), bt_tensor_free(wc), bt_tensor_free(gc), bt_tensor_free(wg), bt_tensor_free(gg);
    bt_tensor_free(w0g), bt_tensor_free(scratch);
}

BT_TEST(cuda_ops_attention_prefill_then_decode) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ops_attention_prefill_then_decode");
    const int n_head = 8, n_kv = 2, hd = 64;
    const int64_t ctx = cu_int(&r, 20, 40), steps[][2] = {{0, 9}, {9, 1}, {10, 3}, {13, 1}};   /* {pos0, m} */
    int64_t cache_shape[3] = {n_kv, ctx, hd};
    pair kc = {NULL, NULL}, vc = {NULL, NULL};
    bt_status st = bt_tensor_new(&kc.c, BT_F32, 3, cache_shape, BT_CPU) || bt_tensor_new(&vc.c, BT_F32, 3, cache_shape, BT_CPU);
    if (!st) { kc.g = to_gpu(kc.c); vc.g = to_gpu(vc.c); }
    BT_CHECK(!st && kc.g && vc.g, "%s", bt_last_error());
    double e = 0.0;
    int64_t at = 0;
    for (size_t s = 0; s < sizeof steps / sizeof steps[0] && !st && e <= 1.0; s++) {
        int64_t pos0 = steps[s][0], m = steps[s][1];
        at = pos0;
        pair q = pair_random(m, n_head * hd, &r, -1.0f, 1.0f), k = pair_random(m, n_kv * hd, &r, -1.0f, 1.0f);
        pair v = pair_random(m, n_kv * hd, &r, -1.0f, 1.0f), out = pair_random(m, n_head * hd, &r, 0.0f, 0.0f);
        st = bt_op_attention(out.c, q.c, k.c, v.c, kc.c, vc.c, pos0, n_head, 0.125f) ||
             bt_op_attention(out.g, q.g, k.g, v.g, kc.g, vc.g, pos0, n_head, 0.125f);
        if (!st) e = fmax(error_units(out.g, out.c, 1e-5), error_units(kc.g, kc.c, 1e-6));
        pair_free(q), pair_free(k), pair_free(v), pair_free(out);
    }
    pair_free(kc), pair_free(vc);
    BT_CHECK(!st, "step at position %lld: %s", (long long)at, bt_last_error());
    BT_CHECK(e <= 1.0, "step at position %lld: error %.3g x tolerance", (long long)at, e);
}

BT_TEST(cuda_ops_get_rows) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ops_get_rows");
    int64_t vocab = cu_int(&r, 50, 300), d = 4 * cu_int(&r, 8, 40), m = cu_int(&r, 1, 17), id_shape[1] = {m};
    bt_tensor *t32 = random_f32(vocab, d, &r, -1.0f, 1.0f), *table = NULL, *ids = NULL;
    bt_status st = bt_tensor_to(&table, t32, BT_F16, BT_CPU) || bt_tensor_new(&ids, BT_I32, 1, id_shape, BT_CPU);
    bt_tensor_free(t32);
    BT_CHECK(!st, "%s", bt_last_error());
    for (int64_t i = 0; i < m; i++) ((int32_t *)bt_tensor_data(ids))[i] = cu_int(&r, 0, (int)vocab - 1);
    pair out = pair_random(m, d, &r, 0.0f, 0.0f);
    bt_tensor *tg = NULL, *idg = to_gpu(ids);
    st = bt_op_place_weight(&tg, table, gpu) || !idg || bt_op_get_rows(out.c, table, ids) || bt_op_get_rows(out.g, tg, idg);
    double e = st ? INFINITY : error_units(out.g, out.c, 1e-6);
    /* an id out of range is an error, not a row of NaN */
    ((int32_t *)bt_tensor_data(ids))[m - 1] = (int32_t)vocab;
    int bad_id_reported = 0;
    if (!st && !bt_tensor_copy(idg, ids))
        bad_id_reported = bt_op_get_rows(out.g, tg, idg) == BT_ERR_ARG && strstr(bt_last_error(), "out of range");
    bt_tensor_free(table), bt_tensor_free(ids), bt_tensor_free(tg), bt_tensor_free(idg), pair_free(out);
    BT_CHECK(!st, "%s", bt_last_error());
    BT_CHECK(e <= 1.0, "rows differ: %.3g x tolerance", e);
    BT_CHECK(bad_id_reported, "a token id out of range was not reported");
}

BT_TEST(cuda_ops_errors) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_ops_errors");
    pair x = pair_random(3, 512, &r, -1.0f, 1.0f), out = pair_random(3, 40, &r, 0.0f, 0.0f);
    bt_tensor *w = random_ternary(BT_TQ2_0, 40, 512, 0, &r), *wg = NULL, *copied = NULL;
    BT_CHECK(x.g && out.g && w && !bt_op_place_weight(&wg, w, gpu) && !bt_tensor_to(&copied, w, w->dtype, gpu),
             "%s", bt_last_error());
    char mixed[256], unplaced[256], cpu_only[256];
    bt_status st_mixed = bt_op_linear(out.c, wg, x.g, 1);
    snprintf(mixed, sizeof mixed, "%s", bt_last_error());
    bt_status st_unplaced = bt_op_linear(out.g, copied, x.g, 1);
    snprintf(unplaced, sizeof unplaced, "%s", bt_last_error());
    bt_status st_cpu_only = bt_op_scale(x.g, x.g, 2.0f);
    snprintf(cpu_only, sizeof cpu_only, "%s", bt_last_error());
    bt_status st_good = bt_op_linear(out.g, wg, x.g, 1);
    pair_free(x), pair_free(out), bt_tensor_free(w), bt_tensor_free(wg), bt_tensor_free(copied);
    BT_CHECK(st_mixed == BT_ERR_DEVICE && strstr(mixed, "one device"), "tensors on two devices: '%s'", mixed);
    BT_CHECK(st_unplaced != BT_OK && strstr(unplaced, "place_weight"), "a ternary weight copied, not placed: '%s'", unplaced);
    BT_CHECK(st_cpu_only == BT_ERR_UNSUPPORTED && strstr(cpu_only, "CPU only"), "scale on the GPU: '%s'", cpu_only);
    BT_CHECK(st_good == BT_OK, "after the errors, a good call must still work: %s", bt_last_error());
}

#endif
