/* model_load.c - bt_model_load and the model queries of the C API: opens the
 * file, picks the architecture (as lua/bitttt/model.lua does), builds the
 * weights, opens the tokenizer, and makes the model safe to share between
 * threads (every lazily prepared thing is prepared here, once). */
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"
#include "runtime/device.h"
#include "runtime/threads.h"

int bt_api_version(void) { return BT_API_VERSION; }
const char *bt_version_string(void) { return BT_VERSION_STRING; }
bt_status bt_set_threads(int n) { return bt_set_num_threads(n); }

static char *dup_text(const char *p, size_t n) {
    char *s = malloc(n + 1);
    if (s) { memcpy(s, p, n); s[n] = 0; }
    return s;
}

/* general.architecture (GGUF), "llama" (llama2.c), or config.json's architectures / model_type. */
static bt_status detect_architecture(bt_model *m) {
    const char *path = bt_model_file_path(m->file);
    switch (bt_model_file_format(m->file)) {
    case BT_MODEL_GGUF: {
        bt_gguf_str s;
        bt_status st = bt_gguf_get_str(bt_model_file_gguf(m->file), "general.architecture", &s);
        if (st) return st;
        m->arch = dup_text(s.ptr, s.len);
        m->format = "gguf";
        break;
    }
    case BT_MODEL_LLAMA2C:
        m->arch = dup_text("llama", 5);
        m->format = "llama2c";
        break;
    case BT_MODEL_SAFETENSORS: {
        const bt_json *cfg = bt_model_file_config(m->file);
        if (!cfg) return bt_set_error(BT_ERR_FORMAT, "%s: a safetensors model needs its config.json beside it", path);
        const bt_json *archs = bt_json_get(cfg, "architectures"), *type = bt_json_get(cfg, "model_type");
        int is_ttt = type && type->type == BT_JSON_STRING && !strcmp(type->string, "ttt");
        for (size_t i = 0; archs && archs->type == BT_JSON_ARRAY && i < archs->count; i++)
            if (archs->items[i].type == BT_JSON_STRING && !strcmp(archs->items[i].string, "TTTForCausalLM")) is_ttt = 1;
        if (!is_ttt)
            return bt_set_error(BT_ERR_UNSUPPORTED, "%s: unsupported architecture (config.json model_type '%s')", path,
                                type && type->type == BT_JSON_STRING ? type->string : "?");
        m->arch = dup_text("ttt", 3);
        m->format = "safetensors";
        break;
    }
    }
    return m->arch ? BT_OK : bt_set_error(BT_ERR_NOMEM, "model: out of memory");
}

static bt_status build(bt_model *m) {
    static const char *const gguf_archs[] = {"llama", "bitnet", "bitnet-b1.58", "bitnet-25", "bitttt"};
    if (!strcmp(m->arch, "ttt")) return bt_capi_build_ttt(m);
    for (size_t i = 0; i < sizeof gguf_archs / sizeof gguf_archs[0]; i++)
        if (!strcmp(m->arch, gguf_archs[i])) return bt_capi_build_gguf_layers(m);
    return bt_set_error(BT_ERR_UNSUPPORTED, "%s: unsupported architecture '%s'", bt_model_file_path(m->file), m->arch);
}

/* Preparing every weight now (runtime/ops.h) means sessions never write to shared weights. */
static bt_status prepare_weight(bt_tensor *w) { return w ? bt_op_prepare_weight(w) : BT_OK; }

static bt_status prepare_for_threads(bt_model *m) {
    (void)bt_get_num_threads();   /* decides the default thread count once */
    (void)bt_simd_level_get();    /* probes the CPU once */
    bt_status st = prepare_weight(m->output);
    for (int l = 0; !st && l < m->hp.n_layer; l++) {
        bt_layer_weights *L = &m->layers[l];
        bt_tensor *ws[] = {L->ffn_gate, L->ffn_up, L->ffn_down, L->attn.wq, L->attn.wk, L->attn.wv, L->attn.wo,
                           L->ttt.wq, L->ttt.wk, L->ttt.wv, L->ttt.wo, L->ttt.lr_weight, L->fw.down, L->fw.up};
        for (size_t i = 0; !st && i < sizeof ws / sizeof ws[0]; i++) st = prepare_weight(ws[i]);
    }
    return st;
}

