/* arch_ttt.c - the C API's builder for ttt-lm-pytorch's TTTForCausalLM
 * safetensors folders (config.json + model.safetensors), mirroring
 * lua/bitttt/models/ttt.lua: Llama-style blocks around a TTT-Linear layer,
 * with the reference code's parameter names. Also the derived TTT-Linear
 * tensors every TTT layer needs (token scales, initial fast weights). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"

#define KEY(buf, prefix, name) (snprintf(buf, sizeof buf, "%s%s", prefix, name), buf)

/* token_scale[i] = max(0, 1/(i+1) + token_idx[i]); initial = [W1; b1] per head (ttt_linear.lua). */
bt_status bt_capi_prepare_ttt_linear(bt_ttt_linear_weights *t) {
    const int64_t H = t->n_head, hd = t->head_dim, B = t->mini_batch;
    const int64_t ts_shape[1] = {B}, init_shape[3] = {H, hd + 1, hd}, b1_shape[3] = {H, 1, hd};
    bt_status st;
    if ((st = bt_tensor_new(&t->token_scale, BT_F32, 1, ts_shape, BT_CPU)) ||
        (st = bt_tensor_new(&t->initial, BT_F32, 3, init_shape, BT_CPU)))
        return st;
    float *ts = bt_tensor_data(t->token_scale);
    for (int64_t i = 0; i < B; i++) {
        double idx;
        if ((st = bt_tensor_get(t->token_idx, &i, &idx))) return st;
        ts[i] = (float)fmax(0.0, 1.0 / (double)(i + 1) + idx);
    }
    bt_tensor *w_rows = NULL, *b_row = NULL, *b1 = NULL;
    if (!(st = bt_tensor_narrow(&w_rows, t->initial, 1, 0, hd)) && !(st = bt_tensor_copy(w_rows, t->W1)) &&
        !(st = bt_tensor_narrow(&b_row, t->initial, 1, hd, 1)) && !(st = bt_tensor_reshape(&b1, t->b1, 3, b1_shape)))
        st = bt_tensor_copy(b_row, b1);
    bt_tensor_free(w_rows);
    bt_tensor_free(b_row);
    bt_tensor_free(b1);
    return st;
}

static bt_status config_value(const bt_model *m, const char *key, int has_default, double def, double *out) {
    const bt_json *v = bt_json_get(bt_model_file_config(m->file), key);
    if (!v || v->type == BT_JSON_NULL) {
        if (!has_default)
            return bt_set_error(BT_ERR_FORMAT, "%s: config.json lacks '%s'", bt_model_file_path(m->file), key);
        *out = def;
        return BT_OK;
    }
    if (v->type == BT_JSON_BOOL) { *out = v->boolean; return BT_OK; }
    if (v->type != BT_JSON_NUMBER)
        return bt_set_error(BT_ERR_FORMAT, "%s: config.json '%s' must be a number", bt_model_file_path(m->file), key);
    *out = v->number;
    return BT_OK;
}

static bt_status config_int(const bt_model *m, const char *key, int has_default, double def, int *out) {
    double v = 0;
    bt_status st = config_value(m, key, has_default, def, &v);
    if (st) return st;
    if (v < 1 || v != floor(v) || v > INT32_MAX)
        return bt_set_error(BT_ERR_FORMAT, "%s: config.json '%s' must be a positive integer, got %.17g",
                            bt_model_file_path(m->file), key, v);
    *out = (int)v;
    return BT_OK;
}

/* ttt.lua's require_setting: a value only one of which is supported. */
static bt_status require_setting(const bt_model *m, const char *key, const char *want, const char *def) {
    const bt_json *v = bt_json_get(bt_model_file_config(m->file), key);
    const char *got = def;
    char buf[64];
    if (v && v->type == BT_JSON_STRING) got = v->string;
    else if (v && v->type == BT_JSON_BOOL) got = v->boolean ? "true" : "false";
    else if (v) got = (snprintf(buf, sizeof buf, "(a %s)", v->type == BT_JSON_NUMBER ? "number" : "value"), buf);
    if (!got) return bt_set_error(BT_ERR_FORMAT, "%s: config.json lacks '%s'", bt_model_file_path(m->file), key);
    if (strcmp(got, want))
        return bt_set_error(BT_ERR_UNSUPPORTED, "%s: config.json '%s' is %s; only %s is supported",
                            bt_model_file_path(m->file), key, got, want);
    return BT_OK;
}

