/* arch_gguf.c - the C API's builders for the llama.cpp-named architectures:
 * `llama` (and llama2.c checkpoints), `bitnet` / `bitnet-b1.58` / `bitnet-25`
 * and `bitttt`. Mirrors lua/bitttt/models/{llama,bitnet,bitttt}.lua: the same
 * metadata keys and defaults, the same tensors and settings per layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"

#define KEY(buf, prefix, name) (snprintf(buf, sizeof buf, "%s%s", prefix, name), buf)

/* llama.lua's hparams under `prefix` ("llama.", "bitttt.", ...). */
bt_status bt_capi_read_hparams_llama(bt_model *m, const char *prefix) {
    bt_hparams *hp = &m->hp;
    char k[128];
    double eps, theta;
    bt_status st;
    if ((st = bt_capi_meta_int(m, KEY(k, prefix, "embedding_length"), 0, 0, &hp->n_embd)) ||
        (st = bt_capi_meta_int(m, KEY(k, prefix, "block_count"), 0, 0, &hp->n_layer)) ||
        (st = bt_capi_meta_int(m, KEY(k, prefix, "attention.head_count"), 0, 0, &hp->n_head)) ||
        (st = bt_capi_meta_int(m, KEY(k, prefix, "feed_forward_length"), 0, 0, &hp->n_ff)) ||
        (st = bt_capi_meta_int(m, KEY(k, prefix, "context_length"), 0, 0, &hp->n_ctx_train)) ||
        (st = bt_capi_meta_float(m, KEY(k, prefix, "attention.layer_norm_rms_epsilon"), 1e-5, &eps)) ||
        (st = bt_capi_meta_float(m, KEY(k, prefix, "rope.freq_base"), 10000, &theta)) ||
        (st = bt_capi_meta_int(m, KEY(k, prefix, "attention.head_count_kv"), 1, hp->n_head, &hp->n_head_kv)))
        return st;
    hp->rms_eps = (float)eps;
    hp->rope_theta = (float)theta;
    if (hp->n_embd % hp->n_head != 0 || hp->n_head % hp->n_head_kv != 0)
        return bt_set_error(BT_ERR_FORMAT, "%s: %d heads (%d kv heads) do not divide embedding length %d",
                            bt_model_file_path(m->file), hp->n_head, hp->n_head_kv, hp->n_embd);
    hp->head_dim = hp->n_embd / hp->n_head;
    return bt_capi_meta_int(m, KEY(k, prefix, "rope.dimension_count"), 1, hp->head_dim, &hp->rope_dim);
}

/* llama.lua's io_weights: the head is tied to the embedding when output.weight is absent. */
static bt_status io_weights(bt_model *m) {
    bt_hparams *hp = &m->hp;
    bt_status st = bt_capi_weight(&m->tok_embd, m, "token_embd.weight", 0, NULL);
    if (st) return st;
    if (m->tok_embd->ndim != 2 || m->tok_embd->shape[1] != hp->n_embd) {
        char got[96];
        return bt_set_error(BT_ERR_FORMAT, "%s: tensor 'token_embd.weight' has shape %s, expected [vocab, %d]",
                            bt_model_file_path(m->file),
                            bt_shape_string(m->tok_embd->ndim, m->tok_embd->shape, got, sizeof got), hp->n_embd);
    }
    hp->n_vocab = (int)m->tok_embd->shape[0];
    const int64_t d[1] = {hp->n_embd}, vd[2] = {hp->n_vocab, hp->n_embd};
    if ((st = bt_capi_weight(&m->output_norm, m, "output_norm.weight", 1, d)) ||
        (st = bt_capi_weight_optional(&m->output, m, "output.weight", 2, vd)))
        return st;
    if (!m->output) m->output = m->tok_embd;
    return BT_OK;
}

