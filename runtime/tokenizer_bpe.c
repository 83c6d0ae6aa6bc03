/* tokenizer_bpe.c - byte-level BPE with merges (GPT-2, Llama 3), as llama.cpp's
 * llm_tokenizer_bpe and Hugging Face's ByteLevel BPE.
 *
 * A pre-tokenizer regex (PCRE2, Unicode properties) cuts the text into words.
 * Each byte of a word becomes one printable character (GPT-2's bytes_to_unicode:
 * printable Latin-1 bytes stand for themselves, the other 68 bytes for U+0100..
 * U+0143 in order), and adjacent pieces merge lowest merge rank first.
 */
#include "tokenizer_internal.h"
#include <stdlib.h>
#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* ------------------------------------------------------------ pre-tokenizers */

/* Hugging Face's GPT-2 ByteLevel split. */
#define GPT2_PATTERN \
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
/* Llama 3's split; the case-insensitive contractions (?i:'s|...) are spelled out
 * ASCII-only as llama.cpp does (PCRE2's caseless 's' would also take U+017F). */
#define LLAMA3_PATTERN \
    "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" \
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

typedef struct pretokenizer_spec {
    const char *names[4];     /* tokenizer.ggml.pre values, NULL-terminated */
    const char *pattern;
    int ignore_merges;        /* a word that is a token stays whole */
    int add_bos;              /* default of tokenizer.ggml.add_bos_token */
} pretokenizer_spec;

static const pretokenizer_spec pretokenizers[] = {
    {{"default", "gpt2", "gpt-2", NULL}, GPT2_PATTERN, 0, 0},
    {{"llama-bpe", "llama3", "llama-v3", NULL}, LLAMA3_PATTERN, 1, 1},
};
#define N_PRETOKENIZERS (sizeof pretokenizers / sizeof pretokenizers[0])

struct bt_pretokenizer {
    pcre2_code *regex;
};

static const pretokenizer_spec *find_pretokenizer(const char *name, size_t len) {
    for (size_t i = 0; i < N_PRETOKENIZERS; i++)
        for (const char *const *n = pretokenizers[i].names; *n; n++)
            if (strlen(*n) == len && memcmp(*n, name, len) == 0) return &pretokenizers[i];
    return NULL;
}

bt_status bt_bpe_set_pretokenizer(bt_tokenizer *tok, const char *name, size_t len) {
    const pretokenizer_spec *spec = find_pretokenizer(name, len);
    if (!spec)
        return bt_set_error(BT_ERR_UNSUPPORTED,
                            "%s: tokenizer.ggml.pre: unknown pre-tokenizer '%.*s' "
                            "(known: default, gpt2, gpt-2, llama-bpe, llama3, llama-v3)",
                            tok->source, (int)len, name);
    bt_bpe_release(tok);
    tok->pretokenizer = calloc(1, sizeof *tok->pretokenizer);
    if (!tok->pretokenizer) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory for the pre-tokenizer", tok->source);
    int err;
    PCRE2_SIZE err_at;
    tok->pretokenizer->regex = pcre2_compile((PCRE2_SPTR)spec->pattern, PCRE2_ZERO_TERMINATED,
                                             PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &err_at, NULL);
    if (!tok->pretokenizer->regex) {
        char msg[256];
        pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof msg);
        return bt_set_error(BT_ERR_UNSUPPORTED, "%s: pre-tokenizer '%.*s': PCRE2 rejects its regex at %zu: %s",
                            tok->source, (int)len, name, (size_t)err_at, msg);
    }
    pcre2_jit_compile(tok->pretokenizer->regex, PCRE2_JIT_COMPLETE);   /* the interpreter serves if JIT is unavailable */
    tok->ignore_merges = spec->ignore_merges;
    tok->add_bos = spec->add_bos;
    return BT_OK;
}

void bt_bpe_release(bt_tokenizer *tok) {
    if (!tok->pretokenizer) return;
    pcre2_code_free(tok->pretokenizer->regex);
    free(tok->pretokenizer);
    tok->pretokenizer = NULL;
}

/* ------------------------------------------------------------ byte <-> character */