typedef struct ttt_config {
    int mini_batch, tied;
    double base_lr;
} ttt_config;

static bt_status read_config(bt_model *m, ttt_config *c) {
    bt_hparams *hp = &m->hp;
    double eps = 0, theta = 0, mb = 0, lr = 0, tied = 0;
    bt_status st;
    if ((st = require_setting(m, "ttt_layer_type", "linear", NULL)) ||
        (st = require_setting(m, "pre_conv", "false", "false")) || (st = require_setting(m, "use_gate", "false", "false")) ||
        (st = require_setting(m, "share_qk", "false", "false")) || (st = require_setting(m, "hidden_act", "silu", "silu")) ||
        (st = config_int(m, "hidden_size", 0, 0, &hp->n_embd)) ||
        (st = config_int(m, "num_hidden_layers", 0, 0, &hp->n_layer)) ||
        (st = config_int(m, "num_attention_heads", 0, 0, &hp->n_head)) ||
        (st = config_int(m, "intermediate_size", 0, 0, &hp->n_ff)) ||
        (st = config_int(m, "vocab_size", 0, 0, &hp->n_vocab)) ||
        (st = config_int(m, "max_position_embeddings", 1, 2048, &hp->n_ctx_train)) ||
        (st = config_value(m, "rms_norm_eps", 1, 1e-6, &eps)) || (st = config_value(m, "rope_theta", 1, 10000, &theta)) ||
        (st = config_value(m, "mini_batch_size", 1, 16, &mb)) || (st = config_value(m, "ttt_base_lr", 1, 1.0, &lr)) ||
        (st = config_value(m, "tie_word_embeddings", 1, 1, &tied)))
        return st;
    if (hp->n_embd % hp->n_head != 0)
        return bt_set_error(BT_ERR_FORMAT, "%s: %d heads do not divide hidden_size %d", bt_model_file_path(m->file),
                            hp->n_head, hp->n_embd);
    hp->rms_eps = (float)eps;
    hp->rope_theta = (float)theta;
    hp->head_dim = hp->n_embd / hp->n_head;
    hp->n_head_kv = hp->n_head;
    hp->rope_dim = hp->head_dim;
    hp->ffn_act = BT_OP_SILU;
    hp->act_quant = 0;
    c->mini_batch = (int)mb;
    c->base_lr = lr;
    c->tied = tied != 0;
    return BT_OK;
}

