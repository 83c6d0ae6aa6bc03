/* tokenizer_internal.h - the tokenizer object, shared by the tokenizer_*.c files.
 *
 * Loaders (tokenizer_gguf.c, tokenizer_llama2c.c) create it with
 * bt_tokenizer_new, add every token (and BPE merge), set the fields they know
 * and call bt_tokenizer_finish, which validates and builds the lookup tables.
 * The algorithms live in tokenizer_spm.c and tokenizer_bpe.c.
 */
#ifndef BT_TOKENIZER_INTERNAL_H
#define BT_TOKENIZER_INTERNAL_H
#include "tokenizer.h"
#include "tokenizer_merge.h"
#include "tokenizer_strmap.h"

typedef struct bt_token_entry {
    uint32_t text_off, text_len;     /* vocabulary spelling, in the arena */
    uint32_t piece_off, piece_len;   /* the bytes it stands for, in the arena */
    float score;                     /* SentencePiece merge score */
    uint8_t type;                    /* bt_token_type */
} bt_token_entry;

typedef struct bt_pretokenizer bt_pretokenizer;   /* tokenizer_bpe.c */

typedef struct bt_span {
    uint32_t off, len;               /* arena[off .. off+len) */
} bt_span;

struct bt_tokenizer {
    bt_tokenizer_kind kind;
    char *source;                    /* file name, for messages */
    int32_t n_vocab;
    bt_token_entry *tokens;          /* [n_vocab] */
    bt_text arena;                   /* every string below, back to back */
    bt_strmap token_by_text;         /* spelling -> id (the first id when spelled twice) */

    /* byte-level BPE */
    size_t n_merges, cap_merges;
    bt_span *merges;                 /* [n_merges] "left right", rank = index */
    bt_strmap merge_rank;            /* "left right" -> rank */
    bt_pretokenizer *pretokenizer;
    int ignore_merges;               /* a word that is a token stays whole (Llama 3) */

    /* SentencePiece */
    int add_space_prefix;            /* put ' ' in front of the text */
    int escape_spaces;               /* spaces are spelled U+2581 */

    int32_t byte_token[256];         /* the token of each byte (<0xXX>, or BPE's byte character); -1: none */
    int32_t *special;                /* [n_special] control/user-defined/unknown ids, longest text first */
    int32_t n_special;
    int32_t bos, eos, unk;           /* -1: none */
    int add_bos, add_eos;
};

/* An empty tokenizer of n_vocab tokens (all undefined) with the defaults of `kind`. */
bt_status bt_tokenizer_new(bt_tokenizer **out, bt_tokenizer_kind kind, const char *source, int32_t n_vocab);
bt_status bt_tokenizer_set_token(bt_tokenizer *tok, int32_t id, const char *text, size_t len,
                                 float score, bt_token_type type);
bt_status bt_tokenizer_add_merge(bt_tokenizer *tok, const char *text, size_t len);
/* Validates ids and builds pieces, maps and the special-token list. */
bt_status bt_tokenizer_finish(bt_tokenizer *tok);

bt_status bt_text_reserve(bt_text *t, size_t cap);
bt_status bt_text_append(bt_text *t, const char *bytes, size_t len);
bt_status bt_token_ids_push(bt_token_ids *ids, int32_t id);

static inline const char *bt_token_text_ptr(const bt_tokenizer *tok, int32_t id) {
    return tok->arena.bytes + tok->tokens[id].text_off;
}

/* The two algorithms. *_piece writes the bytes token `id` stands for into
 * `out` (replacing); *_encode appends the ids of text[0 .. len) to `out`,
 * using `m` and `scratch` as working memory. */

/* SentencePiece-style BPE (tokenizer_spm.c). */
bt_status bt_spm_prepare(bt_tokenizer *tok);   /* the <0xXX> token of each byte */
bt_status bt_spm_piece(const bt_tokenizer *tok, int32_t id, bt_text *out);
bt_status bt_spm_encode(const bt_tokenizer *tok, bt_merger *m, bt_text *scratch, bt_token_ids *out,
                        const char *text, size_t len, int prefix_space);

/* Byte-level BPE (tokenizer_bpe.c). The pre-tokenizer named `name`
 * (tokenizer.ggml.pre) also sets ignore_merges and the add_bos default. */
bt_status bt_bpe_set_pretokenizer(bt_tokenizer *tok, const char *name, size_t len);
bt_status bt_bpe_prepare(bt_tokenizer *tok);   /* byte tokens, merge ranks, default pre-tokenizer */
void bt_bpe_release(bt_tokenizer *tok);        /* the compiled pre-tokenizer */
bt_status bt_bpe_piece(const bt_tokenizer *tok, int32_t id, bt_text *out);
bt_status bt_bpe_encode(const bt_tokenizer *tok, bt_merger *m, bt_text *scratch, bt_token_ids *out,
                        const char *text, size_t len);

#endif