static int byte_is_printable(unsigned b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
}

/* The code point that stands for byte b. */
static uint32_t byte_char(uint8_t b) {
    if (byte_is_printable(b)) return b;
    if (b <= 0x20) return 0x100 + b;                /* 0x00..0x20 -> U+0100..U+0120 */
    if (b <= 0xA0) return 0x121 + (b - 0x7F);       /* 0x7F..0xA0 -> U+0121..U+0142 */
    return 0x143;                                   /* 0xAD */
}

/* The byte that code point cp stands for, or -1. */
static int char_byte(uint32_t cp) {
    if (cp < 0x100) return byte_is_printable(cp) ? (int)cp : -1;
    if (cp <= 0x120) return (int)(cp - 0x100);
    if (cp <= 0x142) return (int)(cp - 0x121 + 0x7F);
    if (cp == 0x143) return 0xAD;
    return -1;
}

/* UTF-8 of a code point below U+0800 (all byte_char values are). */
static size_t encode_small_char(uint32_t cp, char out[2]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

/* The code point at s[0 .. n) and its length; a malformed sequence gives -1 and length 1. */
static size_t decode_char(const char *s, size_t n, int64_t *cp) {
    uint8_t lead = (uint8_t)s[0];
    size_t len = bt_utf8_char_len(lead);
    *cp = -1;
    if (lead < 0x80) {
        *cp = lead;
        return 1;
    }
    if (lead < 0xC2 || lead > 0xF4 || len > n) return 1;
    uint32_t v = lead & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if (((uint8_t)s[i] & 0xC0) != 0x80) return 1;
        v = (v << 6) | ((uint8_t)s[i] & 0x3F);
    }
    *cp = v;
    return len;
}