static bt_status attention_layer(bt_model *m, const char *p, bt_attention_weights *a, bt_op_rope_style style) {
    const bt_hparams *hp = &m->hp;
    const int64_t d = hp->n_embd, hd = hp->head_dim;
    const int64_t q[2] = {hp->n_head * hd, d}, kv[2] = {hp->n_head_kv * hd, d}, o[2] = {d, hp->n_head * hd};
    char k[160];
    bt_status st;
    if ((st = bt_capi_weight(&a->wq, m, KEY(k, p, "attn_q.weight"), 2, q)) ||
        (st = bt_capi_weight(&a->wk, m, KEY(k, p, "attn_k.weight"), 2, kv)) ||
        (st = bt_capi_weight(&a->wv, m, KEY(k, p, "attn_v.weight"), 2, kv)) ||
        (st = bt_capi_weight(&a->wo, m, KEY(k, p, "attn_output.weight"), 2, o)))
        return st;
    a->n_head = hp->n_head;
    a->n_head_kv = hp->n_head_kv;
    a->head_dim = hp->head_dim;
    a->rope_dim = hp->rope_dim;
    a->rope_theta = hp->rope_theta;
    a->rope_style = style;
    a->eps = hp->rms_eps;
    a->act_quant = hp->act_quant;
    a->scale = (float)(1 / sqrt((double)hp->head_dim));
    return BT_OK;
}

static bt_status ffn_weights(bt_model *m, const char *p, bt_layer_weights *L) {
    const int64_t d[1] = {m->hp.n_embd}, up[2] = {m->hp.n_ff, m->hp.n_embd}, down[2] = {m->hp.n_embd, m->hp.n_ff};
    char k[160];
    bt_status st;
    if ((st = bt_capi_weight(&L->attn_norm, m, KEY(k, p, "attn_norm.weight"), 1, d)) ||
        (st = bt_capi_weight(&L->ffn_norm, m, KEY(k, p, "ffn_norm.weight"), 1, d)) ||
        (st = bt_capi_weight(&L->ffn_gate, m, KEY(k, p, "ffn_gate.weight"), 2, up)) ||
        (st = bt_capi_weight(&L->ffn_up, m, KEY(k, p, "ffn_up.weight"), 2, up)) ||
        (st = bt_capi_weight(&L->ffn_down, m, KEY(k, p, "ffn_down.weight"), 2, down)))
        return st;
    return BT_OK;
}

/* bitttt.lua's settings of the TTT-Linear and fastweight mixers. */
typedef struct bitttt_settings {
    int ttt_n_head, ttt_head_dim, ttt_mini_batch, ttt_conv_kernel, fw_dim;
    double ttt_base_lr, ttt_eps, ttt_rope_theta, ttt_forget, fw_inner_lr;
} bitttt_settings;

static bt_status read_bitttt_settings(bt_model *m, bitttt_settings *s) {
    const bt_hparams *hp = &m->hp;
    bt_status st;
    if ((st = bt_capi_meta_int(m, "bitttt.ttt.head_count", 1, hp->n_head, &s->ttt_n_head)) ||
        (st = bt_capi_meta_int(m, "bitttt.ttt.head_dim", 1, hp->n_embd / s->ttt_n_head, &s->ttt_head_dim)) ||
        (st = bt_capi_meta_int(m, "bitttt.ttt.mini_batch_size", 1, 16, &s->ttt_mini_batch)) ||
        (st = bt_capi_meta_float(m, "bitttt.ttt.base_lr", 1.0, &s->ttt_base_lr)) ||
        (st = bt_capi_meta_float(m, "bitttt.ttt.forget", 1.0, &s->ttt_forget)) ||
        (st = bt_capi_meta_float(m, "bitttt.ttt.layer_norm_epsilon", 1e-6, &s->ttt_eps)) ||
        (st = bt_capi_meta_float(m, "bitttt.ttt.rope.freq_base", hp->rope_theta, &s->ttt_rope_theta)) ||
        (st = bt_capi_meta_int(m, "bitttt.fastweight.dim", 1, hp->n_embd / 4 > 1 ? hp->n_embd / 4 : 1, &s->fw_dim)) ||
        (st = bt_capi_meta_float(m, "bitttt.fastweight.inner_lr", 0.1, &s->fw_inner_lr)))
        return st;
    if (!(s->ttt_forget >= 0 && s->ttt_forget <= 1))
        return bt_set_error(BT_ERR_FORMAT, "%s: metadata 'bitttt.ttt.forget' is %g; expected 0 to 1 (1: no forgetting)",
                            bt_model_file_path(m->file), s->ttt_forget);
    double K = 0;   /* absent: no convs */
    const bt_meta_kind kind = bt_capi_meta_number(m, "bitttt.ttt.conv_kernel", &K);
    if ((kind != BT_META_ABSENT && kind != BT_META_NUMBER) || K < 0 || K != floor(K) || K > BT_CAUSAL_CONV_MAX_KERNEL)
        return bt_set_error(BT_ERR_FORMAT,
                            "%s: metadata 'bitttt.ttt.conv_kernel' must be an integer from 0 (no conv) to %d",
                            bt_model_file_path(m->file), (int)BT_CAUSAL_CONV_MAX_KERNEL);
    s->ttt_conv_kernel = (int)K;
    return BT_OK;
}

