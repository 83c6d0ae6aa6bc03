/* mixers.c - the per-layer token mixers of the C forward pass, one call per
 * Lua mixer method (lua/bitttt/mixers/{attention,ttt_linear,fastweight}.lua):
 * their per-session state (new / reset) and their forward over m rows. The
 * ops and their arguments are the Lua graphs', so results are bit for bit the same. */
#include "capi_internal.h"

/* A TTT-Linear state's tensors, in sorted name order: [conv_k_history, conv_q_history,] grads, weights
 * (the histories only with convs of 2 taps or more; NULL otherwise). */
#define TTT_CONV_K_HISTORY(st) ((st)->n == 4 ? (st)->t[0] : NULL)
#define TTT_CONV_Q_HISTORY(st) ((st)->n == 4 ? (st)->t[1] : NULL)
#define TTT_GRADS(st) ((st)->t[(st)->n - 2])
#define TTT_WEIGHTS(st) ((st)->t[(st)->n - 1])

bt_status bt_capi_mixer_new_state(const bt_layer_weights *L, bt_layer_state *st, int64_t n_ctx) {
    bt_status s = BT_OK;
    if (L->kind == BT_MIXER_ATTENTION) {
        const int64_t shape[3] = {L->attn.n_head_kv, n_ctx, L->attn.head_dim};
        *st = (bt_layer_state){2, {"k_cache", "v_cache"}, {NULL, NULL}};
        if (!(s = bt_tensor_new(&st->t[0], BT_F32, 3, shape, BT_CPU))) s = bt_tensor_new(&st->t[1], BT_F32, 3, shape, BT_CPU);
    } else if (L->kind == BT_MIXER_TTT_LINEAR) {
        const bt_ttt_linear_weights *t = &L->ttt;
        if (t->conv_kernel > 1) {
            const int64_t history[2] = {t->conv_kernel - 1, (int64_t)t->n_head * t->head_dim};
            *st = (bt_layer_state){4, {"conv_k_history", "conv_q_history", "grads", "weights"}, {NULL}};
            if (!(s = bt_tensor_new(&st->t[0], BT_F32, 2, history, BT_CPU)))
                s = bt_tensor_new(&st->t[1], BT_F32, 2, history, BT_CPU);
        } else {
            *st = (bt_layer_state){2, {"grads", "weights"}, {NULL}};
        }
        if (!s && !(s = bt_tensor_new(&TTT_GRADS(st), BT_F32, 3, t->initial->shape, BT_CPU)) &&
            !(s = bt_tensor_new(&TTT_WEIGHTS(st), BT_F32, 3, t->initial->shape, BT_CPU)))
            s = bt_tensor_copy(TTT_WEIGHTS(st), t->initial);
    } else {
        const int64_t shape[2] = {L->fw.dim, L->fw.dim};
        *st = (bt_layer_state){1, {"W", NULL}, {NULL, NULL}};
        s = bt_tensor_new(&st->t[0], BT_F32, 2, shape, BT_CPU);
    }
    return s;
}

bt_status bt_capi_mixer_reset_state(const bt_layer_weights *L, bt_layer_state *st) {
    bt_status s = BT_OK;
    for (int i = 0; !s && i < st->n; i++) s = bt_tensor_fill(st->t[i], 0);
    if (!s && L->kind == BT_MIXER_TTT_LINEAR) s = bt_tensor_copy(TTT_WEIGHTS(st), L->ttt.initial);
    return s;
}

static bt_status attention_forward(const bt_attention_weights *a, bt_layer_state *st, bt_tensor *out,
                                   const bt_tensor *h, bt_row_views *v, int64_t pos0) {
    bt_tensor *q = v->buf[BT_BUF_Q], *k = v->buf[BT_BUF_K], *val = v->buf[BT_BUF_V], *att = v->buf[BT_BUF_ATT];
    bt_status s;
    if ((s = bt_op_linear(q, a->wq, h, a->act_quant)) || (s = bt_op_linear(k, a->wk, h, a->act_quant)) ||
        (s = bt_op_linear(val, a->wv, h, a->act_quant)) ||
        (s = bt_op_rope(q, v->positions, a->n_head, a->head_dim, a->rope_dim, a->rope_theta, a->rope_style)) ||
        (s = bt_op_rope(k, v->positions, a->n_head_kv, a->head_dim, a->rope_dim, a->rope_theta, a->rope_style)) ||
        (s = bt_op_attention(att, q, k, val, st->t[0], st->t[1], pos0, a->n_head, a->scale)))
        return s;
    if (a->sub_norm && (s = bt_op_rmsnorm(att, att, a->sub_norm, a->eps))) return s;
    return bt_op_linear(out, a->wo, att, a->act_quant);
}