static bt_status open_tokenizer(bt_model *m, const char *path, const bt_model_options *o) {
    if (o && o->tokenizer_path) return bt_tokenizer_open(&m->tokenizer, o->tokenizer_path, m->hp.n_vocab);
    const bt_gguf *g = bt_model_file_gguf(m->file);
    if (g && bt_gguf_find(g, "tokenizer.ggml.model")) return bt_tokenizer_from_gguf(&m->tokenizer, g);
    (void)path;
    return BT_OK;
}

bt_status bt_model_load(bt_model **out, const char *path, const bt_model_options *opts) {
    if (!out || !path) return bt_set_error(BT_ERR_ARG, "bt_model_load: out and path are required");
    *out = NULL;
    if (opts && opts->max_batch < 0)
        return bt_set_error(BT_ERR_ARG, "bt_model_load: max_batch must be >= 1 (0: default), got %d", opts->max_batch);
    bt_model *m = calloc(1, sizeof *m);
    if (!m) return bt_set_error(BT_ERR_NOMEM, "bt_model_load: out of memory");
    m->max_batch = opts && opts->max_batch > 0 ? opts->max_batch : 64;
    m->float_activations = opts && opts->float_activations;
    bt_status st = bt_model_file_open(&m->file, path);
    if (!st) st = detect_architecture(m);
    if (!st) st = build(m);
    if (!st) st = open_tokenizer(m, path, opts);
    if (!st) st = prepare_for_threads(m);
    if (st) {
        bt_model_free(m);
        return st;
    }
    m->stop_at_bos = bt_model_file_format(m->file) == BT_MODEL_LLAMA2C;
    bt_capi_fingerprint(m);
    *out = m;
    return BT_OK;
}

static void free_ttt(bt_ttt_linear_weights *t) {
    bt_tensor *ts[] = {t->wq, t->wk, t->wv, t->wo, t->lr_weight, t->lr_bias, t->token_idx, t->ln_weight,
                       t->ln_bias, t->post_weight, t->post_bias, t->W1, t->b1, t->token_scale, t->initial};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) bt_tensor_free(ts[i]);
}

void bt_capi_free_layers(bt_model *m) {
    for (int l = 0; m->layers && l < m->hp.n_layer; l++) {
        bt_layer_weights *L = &m->layers[l];
        bt_tensor *ts[] = {L->attn_norm, L->ffn_norm, L->ffn_gate, L->ffn_up, L->ffn_down, L->ffn_sub_norm,
                           L->attn.wq, L->attn.wk, L->attn.wv, L->attn.wo, L->attn.sub_norm, L->fw.down, L->fw.up};
        for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) bt_tensor_free(ts[i]);
        free_ttt(&L->ttt);
    }
    free(m->layers);
    m->layers = NULL;
}

void bt_model_free(bt_model *m) {
    if (!m) return;
    bt_capi_free_layers(m);
    if (m->output != m->tok_embd) bt_tensor_free(m->output);
    bt_tensor_free(m->tok_embd);
    bt_tensor_free(m->output_norm);
    bt_tokenizer_free(m->tokenizer);
    bt_model_file_close(m->file);
    free(m->arch);
    free(m);
}

void bt_model_get_info(const bt_model *m, bt_model_info *out) {
    memset(out, 0, sizeof *out);
    if (!m) return;
    out->architecture = m->arch;
    out->format = m->format;
    out->n_vocab = m->hp.n_vocab;
    out->n_embd = m->hp.n_embd;
    out->n_layer = m->hp.n_layer;
    out->n_ff = m->hp.n_ff;
    out->n_ctx_train = m->hp.n_ctx_train;
    out->has_tokenizer = m->tokenizer != NULL;
    out->bos = m->tokenizer ? bt_tokenizer_bos(m->tokenizer) : -1;
    out->eos = m->tokenizer ? bt_tokenizer_eos(m->tokenizer) : -1;
    out->add_bos = m->tokenizer ? bt_tokenizer_add_bos(m->tokenizer) : 0;
    memcpy(out->fingerprint, m->fingerprint, sizeof out->fingerprint);
}

const char *bt_model_layer_mixer(const bt_model *m, int layer) {
    static const char *const names[] = {"attention", "ttt_linear", "fastweight"};
    if (!m || layer < 0 || layer >= m->hp.n_layer) return NULL;
    return names[m->layers[layer].kind];
}

int bt_token_is_end(const bt_model *m, int32_t id) {
    if (!m || !m->tokenizer) return 0;
    if (id == bt_tokenizer_eos(m->tokenizer)) return 1;
    return m->stop_at_bos && id == bt_tokenizer_bos(m->tokenizer);
}
