/* tokenizer_build.c - creating a tokenizer: tokens and merges in, then the
 * lookup tables (pieces, spelling -> id, special tokens) built once by
 * bt_tokenizer_finish. Used by the loaders in tokenizer_gguf.c and tokenizer_llama2c.c. */
#include "tokenizer_internal.h"
#include <stdlib.h>
#include <math.h>
#include <string.h>

bt_status bt_tokenizer_new(bt_tokenizer **out, bt_tokenizer_kind kind, const char *source, int32_t n_vocab) {
    *out = NULL;
    if (n_vocab <= 0) return bt_set_error(BT_ERR_FORMAT, "%s: vocabulary: expected at least one token, found %d", source, n_vocab);
    bt_tokenizer *tok = calloc(1, sizeof *tok);
    if (!tok) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory for the tokenizer", source);
    tok->kind = kind;
    tok->n_vocab = n_vocab;
    tok->source = strdup(source);
    tok->tokens = calloc((size_t)n_vocab, sizeof *tok->tokens);
    if (!tok->source || !tok->tokens) {
        bt_tokenizer_free(tok);
        return bt_set_error(BT_ERR_NOMEM, "%s: out of memory for %d tokens", source, n_vocab);
    }
    tok->bos = tok->eos = tok->unk = -1;
    if (kind == BT_TOKENIZER_SPM) {
        tok->add_bos = 1;
        tok->add_space_prefix = 1;
        tok->escape_spaces = 1;
    }
    *out = tok;
    return BT_OK;
}

/* Appends bytes to the arena and returns their offset in *off. */
static bt_status arena_add(bt_tokenizer *tok, const char *bytes, size_t len, uint32_t *off) {
    if (tok->arena.len + len > UINT32_MAX)
        return bt_set_error(BT_ERR_FORMAT, "%s: vocabulary: more than 4 GiB of token text", tok->source);
    *off = (uint32_t)tok->arena.len;
    return bt_text_append(&tok->arena, bytes, len);
}

bt_status bt_tokenizer_set_token(bt_tokenizer *tok, int32_t id, const char *text, size_t len,
                                 float score, bt_token_type type) {
    if (id < 0 || id >= tok->n_vocab)
        return bt_set_error(BT_ERR_ARG, "%s: token id %d out of range [0, %d)", tok->source, id, tok->n_vocab);
    if (!isfinite(score))   /* merges are ordered by score: NaN would make that order meaningless */
        return bt_set_error(BT_ERR_FORMAT, "%s: token %d: score is %g, expected a finite number", tok->source, id, (double)score);
    bt_token_entry *e = &tok->tokens[id];
    e->text_len = (uint32_t)len;
    e->score = score;
    e->type = (uint8_t)type;
    return arena_add(tok, text, len, &e->text_off);
}

bt_status bt_tokenizer_add_merge(bt_tokenizer *tok, const char *text, size_t len) {
    if (tok->n_merges == tok->cap_merges) {
        size_t cap = tok->cap_merges ? 2 * tok->cap_merges : 1024;
        bt_span *p = realloc(tok->merges, cap * sizeof *p);
        if (!p) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory for %zu merges", tok->source, cap);
        tok->merges = p;
        tok->cap_merges = cap;
    }
    bt_span *m = &tok->merges[tok->n_merges];
    bt_status st = arena_add(tok, text, len, &m->off);
    m->len = (uint32_t)len;
    if (st == BT_OK) tok->n_merges++;
    return st;
}

static bt_status build_pieces(bt_tokenizer *tok) {
    bt_text piece = {0};
    bt_status st = BT_OK;
    for (int32_t id = 0; st == BT_OK && id < tok->n_vocab; id++) {
        st = tok->kind == BT_TOKENIZER_SPM ? bt_spm_piece(tok, id, &piece) : bt_bpe_piece(tok, id, &piece);
        if (st == BT_OK) st = arena_add(tok, piece.bytes, piece.len, &tok->tokens[id].piece_off);
        tok->tokens[id].piece_len = (uint32_t)piece.len;
    }
    bt_text_free(&piece);
    return st;
}

static bt_status build_token_map(bt_tokenizer *tok) {
    bt_status st = bt_strmap_init(&tok->token_by_text, tok->arena.bytes, (size_t)tok->n_vocab);
    for (int32_t id = 0; st == BT_OK && id < tok->n_vocab; id++) {
        const bt_token_entry *e = &tok->tokens[id];
        if (e->text_len > 0) bt_strmap_put(&tok->token_by_text, e->text_off, e->text_len, id);
    }
    return st;
}

typedef struct special_entry { uint32_t text_len; int32_t id; } special_entry;

static int longer_text_first(const void *a, const void *b) {
    const special_entry *x = a, *y = b;
    if (x->text_len != y->text_len) return x->text_len > y->text_len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int is_special_type(uint8_t type) {
    return type == BT_TOKEN_CONTROL || type == BT_TOKEN_USER_DEFINED || type == BT_TOKEN_UNKNOWN;
}

/* Control, user-defined and unknown tokens, longest spelling first (the order
 * in which llama.cpp cuts them out of the text). */
static bt_status build_special_list(bt_tokenizer *tok) {
    int32_t n = 0;
    for (int32_t id = 0; id < tok->n_vocab; id++)
        n += is_special_type(tok->tokens[id].type) && tok->tokens[id].text_len > 0;
    special_entry *entries = malloc((size_t)(n ? n : 1) * sizeof *entries);
    tok->special = malloc((size_t)(n ? n : 1) * sizeof *tok->special);
    if (!entries || !tok->special) {
        free(entries);
        return bt_set_error(BT_ERR_NOMEM, "%s: out of memory for %d special tokens", tok->source, n);
    }
    int32_t k = 0;
    for (int32_t id = 0; id < tok->n_vocab; id++)
        if (is_special_type(tok->tokens[id].type) && tok->tokens[id].text_len > 0)
            entries[k++] = (special_entry){tok->tokens[id].text_len, id};
    qsort(entries, (size_t)n, sizeof *entries, longer_text_first);
    for (k = 0; k < n; k++) tok->special[k] = entries[k].id;
    tok->n_special = n;
    free(entries);
    return BT_OK;
}

static bt_status check_special_ids(const bt_tokenizer *tok) {
    if (tok->add_bos && tok->bos < 0)
        return bt_set_error(BT_ERR_FORMAT, "%s: the vocabulary asks for BOS in front of the text but has no BOS token", tok->source);
    if (tok->add_eos && tok->eos < 0)
        return bt_set_error(BT_ERR_FORMAT, "%s: the vocabulary asks for EOS after the text but has no EOS token", tok->source);
    return BT_OK;
}

bt_status bt_tokenizer_finish(bt_tokenizer *tok) {
    /* Pieces first: they grow the arena, which the maps then point into. */
    bt_status st = check_special_ids(tok);
    if (st == BT_OK) st = build_pieces(tok);
    if (st == BT_OK) st = build_token_map(tok);
    if (st == BT_OK) st = tok->kind == BT_TOKENIZER_SPM ? bt_spm_prepare(tok) : bt_bpe_prepare(tok);
    if (st == BT_OK) st = build_special_list(tok);
    return st;
}