static bt_status ttt_linear_forward(const bt_ttt_linear_weights *t, bt_layer_state *st, bt_tensor *out,
                                    const bt_tensor *h, bt_row_views *v, int64_t pos0, double lr, bt_tensor *scratch) {
    bt_tensor *xq = v->buf[BT_BUF_TTT_Q], *xk = v->buf[BT_BUF_TTT_K], *xv = v->buf[BT_BUF_TTT_V];
    bt_tensor *z = v->buf[BT_BUF_TTT_Z], *eta = v->buf[BT_BUF_TTT_ETA];
    int32_t *rope_pos = bt_tensor_data(v->ttt_rope_pos);
    bt_status s;
    if ((s = bt_op_linear(xq, t->wq, h, t->act_quant)) || (s = bt_op_linear(xk, t->wk, h, t->act_quant)) ||
        (s = bt_op_linear(xv, t->wv, h, t->act_quant)))
        return s;
    if (t->conv_q && ((s = bt_op_causal_conv(xq, TTT_CONV_Q_HISTORY(st), t->conv_q, t->conv_q_bias)) ||
                      (s = bt_op_causal_conv(xk, TTT_CONV_K_HISTORY(st), t->conv_k, t->conv_k_bias))))
        return s;
    for (int64_t i = 0; i < v->m; i++) rope_pos[i] = (int32_t)((pos0 + i) % t->mini_batch);
    const double scale = (lr >= 0 ? lr : t->base_lr) / t->head_dim;
    const bt_ttt_decay decay = {t->initial, t->forget};
    if ((s = bt_op_rope(xq, v->ttt_rope_pos, t->n_head, t->head_dim, t->head_dim, t->rope_theta, BT_OP_ROPE_INTERLEAVED)) ||
        (s = bt_op_rope(xk, v->ttt_rope_pos, t->n_head, t->head_dim, t->head_dim, t->rope_theta, BT_OP_ROPE_INTERLEAVED)) ||
        (s = bt_op_linear(eta, t->lr_weight, h, 0)) || (s = bt_op_ttt_eta(eta, t->lr_bias, NULL, (float)scale)) ||
        (s = bt_op_ttt_linear(z, TTT_WEIGHTS(st), TTT_GRADS(st), xq, xk, xv, eta, t->token_scale, t->ln_weight, t->ln_bias,
                              t->ln_eps, pos0, scratch, BT_TTT_FORM_AUTO, t->forget < 1 ? &decay : NULL)) ||
        (s = bt_op_layernorm(z, z, t->post_weight, t->post_bias, t->ln_eps)))
        return s;
    return bt_op_linear(out, t->wo, z, t->act_quant);
}

static bt_status fastweight_forward(const bt_fastweight_weights *f, bt_layer_state *st, bt_tensor *out,
                                    const bt_tensor *h, bt_row_views *v, double lr) {
    bt_status s = bt_tensor_fill(v->fw_eta, lr >= 0 ? lr : f->inner_lr);
    if (s || (s = bt_op_linear(v->buf[BT_BUF_FW_K], f->down, h, f->act_quant)) ||
        (s = bt_op_fastweight(v->buf[BT_BUF_FW_P], st->t[0], v->buf[BT_BUF_FW_K], v->fw_eta)))
        return s;
    return bt_op_linear(out, f->up, v->buf[BT_BUF_FW_P], f->act_quant);
}

bt_status bt_capi_mixer_forward(bt_session *s, int layer, bt_tensor *out, const bt_tensor *h, bt_row_views *v) {
    const bt_layer_weights *L = &s->model->layers[layer];
    bt_layer_state *st = &s->states[layer];
    switch (L->kind) {
    case BT_MIXER_ATTENTION: return attention_forward(&L->attn, st, out, h, v, s->pos);
    case BT_MIXER_TTT_LINEAR: return ttt_linear_forward(&L->ttt, st, out, h, v, s->pos, s->ttt_lr, s->ttt_scratch);
    case BT_MIXER_FASTWEIGHT: return fastweight_forward(&L->fw, st, out, h, v, s->ttt_lr);
    }
    return bt_set_error(BT_ERR_ARG, "mixer: unknown kind %d", (int)L->kind);
}
