/* tokenizer.c - the tokenizer's public face: opening a file by its kind, the
 * vocabulary accessors, the growable output buffers, decoding and the
 * streaming decoder. Encoding is in tokenizer_encode.c, the loaders in
 * tokenizer_gguf.c and tokenizer_llama2c.c. */
#include "tokenizer_internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "platform/platform.h"

/* ------------------------------------------------------------ lifecycle */

bt_status bt_tokenizer_open(bt_tokenizer **out, const char *path, int32_t vocab_size) {
    *out = NULL;
    const char *kind = bt_path_kind(path);
    if (kind && strcmp(kind, "file") != 0)   /* a FIFO would block fopen */
        return bt_set_error(BT_ERR_IO, "%s: a %s, not a tokenizer file", path, kind);
    char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return bt_set_error(BT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (got < sizeof magic || memcmp(magic, "GGUF", 4) != 0) return bt_tokenizer_open_llama2c(out, path, vocab_size);
    bt_status st = bt_tokenizer_open_gguf(out, path);
    if (st == BT_OK && vocab_size > 0 && vocab_size != (*out)->n_vocab) {
        st = bt_set_error(BT_ERR_ARG, "%s: tokenizer.ggml.tokens: %d tokens were asked for, the file holds %d",
                          path, vocab_size, (*out)->n_vocab);
        bt_tokenizer_free(*out);
        *out = NULL;
    }
    return st;
}

void bt_tokenizer_free(bt_tokenizer *tok) {
    if (!tok) return;
    bt_strmap_free(&tok->token_by_text);
    bt_strmap_free(&tok->merge_rank);
    bt_bpe_release(tok);
    bt_text_free(&tok->arena);
    free(tok->merges);
    free(tok->special);
    free(tok->tokens);
    free(tok->source);
    free(tok);
}

/* ------------------------------------------------------------ vocabulary */

bt_tokenizer_kind bt_tokenizer_kind_of(const bt_tokenizer *tok) { return tok->kind; }
int32_t bt_tokenizer_vocab_size(const bt_tokenizer *tok) { return tok->n_vocab; }
int32_t bt_tokenizer_bos(const bt_tokenizer *tok) { return tok->bos; }
int32_t bt_tokenizer_eos(const bt_tokenizer *tok) { return tok->eos; }
int bt_tokenizer_add_bos(const bt_tokenizer *tok) { return tok->add_bos; }
int bt_tokenizer_add_eos(const bt_tokenizer *tok) { return tok->add_eos; }

static int id_in_range(const bt_tokenizer *tok, int32_t id) { return id >= 0 && id < tok->n_vocab; }

bt_token_type bt_tokenizer_token_type(const bt_tokenizer *tok, int32_t id) {
    return id_in_range(tok, id) ? (bt_token_type)tok->tokens[id].type : BT_TOKEN_UNDEFINED;
}

float bt_tokenizer_token_score(const bt_tokenizer *tok, int32_t id) {
    return id_in_range(tok, id) ? tok->tokens[id].score : 0.0f;
}

const char *bt_tokenizer_token_text(const bt_tokenizer *tok, int32_t id, size_t *len) {
    *len = id_in_range(tok, id) ? tok->tokens[id].text_len : 0;
    return id_in_range(tok, id) ? tok->arena.bytes + tok->tokens[id].text_off : "";
}

const char *bt_tokenizer_piece(const bt_tokenizer *tok, int32_t id, size_t *len) {
    *len = id_in_range(tok, id) ? tok->tokens[id].piece_len : 0;
    return id_in_range(tok, id) ? tok->arena.bytes + tok->tokens[id].piece_off : "";
}

/* ------------------------------------------------------------ buffers */

bt_status bt_text_reserve(bt_text *t, size_t cap) {
    if (cap <= t->cap) return BT_OK;
    size_t cap2 = t->cap ? t->cap : 64;
    while (cap2 < cap) cap2 *= 2;
    char *p = realloc(t->bytes, cap2);
    if (!p) return bt_set_error(BT_ERR_NOMEM, "tokenizer: out of memory for %zu bytes of text", cap2);
    t->bytes = p;
    t->cap = cap2;
    return BT_OK;
}

bt_status bt_text_append(bt_text *t, const char *bytes, size_t len) {
    bt_status st = bt_text_reserve(t, t->len + len);
    if (st != BT_OK) return st;
    if (len) memcpy(t->bytes + t->len, bytes, len);
    t->len += len;
    return BT_OK;
}

void bt_text_free(bt_text *text) {
    free(text->bytes);
    *text = (bt_text){0};
}

bt_status bt_token_ids_push(bt_token_ids *ids, int32_t id) {
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? 2 * ids->cap : 64;
        int32_t *p = realloc(ids->ids, cap * sizeof *p);
        if (!p) return bt_set_error(BT_ERR_NOMEM, "tokenizer: out of memory for %zu token ids", cap);
        ids->ids = p;
        ids->cap = cap;
    }
    ids->ids[ids->n++] = id;
    return BT_OK;
}