bt_status bt_bpe_piece(const bt_tokenizer *tok, int32_t id, bt_text *out) {
    const bt_token_entry *e = &tok->tokens[id];
    const char *text = bt_token_text_ptr(tok, id);
    out->len = 0;
    switch ((bt_token_type)e->type) {
    case BT_TOKEN_NORMAL:
    case BT_TOKEN_BYTE:
        for (size_t i = 0; i < e->text_len;) {
            int64_t cp;
            size_t n = decode_char(text + i, e->text_len - i, &cp);
            int byte = cp >= 0 ? char_byte((uint32_t)cp) : -1;
            char b = (char)byte;
            /* A character outside the byte table is kept as it is spelled. */
            bt_status st = byte >= 0 ? bt_text_append(out, &b, 1) : bt_text_append(out, text + i, n);
            if (st != BT_OK) return st;
            i += n;
        }
        return BT_OK;
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

bt_status bt_bpe_prepare(bt_tokenizer *tok) {
    bt_status st = tok->pretokenizer ? BT_OK : bt_bpe_set_pretokenizer(tok, "default", 7);
    if (st != BT_OK) return st;
    for (int b = 0; b < 256; b++) {
        char utf8[2];
        size_t n = encode_small_char(byte_char((uint8_t)b), utf8);
        tok->byte_token[b] = bt_strmap_get(&tok->token_by_text, utf8, n);
    }
    if (tok->n_merges > INT32_MAX)
        return bt_set_error(BT_ERR_FORMAT, "%s: tokenizer.ggml.merges: %zu merges, at most %d supported",
                            tok->source, tok->n_merges, INT32_MAX);
    st = bt_strmap_init(&tok->merge_rank, tok->arena.bytes, tok->n_merges);
    for (size_t r = 0; st == BT_OK && r < tok->n_merges; r++)
        bt_strmap_put(&tok->merge_rank, tok->merges[r].off, tok->merges[r].len, (int32_t)r);
    free(tok->merges);   /* the map holds them now */
    tok->merges = NULL;
    tok->cap_merges = 0;
    return st;
}

/* ------------------------------------------------------------ encoding */

typedef struct rank_lookup {
    const bt_tokenizer *tok;
    bt_text key;   /* "left right" */
} rank_lookup;

/* A pair merges when "left right" is a merge; the lower its rank, the earlier.
 * The key buffer holds a whole word plus the space (reserved by encode_word). */
static int pair_rank(void *ctx, const char *pair, size_t left_len, size_t len, double *priority) {
    rank_lookup *r = ctx;
    memcpy(r->key.bytes, pair, left_len);
    r->key.bytes[left_len] = ' ';
    memcpy(r->key.bytes + left_len + 1, pair + left_len, len - left_len);
    int32_t rank = bt_strmap_get(&r->tok->merge_rank, r->key.bytes, len + 1);
    if (rank < 0) return 0;
    *priority = rank;
    return 1;
}

/* The token of each character of sym (each stands for one byte of the text). */
static bt_status push_characters(const bt_tokenizer *tok, bt_token_ids *out, const char *sym, size_t len) {
    for (size_t i = 0; i < len;) {
        size_t n = bt_utf8_char_len((uint8_t)sym[i]);
        if (n > len - i) n = len - i;
        int32_t id = bt_strmap_get(&tok->token_by_text, sym + i, n);
        if (id < 0)
            return bt_set_error(BT_ERR_UNSUPPORTED, "%s: the vocabulary has no token for the byte character '%.*s'",
                                tok->source, (int)n, sym + i);
        bt_status st = bt_token_ids_push(out, id);
        if (st != BT_OK) return st;
        i += n;
    }
    return BT_OK;
}

static bt_status encode_word(const bt_tokenizer *tok, bt_merger *m, bt_text *chars, rank_lookup *ranks,
                             bt_token_ids *out, const char *word, size_t len) {
    chars->len = 0;
    for (size_t i = 0; i < len; i++) {
        char utf8[2];
        bt_status st = bt_text_append(chars, utf8, encode_small_char(byte_char((uint8_t)word[i]), utf8));
        if (st != BT_OK) return st;
    }
    if (tok->ignore_merges) {
        int32_t id = bt_strmap_get(&tok->token_by_text, chars->bytes, chars->len);
        if (id >= 0) return bt_token_ids_push(out, id);
    }
    bt_status st = bt_text_reserve(&ranks->key, chars->len + 1);
    if (st == BT_OK) st = bt_merger_run(m, chars->bytes, chars->len, pair_rank, ranks);
    for (int32_t i = m->n_symbols ? 0 : -1; st == BT_OK && i >= 0; i = m->symbols[i].next) {
        const char *sym = chars->bytes + m->symbols[i].start;
        int32_t id = bt_strmap_get(&tok->token_by_text, sym, m->symbols[i].len);
        st = id >= 0 ? bt_token_ids_push(out, id) : push_characters(tok, out, sym, m->symbols[i].len);
    }
    return st;
}

bt_status bt_bpe_encode(const bt_tokenizer *tok, bt_merger *m, bt_text *scratch, bt_token_ids *out,
                        const char *text, size_t len) {
    const pcre2_code *regex = tok->pretokenizer->regex;
    pcre2_match_data *match = pcre2_match_data_create_from_pattern(regex, NULL);
    if (!match) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory for regex matching", tok->source);
    rank_lookup ranks = {tok, {0}};
    bt_status st = BT_OK;
    for (size_t at = 0; st == BT_OK && at < len;) {
        int rc = pcre2_match(regex, (PCRE2_SPTR)text, len, at, 0, match, NULL);
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
            st = bt_set_error(BT_ERR_ARG, "%s: pre-tokenizer regex failed at byte %zu (PCRE2 error %d)", tok->source, at, rc);
            break;
        }
        const PCRE2_SIZE *span = pcre2_get_ovector_pointer(match);
        size_t start = rc < 0 ? len : span[0];
        size_t end = rc < 0 ? len : span[1] > span[0] ? span[1] : span[0] + 1;
        /* Bytes no alternative takes (invalid UTF-8) form a word of their own. */
        if (start > at) st = encode_word(tok, m, scratch, &ranks, out, text + at, start - at);
        if (st == BT_OK && end > start) st = encode_word(tok, m, scratch, &ranks, out, text + start, end - start);
        at = end;
    }
    bt_text_free(&ranks.key);
    pcre2_match_data_free(match);
    return st;
}