/* ttt.lua's ttt_layer: lr_weight [H,1,d] and lr_bias [H,1] are used reshaped to [H,d], [H]. */
static bt_status ttt_layer(bt_model *m, const char *p, const ttt_config *c, bt_ttt_linear_weights *t) {
    const int64_t d = m->hp.n_embd, H = m->hp.n_head, hd = m->hp.head_dim, B = c->mini_batch;
    const int64_t sq[2] = {d, d}, lr_w[3] = {H, 1, d}, lr_b[2] = {H, 1}, tok[1] = {B}, norm[2] = {H, hd},
                  post[1] = {d}, w1[3] = {H, hd, hd}, b1[3] = {H, 1, hd}, lr_w2[2] = {H, d}, lr_b1[1] = {H};
    char k[200];
    bt_tensor *lr_weight = NULL, *lr_bias = NULL;
    bt_status st;
    if ((st = bt_capi_weight(&t->wq, m, KEY(k, p, "q_proj.weight"), 2, sq)) ||
        (st = bt_capi_weight(&t->wk, m, KEY(k, p, "k_proj.weight"), 2, sq)) ||
        (st = bt_capi_weight(&t->wv, m, KEY(k, p, "v_proj.weight"), 2, sq)) ||
        (st = bt_capi_weight(&t->wo, m, KEY(k, p, "o_proj.weight"), 2, sq)) ||
        (st = bt_capi_weight(&lr_weight, m, KEY(k, p, "learnable_ttt_lr_weight"), 3, lr_w)) ||
        (st = bt_capi_weight(&lr_bias, m, KEY(k, p, "learnable_ttt_lr_bias"), 2, lr_b)) ||
        (st = bt_capi_weight(&t->token_idx, m, KEY(k, p, "learnable_token_idx"), 1, tok)) ||
        (st = bt_capi_weight(&t->ln_weight, m, KEY(k, p, "ttt_norm_weight"), 2, norm)) ||
        (st = bt_capi_weight(&t->ln_bias, m, KEY(k, p, "ttt_norm_bias"), 2, norm)) ||
        (st = bt_capi_weight(&t->post_weight, m, KEY(k, p, "post_norm.weight"), 1, post)) ||
        (st = bt_capi_weight(&t->post_bias, m, KEY(k, p, "post_norm.bias"), 1, post)) ||
        (st = bt_capi_weight(&t->W1, m, KEY(k, p, "W1"), 3, w1)) ||
        (st = bt_capi_weight(&t->b1, m, KEY(k, p, "b1"), 3, b1)) ||
        (st = bt_tensor_reshape(&t->lr_weight, lr_weight, 2, lr_w2)) ||
        (st = bt_tensor_reshape(&t->lr_bias, lr_bias, 1, lr_b1))) {
        bt_tensor_free(lr_weight);
        bt_tensor_free(lr_bias);
        return st;
    }
    bt_tensor_free(lr_weight);
    bt_tensor_free(lr_bias);
    t->n_head = (int)H;
    t->head_dim = (int)hd;
    t->mini_batch = (int)B;
    t->base_lr = c->base_lr;
    t->rope_theta = m->hp.rope_theta;
    t->ln_eps = 1e-6f;
    t->forget = 1.0f;   /* ttt-lm-pytorch has no forgetting */
    t->act_quant = 0;
    return bt_capi_prepare_ttt_linear(t);
}

bt_status bt_capi_build_ttt(bt_model *m) {
    ttt_config c = {0};
    bt_status st = read_config(m, &c);
    if (st) return st;
    const bt_hparams *hp = &m->hp;
    const int64_t d = hp->n_embd, vd[2] = {hp->n_vocab, d}, dv[1] = {d}, up[2] = {hp->n_ff, d}, down[2] = {d, hp->n_ff};
    if ((st = bt_capi_weight(&m->tok_embd, m, "model.embed_tokens.weight", 2, vd)) ||
        (st = bt_capi_weight_optional(&m->output, m, "lm_head.weight", 2, vd)) ||
        (st = bt_capi_weight(&m->output_norm, m, "model.norm.weight", 1, dv)))
        return st;
    if (!m->output && !c.tied)
        return bt_set_error(BT_ERR_FORMAT, "%s: missing tensor 'lm_head.weight' (tie_word_embeddings is false)",
                            bt_model_file_path(m->file));
    if (!m->output) m->output = m->tok_embd;
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return bt_set_error(BT_ERR_NOMEM, "model: out of memory for %d layers", hp->n_layer);
    for (int l = 0; l < hp->n_layer; l++) {
        bt_layer_weights *L = &m->layers[l];
        char p[64], q[96], k[160];
        snprintf(p, sizeof p, "model.layers.%d.", l);
        snprintf(q, sizeof q, "%sseq_modeling_block.", p);
        L->kind = BT_MIXER_TTT_LINEAR;
        if ((st = bt_capi_weight(&L->attn_norm, m, KEY(k, p, "seq_norm.weight"), 1, dv)) ||
            (st = ttt_layer(m, q, &c, &L->ttt)) ||
            (st = bt_capi_weight(&L->ffn_norm, m, KEY(k, p, "ffn_norm.weight"), 1, dv)) ||
            (st = bt_capi_weight(&L->ffn_gate, m, KEY(k, p, "mlp.gate_proj.weight"), 2, up)) ||
            (st = bt_capi_weight(&L->ffn_up, m, KEY(k, p, "mlp.up_proj.weight"), 2, up)) ||
            (st = bt_capi_weight(&L->ffn_down, m, KEY(k, p, "mlp.down_proj.weight"), 2, down)))
            return st;
    }
    return BT_OK;
}