static bt_status ttt_linear_layer(bt_model *m, const char *p, const bitttt_settings *s, bt_ttt_linear_weights *t) {
    const int64_t d = m->hp.n_embd, H = s->ttt_n_head, hd = s->ttt_head_dim, B = s->ttt_mini_batch, w = H * hd;
    const int64_t proj[2] = {w, d}, out[2] = {d, w}, lr_w[2] = {H, d}, lr_b[1] = {H}, tok[1] = {B},
                  norm[2] = {H, hd}, post[1] = {w}, w1[3] = {H, hd, hd}, b1[2] = {H, hd};
    char k[160];
    bt_status st;
    if ((st = bt_capi_weight(&t->wq, m, KEY(k, p, "ttt_q.weight"), 2, proj)) ||
        (st = bt_capi_weight(&t->wk, m, KEY(k, p, "ttt_k.weight"), 2, proj)) ||
        (st = bt_capi_weight(&t->wv, m, KEY(k, p, "ttt_v.weight"), 2, proj)) ||
        (st = bt_capi_weight(&t->wo, m, KEY(k, p, "ttt_output.weight"), 2, out)) ||
        (st = bt_capi_weight(&t->lr_weight, m, KEY(k, p, "ttt_lr.weight"), 2, lr_w)) ||
        (st = bt_capi_weight(&t->lr_bias, m, KEY(k, p, "ttt_lr.bias"), 1, lr_b)) ||
        (st = bt_capi_weight(&t->token_idx, m, KEY(k, p, "ttt_token_idx"), 1, tok)) ||
        (st = bt_capi_weight(&t->ln_weight, m, KEY(k, p, "ttt_norm.weight"), 2, norm)) ||
        (st = bt_capi_weight(&t->ln_bias, m, KEY(k, p, "ttt_norm.bias"), 2, norm)) ||
        (st = bt_capi_weight(&t->post_weight, m, KEY(k, p, "ttt_post_norm.weight"), 1, post)) ||
        (st = bt_capi_weight(&t->post_bias, m, KEY(k, p, "ttt_post_norm.bias"), 1, post)) ||
        (st = bt_capi_weight(&t->W1, m, KEY(k, p, "ttt_w1"), 3, w1)) ||
        (st = bt_capi_weight(&t->b1, m, KEY(k, p, "ttt_b1"), 2, b1)))
        return st;
    const int64_t conv[2] = {s->ttt_conv_kernel, w}, conv_bias[1] = {w};
    if (s->ttt_conv_kernel > 0 &&
        ((st = bt_capi_weight(&t->conv_q, m, KEY(k, p, "ttt_q_conv.weight"), 2, conv)) ||
         (st = bt_capi_weight(&t->conv_q_bias, m, KEY(k, p, "ttt_q_conv.bias"), 1, conv_bias)) ||
         (st = bt_capi_weight(&t->conv_k, m, KEY(k, p, "ttt_k_conv.weight"), 2, conv)) ||
         (st = bt_capi_weight(&t->conv_k_bias, m, KEY(k, p, "ttt_k_conv.bias"), 1, conv_bias))))
        return st;
    t->conv_kernel = s->ttt_conv_kernel;
    t->n_head = (int)H;
    t->head_dim = (int)hd;
    t->mini_batch = (int)B;
    t->base_lr = s->ttt_base_lr;
    t->rope_theta = (float)s->ttt_rope_theta;
    t->ln_eps = (float)s->ttt_eps;
    t->forget = (float)s->ttt_forget;
    t->act_quant = m->hp.act_quant;
    return bt_capi_prepare_ttt_linear(t);
}

static bt_status fastweight_layer(bt_model *m, const char *p, const bitttt_settings *s, bt_fastweight_weights *f) {
    const int64_t down[2] = {s->fw_dim, m->hp.n_embd}, up[2] = {m->hp.n_embd, s->fw_dim};
    char k[160];
    bt_status st;
    if ((st = bt_capi_weight(&f->down, m, KEY(k, p, "fw_down.weight"), 2, down)) ||
        (st = bt_capi_weight(&f->up, m, KEY(k, p, "fw_up.weight"), 2, up)))
        return st;
    f->dim = s->fw_dim;
    f->inner_lr = s->fw_inner_lr;
    f->act_quant = m->hp.act_quant;
    return BT_OK;
}

