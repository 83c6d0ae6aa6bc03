/* metadata.c - typed metadata lookups for the C API's model builders, over the
 * three sources a model can have: GGUF key/values, a safetensors folder's
 * config.json, and llama2.c's header (exposed under llama.cpp's llama.* keys,
 * as lua/bitttt/model.lua's llama2c_meta); bt_model_meta and bt_model_sampling.
 * Errors read like lua/bitttt/weights.lua's. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "capi_internal.h"

/* llama2.c: the header fields under llama.cpp's names. */
static bt_meta_kind llama2c_number(const bt_llama2c *l2, const char *key, double *out) {
    const bt_llama2c_config *c = &l2->config;
    const struct { const char *key; double value; } table[] = {
        {"llama.embedding_length", c->dim},           {"llama.feed_forward_length", c->hidden_dim},
        {"llama.block_count", c->n_layers},           {"llama.attention.head_count", c->n_heads},
        {"llama.attention.head_count_kv", c->n_kv_heads}, {"llama.context_length", c->seq_len},
        {"llama.attention.layer_norm_rms_epsilon", 1e-5}, {"llama.rope.freq_base", 10000},
        {"llama.vocab_size", c->vocab_size},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].key, key)) { *out = table[i].value; return BT_META_NUMBER; }
    return BT_META_ABSENT;
}

static bt_meta_kind gguf_number(const bt_gguf *g, const char *key, double *out) {
    const bt_gguf_kv *kv = bt_gguf_find(g, key);
    if (!kv) return BT_META_ABSENT;
    const bt_gguf_value *v = &kv->value;
    switch (v->type) {
    case BT_GGUF_UINT8: case BT_GGUF_UINT16: case BT_GGUF_UINT32: case BT_GGUF_UINT64:
        *out = (double)v->v.u; return BT_META_NUMBER;
    case BT_GGUF_INT8: case BT_GGUF_INT16: case BT_GGUF_INT32: case BT_GGUF_INT64:
        *out = (double)v->v.i; return BT_META_NUMBER;
    case BT_GGUF_FLOAT32: case BT_GGUF_FLOAT64: *out = v->v.f; return BT_META_NUMBER;
    case BT_GGUF_BOOL: *out = (double)v->v.u; return BT_META_BOOL;
    case BT_GGUF_STRING: return BT_META_STRING;
    default: return BT_META_ARRAY;
    }
}

static bt_meta_kind json_number(const bt_json *root, const char *key, double *out) {
    const bt_json *v = bt_json_get(root, key);
    if (!v || v->type == BT_JSON_NULL) return BT_META_ABSENT;
    if (v->type == BT_JSON_NUMBER) { *out = v->number; return BT_META_NUMBER; }
    if (v->type == BT_JSON_BOOL) { *out = v->boolean; return BT_META_BOOL; }
    return v->type == BT_JSON_STRING ? BT_META_STRING : BT_META_ARRAY;
}

bt_meta_kind bt_capi_meta_number(const bt_model *m, const char *key, double *out) {
    if (bt_model_file_gguf(m->file)) return gguf_number(bt_model_file_gguf(m->file), key, out);
    if (bt_model_file_llama2c(m->file)) return llama2c_number(bt_model_file_llama2c(m->file), key, out);
    const bt_json *cfg = bt_model_file_config(m->file);
    return cfg ? json_number(cfg, key, out) : BT_META_ABSENT;
}

bt_status bt_capi_meta_int(const bt_model *m, const char *key, int has_default, int64_t def, int *out) {
    double v;
    bt_meta_kind k = bt_capi_meta_number(m, key, &v);
    if (k == BT_META_ABSENT) {
        if (!has_default)
            return bt_set_error(BT_ERR_FORMAT, "%s: missing metadata key '%s'", bt_model_file_path(m->file), key);
        v = (double)def;
    } else if (k != BT_META_NUMBER) {
        return bt_set_error(BT_ERR_FORMAT, "%s: metadata key '%s' must be a positive integer, got a non-number",
                            bt_model_file_path(m->file), key);
    }
    if (v < 1 || v != floor(v) || v > INT32_MAX)
        return bt_set_error(BT_ERR_FORMAT, "%s: metadata key '%s' must be a positive integer, got %.17g",
                            bt_model_file_path(m->file), key, v);
    *out = (int)v;
    return BT_OK;
}

bt_status bt_capi_meta_float(const bt_model *m, const char *key, double def, double *out) {
    double v;
    bt_meta_kind k = bt_capi_meta_number(m, key, &v);
    if (k == BT_META_ABSENT) v = def;
    else if (k != BT_META_NUMBER)
        return bt_set_error(BT_ERR_FORMAT, "%s: metadata key '%s' must be a number", bt_model_file_path(m->file), key);
    *out = v;
    return BT_OK;
}

