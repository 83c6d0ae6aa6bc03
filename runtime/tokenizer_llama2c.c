/* tokenizer_llama2c.c - a tokenizer from llama2.c's tokenizer.bin:
 *   int32 max_token_length, then per token: float32 score, int32 length, bytes.
 * Spaces are spelled ' ' (export replaced U+2581), ids 0/1/2 are unk/bos/eos
 * (spelled "<unk>", "\n<s>\n", "\n</s>\n"), and <0xXX> are the byte tokens.
 * The file has no token types; they follow from those conventions. */
#include "tokenizer_internal.h"
#include "platform/platform.h"
#include <string.h>

static int32_t read_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

static int is_byte_spelling(const uint8_t *text, int32_t len) {
    return len == 6 && memcmp(text, "<0x", 3) == 0 && text[5] == '>';
}

static bt_token_type llama2c_type(int32_t id, const uint8_t *text, int32_t len) {
    if (id == 0) return BT_TOKEN_UNKNOWN;
    if (id <= 2) return BT_TOKEN_CONTROL;
    return is_byte_spelling(text, len) ? BT_TOKEN_BYTE : BT_TOKEN_NORMAL;
}

/* Walks the token records; with tok NULL it only counts them (*n_tokens). */
static bt_status read_records(const bt_mapped_file *f, const char *path, int32_t max_len,
                              int32_t want, bt_tokenizer *tok, int32_t *n_tokens) {
    size_t at = 4;
    int32_t id = 0;
    for (; at < f->size && (want == 0 || id < want); id++) {
        if (f->size - at < 8)
            return bt_set_error(BT_ERR_FORMAT, "%s: token %d: expected a float32 score and an int32 length, found %zu bytes",
                                path, id, f->size - at);
        float score;
        memcpy(&score, f->data + at, 4);
        int32_t len = read_i32(f->data + at + 4);
        at += 8;
        if (len < 0 || len > max_len)
            return bt_set_error(BT_ERR_FORMAT, "%s: token %d: expected a length in [0, %d] (max_token_length), found %d",
                                path, id, max_len, len);
        if ((size_t)len > f->size - at)
            return bt_set_error(BT_ERR_FORMAT, "%s: token %d: %d bytes of text, %zu left in the file", path, id, len, f->size - at);
        if (tok) {
            bt_status st = bt_tokenizer_set_token(tok, id, (const char *)f->data + at, (size_t)len, score,
                                                  llama2c_type(id, f->data + at, len));
            if (st != BT_OK) return st;
        }
        at += (size_t)len;
    }
    if (want && id < want)
        return bt_set_error(BT_ERR_FORMAT, "%s: vocab_size: expected %d tokens, the file ends after %d", path, want, id);
    if (at < f->size)
        return bt_set_error(BT_ERR_FORMAT, "%s: vocab_size: expected %d tokens, the file holds %zu more bytes after them",
                            path, want, f->size - at);
    *n_tokens = id;
    return BT_OK;
}

static bt_status read_tokenizer(const bt_mapped_file *f, const char *path, int32_t vocab_size, bt_tokenizer **out) {
    if (vocab_size < 0)
        return bt_set_error(BT_ERR_ARG, "%s: vocab_size: expected 0 (all) or a token count, found %d", path, vocab_size);
    if (f->size < 4)
        return bt_set_error(BT_ERR_FORMAT, "%s: max_token_length: expected an int32, the file has %zu bytes", path, f->size);
    int32_t max_len = read_i32(f->data);
    if (max_len <= 0) return bt_set_error(BT_ERR_FORMAT, "%s: max_token_length: expected a positive int32, found %d", path, max_len);
    int32_t n;
    bt_status st = read_records(f, path, max_len, vocab_size, NULL, &n);
    if (st == BT_OK && n < 3)
        return bt_set_error(BT_ERR_FORMAT, "%s: expected at least the 3 tokens unk, bos, eos, found %d", path, n);
    if (st == BT_OK) st = bt_tokenizer_new(out, BT_TOKENIZER_SPM, path, n);
    if (st == BT_OK) st = read_records(f, path, max_len, n, *out, &n);
    if (st != BT_OK) return st;
    bt_tokenizer *tok = *out;
    tok->escape_spaces = 0;
    tok->unk = 0;
    tok->bos = 1;
    tok->eos = 2;
    return bt_tokenizer_finish(tok);
}

bt_status bt_tokenizer_open_llama2c(bt_tokenizer **out, const char *path, int32_t vocab_size) {
    bt_mapped_file f;
    *out = NULL;
    bt_status st = bt_map_file(&f, path);
    if (st != BT_OK) return st;
    st = read_tokenizer(&f, path, vocab_size, out);
    bt_unmap_file(&f);
    if (st != BT_OK) {
        bt_tokenizer_free(*out);
        *out = NULL;
    }
    return st;
}
