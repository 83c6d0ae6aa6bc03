/* tokenizer_gguf.c - a tokenizer from the tokenizer.ggml.* keys of a GGUF file
 * (the keys llama.cpp's convert scripts write). Every key is checked for its
 * type, length and range; errors name the file and the key. */
#include "tokenizer_internal.h"
#include <string.h>

/* The array at `key` with elements of type `elem` and `count` elements (0: any
 * count); NULL in *out when the key is absent and not required. */
static bt_status find_array(const bt_gguf *g, const char *key, bt_gguf_type elem, uint64_t count,
                            int required, const bt_gguf_value **out) {
    *out = NULL;
    const bt_gguf_kv *kv = bt_gguf_find(g, key);
    if (!kv) return required ? bt_set_error(BT_ERR_FORMAT, "%s: %s: required, absent", g->path, key) : BT_OK;
    const bt_gguf_value *v = &kv->value;
    if (v->type != BT_GGUF_ARRAY)
        return bt_set_error(BT_ERR_FORMAT, "%s: %s: expected an array of %s, found a %s",
                            g->path, key, bt_gguf_type_name(elem), bt_gguf_type_name(v->type));
    if (v->v.arr.elem_type != elem)
        return bt_set_error(BT_ERR_FORMAT, "%s: %s: expected an array of %s, found an array of %s",
                            g->path, key, bt_gguf_type_name(elem), bt_gguf_type_name(v->v.arr.elem_type));
    if (count && v->v.arr.count != count)
        return bt_set_error(BT_ERR_FORMAT, "%s: %s: expected %llu elements (one per token), found %llu",
                            g->path, key, (unsigned long long)count, (unsigned long long)v->v.arr.count);
    *out = v;
    return BT_OK;
}

static bt_status read_token_id(const bt_gguf *g, const char *key, int32_t n_vocab, int32_t *id) {
    if (!bt_gguf_find(g, key)) return BT_OK;   /* keep the default */
    int64_t v;
    bt_status st = bt_gguf_get_int(g, key, &v);
    if (st != BT_OK) return st;
    if (v < 0 || v >= n_vocab)
        return bt_set_error(BT_ERR_FORMAT, "%s: %s: expected a token id in [0, %d), found %lld", g->path, key, n_vocab, (long long)v);
    *id = (int32_t)v;
    return BT_OK;
}

static bt_status read_flag(const bt_gguf *g, const char *key, int *flag) {
    return bt_gguf_find(g, key) ? bt_gguf_get_bool(g, key, flag) : BT_OK;
}

static bt_status read_kind(const bt_gguf *g, bt_tokenizer_kind *kind) {
    bt_gguf_str model;
    if (!bt_gguf_find(g, "tokenizer.ggml.model"))
        return bt_set_error(BT_ERR_FORMAT, "%s: tokenizer.ggml.model: required, absent (the file holds no vocabulary)", g->path);
    bt_status st = bt_gguf_get_str(g, "tokenizer.ggml.model", &model);
    if (st != BT_OK) return st;
    if (bt_gguf_str_eq(model, "llama")) *kind = BT_TOKENIZER_SPM;
    else if (bt_gguf_str_eq(model, "gpt2")) *kind = BT_TOKENIZER_BPE;
    else
        return bt_set_error(BT_ERR_UNSUPPORTED, "%s: tokenizer.ggml.model: expected \"llama\" or \"gpt2\", found \"%.*s\"",
                            g->path, (int)model.len, model.ptr);
    return BT_OK;
}

static bt_status read_pretokenizer(const bt_gguf *g, bt_tokenizer *tok) {
    bt_gguf_str pre = {"default", 7};
    bt_status st = bt_gguf_find(g, "tokenizer.ggml.pre") ? bt_gguf_get_str(g, "tokenizer.ggml.pre", &pre) : BT_OK;
    return st == BT_OK ? bt_bpe_set_pretokenizer(tok, pre.ptr, pre.len) : st;
}

static bt_status read_tokens(const bt_gguf *g, bt_tokenizer *tok, const bt_gguf_value *texts,
                             const bt_gguf_value *scores, const bt_gguf_value *types) {
    for (int32_t id = 0; id < tok->n_vocab; id++) {
        bt_gguf_str text;
        bt_status st = bt_gguf_array_str(texts, (uint64_t)id, &text);
        if (st != BT_OK) return st;
        float score = 0.0f;
        if (scores) memcpy(&score, scores->v.arr.data + 4 * (size_t)id, 4);
        int32_t type = BT_TOKEN_NORMAL;
        if (types) memcpy(&type, types->v.arr.data + 4 * (size_t)id, 4);
        if (type < BT_TOKEN_UNDEFINED || type > BT_TOKEN_BYTE)
            return bt_set_error(BT_ERR_FORMAT, "%s: tokenizer.ggml.token_type: token %d: expected a type in 0..6, found %d",
                                g->path, id, type);
        st = bt_tokenizer_set_token(tok, id, text.ptr, text.len, score, (bt_token_type)type);
        if (st != BT_OK) return st;
    }
    return BT_OK;
}

