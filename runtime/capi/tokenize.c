/* tokenize.c - text <-> token ids through the model's tokenizer for the C API
 * (runtime/tokenizer.h underneath), into caller-owned buffers, and the
 * streaming detokenizer for generated tokens. */
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"

static bt_status need_tokenizer(const bt_model *m) {
    if (!m) return bt_set_error(BT_ERR_ARG, "model is NULL");
    if (!m->tokenizer)
        return bt_set_error(BT_ERR_ARG, "%s: the model has no tokenizer (llama2.c checkpoints: give tokenizer_path)",
                            bt_model_file_path(m->file));
    return BT_OK;
}

/* Copies text into buf (NUL-terminated, cut to cap - 1); *len gets the full length. */
static void put_bytes(char *buf, size_t cap, size_t *len, const char *text, size_t n, int terminate) {
    if (len) *len = n;
    if (!buf || !cap) return;
    size_t k = n < cap - (terminate ? 1 : 0) ? n : cap - (terminate ? 1 : 0);
    if (k) memcpy(buf, text, k);
    if (terminate) buf[k] = 0;
}

bt_status bt_tokenize(const bt_model *m, const char *text, size_t len, unsigned flags, int32_t *ids, size_t cap,
                      size_t *n) {
    bt_status st = need_tokenizer(m);
    if (st) return st;
    if (!text && len) return bt_set_error(BT_ERR_ARG, "tokenize: text is NULL");
    bt_token_ids out = {0};
    unsigned f = (flags & BT_TOKENIZE_BOS ? BT_ENCODE_BOS : 0) | (flags & BT_TOKENIZE_EOS ? BT_ENCODE_EOS : 0) |
                 (flags & BT_TOKENIZE_SPECIAL ? BT_ENCODE_SPECIAL : 0);
    st = bt_tokenizer_encode(m->tokenizer, &out, text ? text : "", len, f);
    if (!st) {
        if (n) *n = out.n;
        if (out.n > cap || (!ids && out.n))
            st = bt_set_error(BT_ERR_ARG, "tokenize: %zu tokens do not fit a buffer of %zu", out.n, cap);
        else if (out.n)
            memcpy(ids, out.ids, out.n * sizeof *ids);
    }
    bt_token_ids_free(&out);
    return st;
}

bt_status bt_detokenize(const bt_model *m, const int32_t *ids, size_t n, char *buf, size_t cap, size_t *len) {
    bt_status st = need_tokenizer(m);
    if (st) return st;
    bt_text text = {0};
    st = bt_tokenizer_decode(m->tokenizer, &text, ids, n, 0);
    if (!st) put_bytes(buf, cap, len, text.bytes, text.len, 1);
    bt_text_free(&text);
    return st;
}

struct bt_text_stream {
    bt_token_stream stream;
    bt_text text;
};

bt_status bt_text_stream_new(bt_text_stream **out, const bt_model *m) {
    bt_status st = need_tokenizer(m);
    if (st) return st;
    bt_text_stream *s = calloc(1, sizeof *s);
    if (!s) return bt_set_error(BT_ERR_NOMEM, "text stream: out of memory");
    bt_token_stream_init(&s->stream, m->tokenizer, 0);
    *out = s;
    return BT_OK;
}

static bt_status emit(bt_text_stream *s, bt_status st, char *buf, size_t cap, size_t *len) {
    if (st) return st;
    if (s->text.len > cap) {
        if (len) *len = s->text.len;
        return bt_set_error(BT_ERR_ARG, "text stream: %zu bytes do not fit a buffer of %zu", s->text.len, cap);
    }
    put_bytes(buf, cap, len, s->text.bytes, s->text.len, 0);
    return BT_OK;
}

bt_status bt_text_stream_push(bt_text_stream *s, int32_t id, char *buf, size_t cap, size_t *len) {
    if (!s) return bt_set_error(BT_ERR_ARG, "text stream is NULL");
    return emit(s, bt_token_stream_push(&s->stream, &s->text, id), buf, cap, len);
}

bt_status bt_text_stream_flush(bt_text_stream *s, char *buf, size_t cap, size_t *len) {
    if (!s) return bt_set_error(BT_ERR_ARG, "text stream is NULL");
    return emit(s, bt_token_stream_flush(&s->stream, &s->text), buf, cap, len);
}

void bt_text_stream_free(bt_text_stream *s) {
    if (!s) return;
    bt_text_free(&s->text);
    free(s);
}
