/* tokenizer_spm.c - SentencePiece-style BPE with scores (Llama 1/2 vocabularies,
 * llama2.c's tokenizer.bin), as llama.cpp's llm_tokenizer_spm and llama2.c's encode().
 *
 * The text (with a space in front when asked, spaces spelled U+2581 "▁" in GGUF
 * vocabularies) starts as one symbol per UTF-8 character; the adjacent pair
 * whose concatenation is the token with the highest score merges first. A
 * final symbol that is no token becomes one <0xXX> byte token per byte.
 */
#include "tokenizer_internal.h"
#include "platform/platform.h"
#include <stdio.h>
#include <string.h>

static const char escaped_space[] = "\xE2\x96\x81";   /* U+2581 */
#define ESCAPED_SPACE_LEN 3

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* "<0xXX>" -> the byte XX; 0 if text is spelled otherwise. */
static int parse_byte_spelling(const char *text, size_t len, uint8_t *byte) {
    if (len != 6 || memcmp(text, "<0x", 3) != 0 || text[5] != '>') return 0;
    int hi = hex_digit(text[3]), lo = hex_digit(text[4]);
    if (hi < 0 || lo < 0) return 0;
    *byte = (uint8_t)(hi * 16 + lo);
    return 1;
}

bt_status bt_spm_prepare(bt_tokenizer *tok) {
    for (int b = 0; b < 256; b++) {
        char spelling[8];
        snprintf(spelling, sizeof spelling, "<0x%02X>", b);
        int32_t id = bt_strmap_get(&tok->token_by_text, spelling, 6);
        if (id < 0) {   /* as llama.cpp: a vocabulary without byte tokens may spell the byte itself */
            char raw = (char)b;
            id = bt_strmap_get(&tok->token_by_text, &raw, 1);
        }
        tok->byte_token[b] = id;
    }
    return BT_OK;
}

/* Appends text[0 .. len) to out with every `from` replaced by `to`. */
static bt_status append_replacing(bt_text *out, const char *text, size_t len,
                                  const char *from, size_t from_len, const char *to, size_t to_len) {
    for (size_t i = 0; i < len;) {
        const char *hit = bt_memmem(text + i, len - i, from, from_len);
        size_t run_end = hit ? (size_t)(hit - text) : len;
        bt_status st = bt_text_append(out, text + i, run_end - i);
        if (st == BT_OK && hit) st = bt_text_append(out, to, to_len);
        if (st != BT_OK) return st;
        i = hit ? run_end + from_len : len;
    }
    return BT_OK;
}

bt_status bt_spm_piece(const bt_tokenizer *tok, int32_t id, bt_text *out) {
    const bt_token_entry *e = &tok->tokens[id];
    const char *text = bt_token_text_ptr(tok, id);
    out->len = 0;
    switch ((bt_token_type)e->type) {
    case BT_TOKEN_NORMAL:
        if (!tok->escape_spaces) return bt_text_append(out, text, e->text_len);
        return append_replacing(out, text, e->text_len, escaped_space, ESCAPED_SPACE_LEN, " ", 1);
    case BT_TOKEN_BYTE: {
        uint8_t byte;
        if (!parse_byte_spelling(text, e->text_len, &byte))
            return bt_set_error(BT_ERR_FORMAT, "%s: token %d: a byte token must be spelled <0xXX>, found '%.*s'",
                                tok->source, id, (int)e->text_len, text);
        return bt_text_append(out, (const char *)&byte, 1);
    }
    case BT_TOKEN_CONTROL:
    case BT_TOKEN_UNKNOWN:
    case BT_TOKEN_USER_DEFINED:
        return bt_text_append(out, text, e->text_len);
    case BT_TOKEN_UNDEFINED:
    case BT_TOKEN_UNUSED:
        break;
    }
    return BT_OK;
}

/* A pair merges when it spells a token; the higher the score, the earlier. */
static int pair_score(void *ctx, const char *pair, size_t left_len, size_t len, double *priority) {
    const bt_tokenizer *tok = ctx;
    (void)left_len;
    int32_t id = bt_strmap_get(&tok->token_by_text, pair, len);
    if (id < 0) return 0;
    *priority = -(double)tok->tokens[id].score;
    return 1;
}

/* text with its spaces spelled as the vocabulary spells them. */
static bt_status escape_text(const bt_tokenizer *tok, bt_text *out, const char *text, size_t len, int prefix_space) {
    const char *space = tok->escape_spaces ? escaped_space : " ";
    size_t space_len = tok->escape_spaces ? ESCAPED_SPACE_LEN : 1;
    out->len = 0;
    bt_status st = prefix_space ? bt_text_append(out, space, space_len) : BT_OK;
    if (st != BT_OK) return st;
    if (!tok->escape_spaces) return bt_text_append(out, text, len);
    return append_replacing(out, text, len, " ", 1, space, space_len);
}

static bt_status push_bytes(const bt_tokenizer *tok, bt_token_ids *out, const char *bytes, size_t len) {
    for (size_t i = 0; i < len; i++) {
        int32_t id = tok->byte_token[(uint8_t)bytes[i]];
        if (id < 0) id = tok->unk;
        if (id < 0)
            return bt_set_error(BT_ERR_UNSUPPORTED, "%s: the vocabulary has no token for byte 0x%02X and no unknown token",
                                tok->source, (uint8_t)bytes[i]);
        bt_status st = bt_token_ids_push(out, id);
        if (st != BT_OK) return st;
    }
    return BT_OK;
}

bt_status bt_spm_encode(const bt_tokenizer *tok, bt_merger *m, bt_text *scratch, bt_token_ids *out,
                        const char *text, size_t len, int prefix_space) {
    bt_status st = escape_text(tok, scratch, text, len, prefix_space);
    if (st == BT_OK) st = bt_merger_run(m, scratch->bytes, scratch->len, pair_score, (void *)tok);
    for (int32_t i = m->n_symbols ? 0 : -1; st == BT_OK && i >= 0; i = m->symbols[i].next) {
        const char *sym = scratch->bytes + m->symbols[i].start;
        int32_t id = bt_strmap_get(&tok->token_by_text, sym, m->symbols[i].len);
        st = id >= 0 ? bt_token_ids_push(out, id) : push_bytes(tok, out, sym, m->symbols[i].len);
    }
    return st;
}