static bt_status bitttt_mixer(bt_model *m, int l, const char *p, const bitttt_settings *s, bt_layer_weights *L) {
    char kind[32];
    bt_status st = bt_capi_meta_string_array(m, "bitttt.mixers", l, kind, sizeof kind);
    if (st) return st;
    if (!strcmp(kind, "attention")) {
        L->kind = BT_MIXER_ATTENTION;
        return attention_layer(m, p, &L->attn, BT_OP_ROPE_INTERLEAVED);
    }
    if (!strcmp(kind, "ttt_linear")) {
        L->kind = BT_MIXER_TTT_LINEAR;
        return ttt_linear_layer(m, p, s, &L->ttt);
    }
    if (!strcmp(kind, "fastweight")) {
        L->kind = BT_MIXER_FASTWEIGHT;
        return fastweight_layer(m, p, s, &L->fw);
    }
    return bt_set_error(BT_ERR_FORMAT, "%s: metadata 'bitttt.mixers' entry %d is '%s'; expected attention, ttt_linear or fastweight",
                        bt_model_file_path(m->file), l + 1, kind);
}

bt_status bt_capi_build_gguf_layers(bt_model *m) {
    const char *arch = m->arch;
    const int is_bitttt = !strcmp(arch, "bitttt");
    const int is_bitnet = !strncmp(arch, "bitnet", 6);
    char prefix[64], k[128];
    snprintf(prefix, sizeof prefix, "%s.", arch);
    bt_status st = bt_capi_read_hparams_llama(m, prefix);
    if (st) return st;
    bt_hparams *hp = &m->hp;
    hp->ffn_act = BT_OP_SILU;
    bitttt_settings s = {0};
    if (is_bitnet) {
        const bt_gguf *g = bt_model_file_gguf(m->file);
        const bt_gguf_kv *kv = g ? bt_gguf_find(g, KEY(k, prefix, "hidden_activation")) : NULL;
        int relu2 = strcmp(arch, "bitnet") != 0;
        if (kv) {
            if (kv->value.type == BT_GGUF_STRING && bt_gguf_str_eq(kv->value.v.s, "relu2")) relu2 = 1;
            else if (kv->value.type == BT_GGUF_STRING && bt_gguf_str_eq(kv->value.v.s, "silu")) relu2 = 0;
            else return bt_set_error(BT_ERR_FORMAT, "%s: metadata '%s' is not relu2 or silu", bt_model_file_path(m->file), k);
        }
        hp->ffn_act = relu2 ? BT_OP_RELU2 : BT_OP_SILU;
        hp->act_quant = !m->float_activations;
    } else if (is_bitttt) {
        int aq;
        if ((st = bt_capi_meta_bool(m, "bitttt.activation_quant", 1, &aq)) || (st = read_bitttt_settings(m, &s)))
            return st;
        hp->act_quant = aq && !m->float_activations;
    }
    if ((st = io_weights(m))) return st;
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return bt_set_error(BT_ERR_NOMEM, "model: out of memory for %d layers", hp->n_layer);
    for (int l = 0; l < hp->n_layer; l++) {
        bt_layer_weights *L = &m->layers[l];
        char p[32];
        snprintf(p, sizeof p, "blk.%d.", l);
        if ((st = ffn_weights(m, p, L))) return st;
        if (is_bitttt) {
            st = bitttt_mixer(m, l, p, &s, L);
        } else {
            L->kind = BT_MIXER_ATTENTION;
            st = attention_layer(m, p, &L->attn, is_bitnet ? BT_OP_ROPE_NEOX : BT_OP_ROPE_INTERLEAVED);
        }
        if (st) return st;
        if (is_bitnet) {
            const int64_t q[1] = {(int64_t)hp->n_head * hp->head_dim}, ff[1] = {hp->n_ff};
            if ((st = bt_capi_weight(&L->attn.sub_norm, m, KEY(k, p, "attn_sub_norm.weight"), 1, q)) ||
                (st = bt_capi_weight(&L->ffn_sub_norm, m, KEY(k, p, "ffn_sub_norm.weight"), 1, ff)))
                return st;
        }
    }
    return BT_OK;
}