bt_status bt_capi_meta_bool(const bt_model *m, const char *key, int def, int *out) {
    double v;
    bt_meta_kind k = bt_capi_meta_number(m, key, &v);
    if (k == BT_META_ABSENT) { *out = def; return BT_OK; }
    if (k != BT_META_BOOL)
        return bt_set_error(BT_ERR_FORMAT, "%s: metadata key '%s' must be a boolean", bt_model_file_path(m->file), key);
    *out = v != 0;
    return BT_OK;
}

/* Element i of a GGUF string array; BT_ERR_ARG when absent (the caller names the key). */
bt_status bt_capi_meta_string_array(const bt_model *m, const char *key, int64_t i, char *buf, size_t cap) {
    const bt_gguf *g = bt_model_file_gguf(m->file);
    const bt_gguf_kv *kv = g ? bt_gguf_find(g, key) : NULL;
    if (!kv) return bt_set_error(BT_ERR_FORMAT, "%s: missing metadata key '%s'", bt_model_file_path(m->file), key);
    bt_gguf_str s;
    if (kv->value.type != BT_GGUF_ARRAY || (uint64_t)i >= kv->value.v.arr.count ||
        bt_gguf_array_str(&kv->value, (uint64_t)i, &s) != BT_OK)
        return bt_set_error(BT_ERR_FORMAT, "%s: metadata '%s' must list one string per layer, entry %" PRId64 " is missing",
                            bt_model_file_path(m->file), key, i + 1);
    snprintf(buf, cap, "%.*s", (int)s.len, s.ptr);
    return BT_OK;
}

static bt_status put_text(char *buf, size_t cap, size_t *len, const char *text, size_t n) {
    if (len) *len = n;
    if (cap) {
        size_t k = n < cap - 1 ? n : cap - 1;
        if (k) memcpy(buf, text, k);
        buf[k] = 0;
    }
    return BT_OK;
}

bt_status bt_model_meta(const bt_model *m, const char *key, char *buf, size_t cap, size_t *len) {
    if (!m || !key) return bt_set_error(BT_ERR_ARG, "bt_model_meta: model and key are required");
    char tmp[64];
    const bt_gguf *g = bt_model_file_gguf(m->file);
    if (g) {
        const bt_gguf_kv *kv = bt_gguf_find(g, key);
        if (kv && kv->value.type == BT_GGUF_STRING)
            return put_text(buf, cap, len, kv->value.v.s.ptr, kv->value.v.s.len);
        if (kv && kv->value.type == BT_GGUF_ARRAY) {
            int n = snprintf(tmp, sizeof tmp, "[%" PRIu64 "]", kv->value.v.arr.count);
            return put_text(buf, cap, len, tmp, (size_t)n);
        }
    } else if (bt_model_file_config(m->file)) {
        const bt_json *v = bt_json_get(bt_model_file_config(m->file), key);
        if (v && v->type == BT_JSON_STRING) return put_text(buf, cap, len, v->string, v->length);
        if (v && (v->type == BT_JSON_ARRAY || v->type == BT_JSON_OBJECT)) {
            int n = snprintf(tmp, sizeof tmp, "[%zu]", v->count);
            return put_text(buf, cap, len, tmp, (size_t)n);
        }
    }
    if (!strcmp(key, "general.architecture")) return put_text(buf, cap, len, m->arch, strlen(m->arch));
    double num;
    bt_meta_kind k = bt_capi_meta_number(m, key, &num);
    if (k == BT_META_ABSENT)
        return bt_set_error(BT_ERR_ARG, "%s: no metadata key '%s'", bt_model_file_path(m->file), key);
    int n = k == BT_META_BOOL ? snprintf(tmp, sizeof tmp, "%s", num != 0 ? "true" : "false")
                              : snprintf(tmp, sizeof tmp, "%.17g", num);
    return put_text(buf, cap, len, tmp, (size_t)n);
}

bt_status bt_model_sampling(const bt_model *m, bt_sampling *out) {
    if (!m || !out) return bt_set_error(BT_ERR_ARG, "bt_model_sampling: model and out are required");
    bt_sampling s = bt_sampling_defaults();
    double top_k = s.top_k, last_n = s.repeat_last_n;
    const struct { const char *key; double *value; } keys[] = {   /* llama.cpp's general.sampling.* keys */
        {"general.sampling.temp", &s.temp},
        {"general.sampling.top_k", &top_k},
        {"general.sampling.top_p", &s.top_p},
        {"general.sampling.min_p", &s.min_p},
        {"general.sampling.penalty_repeat", &s.repeat_penalty},
        {"general.sampling.penalty_last_n", &last_n},
        {"general.sampling.penalty_freq", &s.frequency_penalty},
        {"general.sampling.penalty_present", &s.presence_penalty},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        bt_status st = bt_capi_meta_float(m, keys[i].key, *keys[i].value, keys[i].value);
        if (st) return st;
    }
    s.top_k = (int)top_k;
    s.repeat_last_n = (int)last_n;
    *out = s;
    return BT_OK;
}