static bt_status read_merges(const bt_gguf *g, bt_tokenizer *tok) {
    const bt_gguf_value *merges;
    bt_status st = find_array(g, "tokenizer.ggml.merges", BT_GGUF_STRING, 0, 1, &merges);
    for (uint64_t i = 0; st == BT_OK && i < merges->v.arr.count; i++) {
        bt_gguf_str m;
        st = bt_gguf_array_str(merges, i, &m);
        if (st != BT_OK) break;
        if (m.len < 3 || !memchr(m.ptr + 1, ' ', m.len - 2))
            return bt_set_error(BT_ERR_FORMAT, "%s: tokenizer.ggml.merges: merge %llu: expected \"left right\", found \"%.*s\"",
                                g->path, (unsigned long long)i, (int)m.len, m.ptr);
        st = bt_tokenizer_add_merge(tok, m.ptr, m.len);
    }
    return st;
}

static bt_status read_special_tokens(const bt_gguf *g, bt_tokenizer *tok) {
    if (tok->kind == BT_TOKENIZER_SPM) {   /* llama.cpp's defaults for Llama vocabularies */
        tok->unk = 0;
        tok->bos = tok->n_vocab > 1 ? 1 : -1;
        tok->eos = tok->n_vocab > 2 ? 2 : -1;
    }
    bt_status st = read_token_id(g, "tokenizer.ggml.bos_token_id", tok->n_vocab, &tok->bos);
    if (st == BT_OK) st = read_token_id(g, "tokenizer.ggml.eos_token_id", tok->n_vocab, &tok->eos);
    if (st == BT_OK) st = read_token_id(g, "tokenizer.ggml.unknown_token_id", tok->n_vocab, &tok->unk);
    if (st == BT_OK) st = read_flag(g, "tokenizer.ggml.add_bos_token", &tok->add_bos);
    if (st == BT_OK) st = read_flag(g, "tokenizer.ggml.add_eos_token", &tok->add_eos);
    if (st == BT_OK && tok->kind == BT_TOKENIZER_SPM) st = read_flag(g, "tokenizer.ggml.add_space_prefix", &tok->add_space_prefix);
    return st;
}

bt_status bt_tokenizer_from_gguf(bt_tokenizer **out, const bt_gguf *g) {
    *out = NULL;
    bt_tokenizer_kind kind = BT_TOKENIZER_SPM;
    const bt_gguf_value *texts, *scores, *types;
    bt_status st = read_kind(g, &kind);
    if (st == BT_OK) st = find_array(g, "tokenizer.ggml.tokens", BT_GGUF_STRING, 0, 1, &texts);
    if (st != BT_OK) return st;
    uint64_t n = texts->v.arr.count;
    if (n == 0 || n > INT32_MAX)
        return bt_set_error(BT_ERR_FORMAT, "%s: tokenizer.ggml.tokens: expected 1 to %d tokens, found %llu",
                            g->path, INT32_MAX, (unsigned long long)n);
    st = find_array(g, "tokenizer.ggml.scores", BT_GGUF_FLOAT32, n, kind == BT_TOKENIZER_SPM, &scores);
    if (st == BT_OK) st = find_array(g, "tokenizer.ggml.token_type", BT_GGUF_INT32, n, 0, &types);
    bt_tokenizer *tok = NULL;
    if (st == BT_OK) st = bt_tokenizer_new(&tok, kind, g->path, (int32_t)n);
    if (st == BT_OK && kind == BT_TOKENIZER_BPE) st = read_pretokenizer(g, tok);
    if (st == BT_OK) st = read_tokens(g, tok, texts, scores, types);
    if (st == BT_OK && kind == BT_TOKENIZER_BPE) st = read_merges(g, tok);
    if (st == BT_OK) st = read_special_tokens(g, tok);
    if (st == BT_OK) st = bt_tokenizer_finish(tok);
    if (st != BT_OK) {
        bt_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return BT_OK;
}

bt_status bt_tokenizer_open_gguf(bt_tokenizer **out, const char *path) {
    bt_gguf *g;
    *out = NULL;
    bt_status st = bt_gguf_open(&g, path);
    if (st != BT_OK) return st;
    st = bt_tokenizer_from_gguf(out, g);   /* copies what it keeps */
    bt_gguf_close(g);
    return st;
}
