/* fingerprint.c - the model fingerprint that state files carry, computed
 * exactly as lua/bitttt/decoder.lua's Decoder:fingerprint so that state files
 * move between the Lua and C sides: 64-bit FNV-1a over the model's sizes, each
 * layer's mixer kind, and every weight's name, dtype, shape and first 64 KiB,
 * weights taken in sorted field-name order (the Lua tables' keys). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"

typedef struct named_tensor { const char *name; const bt_tensor *t; } named_tensor;

static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t fnv_text(uint64_t h, const char *s) { return fnv(h, s, strlen(s)); }

static int by_name(const void *a, const void *b) {
    return strcmp(((const named_tensor *)a)->name, ((const named_tensor *)b)->name);
}

/* "<prefix><name> <dtype> [<d0>,<d1>...]" then the first 64 KiB of a contiguous tensor. */
static uint64_t add_tensors(uint64_t h, const char *prefix, named_tensor *ts, size_t n) {
    qsort(ts, n, sizeof *ts, by_name);
    for (size_t i = 0; i < n; i++) {
        const bt_tensor *t = ts[i].t;
        if (!t) continue;
        char line[256];
        int len = snprintf(line, sizeof line, "%s%s %s [", prefix, ts[i].name, bt_dtype_get_info(t->dtype)->name);
        for (int d = 0; d < t->ndim && len < (int)sizeof line - 24; d++)
            len += snprintf(line + len, sizeof line - (size_t)len, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        snprintf(line + len, sizeof line - (size_t)len, "]");
        h = fnv_text(h, line);
        if (bt_tensor_is_contiguous(t)) {
            size_t nb = bt_tensor_nbytes(t);
            h = fnv(h, bt_tensor_data(t), nb < 65536 ? nb : 65536);
        }
    }
    return h;
}

static const char *const mixer_kind_names[] = {"attention", "ttt_linear", "fastweight"};

static uint64_t add_mixer(uint64_t h, const char *prefix, const bt_layer_weights *L) {
    if (L->kind == BT_MIXER_ATTENTION) {
        const bt_attention_weights *a = &L->attn;
        named_tensor ts[] = {{"wq", a->wq}, {"wk", a->wk}, {"wv", a->wv}, {"wo", a->wo}, {"sub_norm", a->sub_norm}};
        return add_tensors(h, prefix, ts, sizeof ts / sizeof ts[0]);
    }
    if (L->kind == BT_MIXER_TTT_LINEAR) {
        const bt_ttt_linear_weights *t = &L->ttt;
        named_tensor ts[] = {{"wq", t->wq}, {"wk", t->wk}, {"wv", t->wv}, {"wo", t->wo}, {"lr_weight", t->lr_weight},
                             {"lr_bias", t->lr_bias}, {"token_idx", t->token_idx}, {"ln_weight", t->ln_weight},
                             {"ln_bias", t->ln_bias}, {"post_weight", t->post_weight}, {"post_bias", t->post_bias},
                             {"W1", t->W1}, {"b1", t->b1}, {"token_scale", t->token_scale}, {"initial", t->initial}};
        return add_tensors(h, prefix, ts, sizeof ts / sizeof ts[0]);
    }
    named_tensor ts[] = {{"down", L->fw.down}, {"up", L->fw.up}};
    return add_tensors(h, prefix, ts, sizeof ts / sizeof ts[0]);
}

void bt_capi_fingerprint(bt_model *m) {
    char line[160];
    snprintf(line, sizeof line, "bitttt model d=%d vocab=%d layers=%d", m->hp.n_embd, m->hp.n_vocab, m->hp.n_layer);
    uint64_t h = fnv_text(0xcbf29ce484222325ull, line);
    named_tensor io[] = {{"tok_embd", m->tok_embd}, {"output_norm", m->output_norm}, {"output", m->output}};
    h = add_tensors(h, "", io, 3);
    for (int l = 0; l < m->hp.n_layer; l++) {
        const bt_layer_weights *L = &m->layers[l];
        snprintf(line, sizeof line, "layer %d %s", l + 1, mixer_kind_names[L->kind]);
        h = fnv_text(h, line);
        named_tensor ts[] = {{"attn_norm", L->attn_norm}, {"ffn_norm", L->ffn_norm}, {"ffn_gate", L->ffn_gate},
                             {"ffn_up", L->ffn_up}, {"ffn_down", L->ffn_down}, {"ffn_sub_norm", L->ffn_sub_norm}};
        char prefix[32];
        snprintf(prefix, sizeof prefix, "%d.", l + 1);
        h = add_tensors(h, prefix, ts, sizeof ts / sizeof ts[0]);
        snprintf(prefix, sizeof prefix, "%d.mixer.", l + 1);
        h = add_mixer(h, prefix, L);
    }
    snprintf(m->fingerprint, sizeof m->fingerprint, "%016llx", (unsigned long long)h);
}