void bt_token_ids_free(bt_token_ids *ids) {
    free(ids->ids);
    *ids = (bt_token_ids){0};
}

/* ------------------------------------------------------------ decoding */

static bt_status check_id(const bt_tokenizer *tok, int32_t id) {
    if (id_in_range(tok, id)) return BT_OK;
    return bt_set_error(BT_ERR_ARG, "%s: token id %d out of range [0, %d)", tok->source, id, tok->n_vocab);
}

/* Control and unknown tokens print nothing unless asked to. */
static int is_hidden(const bt_tokenizer *tok, int32_t id, int render_special) {
    uint8_t type = tok->tokens[id].type;
    return !render_special && (type == BT_TOKEN_CONTROL || type == BT_TOKEN_UNKNOWN);
}

bt_status bt_tokenizer_decode(const bt_tokenizer *tok, bt_text *out,
                              const int32_t *ids, size_t n, int render_special) {
    out->len = 0;
    int at_text_start = 1;
    for (size_t i = 0; i < n; i++) {
        bt_status st = check_id(tok, ids[i]);
        if (st != BT_OK) return st;
        if (is_hidden(tok, ids[i], render_special)) continue;
        size_t len;
        const char *piece = bt_tokenizer_piece(tok, ids[i], &len);
        if (len == 0) continue;
        /* The space SentencePiece put in front of the text goes again. */
        if (at_text_start && tok->add_space_prefix && piece[0] == ' ') {
            piece++;
            len--;
        }
        at_text_start = 0;
        st = bt_text_append(out, piece, len);
        if (st != BT_OK) return st;
    }
    return BT_OK;
}

/* ------------------------------------------------------------ streaming decoder */

void bt_token_stream_init(bt_token_stream *s, const bt_tokenizer *tok, int render_special) {
    *s = (bt_token_stream){.tok = tok, .render_special = render_special};
}

/* Bytes at the end of text[0 .. len) that start a UTF-8 character still missing bytes. */
static size_t incomplete_tail(const char *text, size_t len) {
    for (size_t back = 1; back <= 3 && back <= len; back++) {
        uint8_t b = (uint8_t)text[len - back];
        if ((b & 0xC0) == 0x80) continue;   /* continuation byte: its lead is further back */
        return b >= 0xC0 && bt_utf8_char_len(b) > back ? back : 0;
    }
    return 0;
}

bt_status bt_token_stream_push(bt_token_stream *s, bt_text *out, int32_t id) {
    const bt_tokenizer *tok = s->tok;
    out->len = 0;
    bt_status st = check_id(tok, id);
    if (st != BT_OK) return st;
    int after_bos = s->after_bos;
    s->after_bos = id == tok->bos;
    if (is_hidden(tok, id, s->render_special)) return BT_OK;
    size_t len;
    const char *piece = bt_tokenizer_piece(tok, id, &len);
    if (after_bos && tok->add_space_prefix && len > 0 && piece[0] == ' ') {
        piece++;
        len--;
    }
    st = bt_text_append(out, s->pending, s->n_pending);
    if (st == BT_OK) st = bt_text_append(out, piece, len);
    if (st != BT_OK) return st;
    s->n_pending = incomplete_tail(out->bytes, out->len);
    out->len -= s->n_pending;
    if (s->n_pending) memcpy(s->pending, out->bytes + out->len, s->n_pending);
    return BT_OK;
}

bt_status bt_token_stream_flush(bt_token_stream *s, bt_text *out) {
    out->len = 0;
    bt_status st = bt_text_append(out, s->pending, s->n_pending);
    bt_token_stream_init(s, s->tok, s->render_special);
    return st;
}
