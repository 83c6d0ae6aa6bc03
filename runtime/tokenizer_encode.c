/* tokenizer_encode.c - text -> token ids: BOS/EOS, special tokens cut out of
 * the text when asked (as llama.cpp's tokenizer_st_partition: longest spelling
 * first), and the text between them handed to the vocabulary's BPE. */
#include "tokenizer_internal.h"
#include "platform/platform.h"
#include <stdlib.h>
#include <string.h>

/* A special token, or a stretch of the text. */
typedef struct fragment {
    int32_t token;       /* >= 0: this special token; -1: text[off .. off+len) */
    size_t off, len;
} fragment;

typedef struct fragment_list {
    fragment *items;     /* [n] */
    size_t n, cap;
} fragment_list;

static bt_status fragment_push(fragment_list *l, fragment f) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        fragment *p = realloc(l->items, cap * sizeof *p);
        if (!p) return bt_set_error(BT_ERR_NOMEM, "tokenizer: out of memory for %zu text fragments", cap);
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n++] = f;
    return BT_OK;
}

/* Cuts every occurrence of special token `id` out of the text fragments of `in`. */
static bt_status cut_special(const bt_tokenizer *tok, int32_t id, const char *text,
                             const fragment_list *in, fragment_list *out) {
    size_t special_len;
    const char *special = bt_tokenizer_token_text(tok, id, &special_len);
    out->n = 0;
    bt_status st = BT_OK;
    for (size_t i = 0; st == BT_OK && i < in->n; i++) {
        fragment f = in->items[i];
        if (f.token >= 0) {
            st = fragment_push(out, f);
            continue;
        }
        size_t at = f.off, end = f.off + f.len;
        const char *hit;
        while (st == BT_OK && (hit = bt_memmem(text + at, end - at, special, special_len))) {
            size_t hit_at = (size_t)(hit - text);
            if (hit_at > at) st = fragment_push(out, (fragment){-1, at, hit_at - at});
            if (st == BT_OK) st = fragment_push(out, (fragment){id, 0, 0});
            at = hit_at + special_len;
        }
        if (st == BT_OK && at < end) st = fragment_push(out, (fragment){-1, at, end - at});
    }
    return st;
}

static bt_status split_fragments(const bt_tokenizer *tok, const char *text, size_t len, int parse_special,
                                 fragment_list *frags) {
    frags->n = 0;
    if (len == 0) return BT_OK;
    bt_status st = fragment_push(frags, (fragment){-1, 0, len});
    if (!parse_special) return st;
    fragment_list other = {0};
    for (int32_t k = 0; st == BT_OK && k < tok->n_special; k++) {
        st = cut_special(tok, tok->special[k], text, frags, &other);
        fragment_list swap = *frags;
        *frags = other;
        other = swap;
    }
    free(other.items);
    return st;
}

static bt_status push_special(const bt_tokenizer *tok, bt_token_ids *out, int32_t id, const char *what) {
    if (id < 0) return bt_set_error(BT_ERR_ARG, "%s: %s was asked for but the vocabulary has none", tok->source, what);
    return bt_token_ids_push(out, id);
}

bt_status bt_tokenizer_encode(const bt_tokenizer *tok, bt_token_ids *out,
                              const char *text, size_t len, unsigned flags) {
    out->n = 0;
    fragment_list frags = {0};
    bt_merger merger = {0};
    bt_text scratch = {0};
    bt_status st = flags & BT_ENCODE_BOS ? push_special(tok, out, tok->bos, "BOS") : BT_OK;
    if (st == BT_OK) st = split_fragments(tok, text, len, (flags & BT_ENCODE_SPECIAL) != 0, &frags);
    int after_special = 1;   /* SentencePiece puts a space in front of text that starts or follows a special token */
    for (size_t i = 0; st == BT_OK && i < frags.n; i++) {
        const fragment *f = &frags.items[i];
        if (f->token >= 0) {
            st = bt_token_ids_push(out, f->token);
            after_special = 1;
            continue;
        }
        if (tok->kind == BT_TOKENIZER_SPM)
            st = bt_spm_encode(tok, &merger, &scratch, out, text + f->off, f->len, tok->add_space_prefix && after_special);
        else
            st = bt_bpe_encode(tok, &merger, &scratch, out, text + f->off, f->len);
        after_special = 0;
    }
    if (st == BT_OK && (flags & BT_ENCODE_EOS)) st = push_special(tok, out, tok->eos, "EOS");
    free(frags.items);
    bt_merger_free(&merger);
    bt_text_free(&scratch);
    return st;
}
