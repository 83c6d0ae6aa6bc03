/* test_tokenizer_roundtrip.c - the tokenizers on random text (a new seed each
 * run): decode(encode(s)) == s for any bytes, SentencePiece encoding equal to a
 * straightforward quadratic re-implementation of llama2.c's encode(), the
 * streaming decoder never splitting a UTF-8 character, and a 100 KB text. */
#include "check.h"
#include "runtime/tokenizer.h"
#include "runtime/platform/platform.h"
#include "test_tokenizer_data.h"
#include <stdlib.h>
#include <string.h>

typedef struct rng { uint64_t state; } rng;

static rng rng_new(uint64_t salt) { return (rng){bt_test_seed() * 0x9e3779b97f4a7c15ull + salt}; }

static uint32_t rng_below(rng *r, uint32_t n) {   /* splitmix64 */
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((z ^ (z >> 31)) % n);
}

/* Appends bytes[0 .. len) to t and returns 1 (out of memory aborts the run). */
static int text_append(bt_text *t, const char *bytes, size_t len) {
    if (t->len + len > t->cap) {
        t->cap = 2 * (t->len + len);
        t->bytes = realloc(t->bytes, t->cap);
        if (!t->bytes) abort();
    }
    if (len) memcpy(t->bytes + t->len, bytes, len);
    t->len += len;
    return 1;
}

static const char *const sample_chars[] = {
    " ", " ", " ", "  ", "\n", "\t", "e", "t", "a", "o", "n", "s", "H", "W", "3", "14", "'s", "'ll", ".", ",", "!", "?",
    "\xC3\xA9", "\xC3\xB1", "\xD0\xB6", "\xE4\xB8\xAD", "\xE1\x9E\xB6", "\xF0\x9F\x98\x80", "\xF0\x9F\xA6\x99", "\xE2\x82\xAC",
};

/* Whether s[0 .. len) is whole UTF-8 characters (no character cut short). */
static int is_complete_utf8(const char *s, size_t len) {
    for (size_t i = 0; i < len;) {
        uint8_t lead = (uint8_t)s[i];
        size_t n = lead < 0x80 ? 1 : lead < 0xC2 ? 0 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : lead < 0xF5 ? 4 : 0;
        if (n == 0 || n > len - i) return 0;
        for (size_t k = 1; k < n; k++)
            if (((uint8_t)s[i + k] & 0xC0) != 0x80) return 0;
        i += n;
    }
    return 1;
}

/* Random text in t: common characters, multi-byte ones, pieces of normal
 * tokens of the vocabulary and, when raw_bytes, arbitrary bytes (invalid
 * UTF-8; otherwise pieces that are not whole characters are left out too). */
static void random_text(rng *r, const bt_tokenizer *tok, int raw_bytes, bt_text *t) {
    t->len = 0;
    size_t n_parts = rng_below(r, 40);
    for (size_t i = 0; i < n_parts; i++) {
        uint32_t kind = rng_below(r, 10);
        const char *part;
        size_t len;
        char byte;
        if (kind < 5) {
            part = sample_chars[rng_below(r, sizeof sample_chars / sizeof sample_chars[0])];
            len = strlen(part);
        } else if (kind < 9 || !raw_bytes) {
            int32_t id = (int32_t)rng_below(r, (uint32_t)bt_tokenizer_vocab_size(tok));
            if (bt_tokenizer_token_type(tok, id) != BT_TOKEN_NORMAL) continue;
            part = bt_tokenizer_piece(tok, id, &len);
            if (!raw_bytes && !is_complete_utf8(part, len)) continue;
        } else {
            byte = (char)(0x80 + rng_below(r, 0x80));
            part = &byte;
            len = 1;
        }
        text_append(t, part, len);
    }
}

/* U+2581 in the text decodes as ' ' in SentencePiece GGUF vocabularies: not a round trip. */
static int has_escaped_space(const bt_text *t) { return t->len && bt_memmem(t->bytes, t->len, "\xE2\x96\x81", 3) != NULL; }

static int open_data(bt_tokenizer **tok, const char *rel, char *why, size_t why_cap) {
    char path[1024];
    if (!bt_test_data_path(path, sizeof path, rel)) return 0;
    if (bt_tokenizer_open(tok, path, 0) != BT_OK) {
        snprintf(why, why_cap, "%s: %s", rel, bt_last_error());
        return -1;
    }
    return 1;
}

static const char *const all_vocabs[] = {
    "tokenizers/ggml-vocab-llama-spm.gguf", "tokenizers/ggml-vocab-gpt-2.gguf", "tokenizers/ggml-vocab-llama-bpe.gguf",
    "tokenizers/tokenizer.bin", "models/tok512.bin",
};
#define N_VOCABS (sizeof all_vocabs / sizeof all_vocabs[0])

/* ------------------------------------------------------------ round trip */

static int round_trips(const bt_tokenizer *tok, rng *r, int n_texts, char *why, size_t why_cap) {
    bt_text text = {0}, back = {0};
    bt_token_ids ids = {0};
    int ok = 1;
    for (int i = 0; ok && i < n_texts; i++) {
        random_text(r, tok, 1, &text);
        if (has_escaped_space(&text)) continue;
        ok = bt_tokenizer_encode(tok, &ids, text.bytes, text.len, 0) == BT_OK &&
             bt_tokenizer_decode(tok, &back, ids.ids, ids.n, 0) == BT_OK &&
             back.len == text.len && (!text.len || memcmp(back.bytes, text.bytes, text.len) == 0);
        if (!ok)
            snprintf(why, why_cap, "\"%.*s\" comes back as \"%.*s\" (%s)",
                     (int)text.len, text.bytes, (int)back.len, back.bytes, bt_last_error());
    }
    bt_text_free(&text);
    bt_text_free(&back);
    bt_token_ids_free(&ids);
    return ok;
}

BT_TEST(tokenizer_random_bytes_round_trip) {
    rng r = rng_new(1);
    for (size_t v = 0; v < N_VOCABS; v++) {
        bt_tokenizer *tok = NULL;
        char why[2048] = "";
        int opened = open_data(&tok, all_vocabs[v], why, sizeof why);
        if (opened == 0) BT_CHECK(0, "test data missing (spec/data)");
        int ok = opened > 0 && round_trips(tok, &r, 200, why, sizeof why);
        bt_tokenizer_free(tok);
        BT_CHECK(ok, "%s: %s", all_vocabs[v], why);
    }
}

/* ------------------------------------------------------------ llama2.c's encode() as reference */

typedef struct sorted_vocab {
    const bt_tokenizer *tok;
    int32_t *ids;   /* [n_vocab] sorted by spelling */
} sorted_vocab;

static const bt_tokenizer *sort_tok;   /* for qsort's comparator (tests run on one thread) */

static int compare_spelling(const char *a, size_t la, const char *b, size_t lb) {
    int c = memcmp(a, b, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int by_spelling(const void *x, const void *y) {
    size_t la, lb;
    const char *a = bt_tokenizer_token_text(sort_tok, *(const int32_t *)x, &la);
    const char *b = bt_tokenizer_token_text(sort_tok, *(const int32_t *)y, &lb);
    int c = compare_spelling(a, la, b, lb);
    return c ? c : *(const int32_t *)x - *(const int32_t *)y;
}

/* The lowest id spelled text[0 .. len), or -1 (binary search, as llama2.c). */
static int32_t lookup(const sorted_vocab *sv, const char *text, size_t len) {
    int32_t lo = 0, hi = bt_tokenizer_vocab_size(sv->tok) - 1, found = -1;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        size_t lm;
        const char *m = bt_tokenizer_token_text(sv->tok, sv->ids[mid], &lm);
        int c = compare_spelling(m, lm, text, len);
        if (c == 0) found = sv->ids[mid];
        if (c >= 0) hi = mid - 1;
        else lo = mid + 1;
    }
    return found;
}

/* llama2.c's encode(): characters (or their <0xXX> tokens) first, then always
 * the best-scoring adjacent pair merges, the leftmost on ties. */
static void reference_encode(const sorted_vocab *sv, const char *space, const bt_text *text, bt_token_ids *out) {
    char buf[512];
    out->n = 0;
    bt_text escaped = {0};
    size_t space_len = strlen(space);
    escaped.bytes = malloc(text->len * space_len + space_len + 1);
    out->ids = realloc(out->ids, (text->len * space_len + space_len + 1) * sizeof *out->ids);   /* >= one id per byte */
    if (!escaped.bytes || !out->ids) abort();
    if (text->len) {   /* the dummy prefix */
        memcpy(escaped.bytes, space, space_len);
        escaped.len = space_len;
    }
    for (size_t i = 0; i < text->len; i++) {
        const char *c = text->bytes[i] == ' ' ? space : &text->bytes[i];
        size_t n = text->bytes[i] == ' ' ? space_len : 1;
        memcpy(escaped.bytes + escaped.len, c, n);
        escaped.len += n;
    }
    for (size_t i = 0; i < escaped.len;) {
        uint8_t lead = (uint8_t)escaped.bytes[i];
        size_t n = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        int32_t id = lookup(sv, escaped.bytes + i, n);
        if (id >= 0) {
            out->ids[out->n++] = id;
        } else {
            for (size_t k = 0; k < n; k++) {
                snprintf(buf, sizeof buf, "<0x%02X>", (uint8_t)escaped.bytes[i + k]);
                out->ids[out->n++] = lookup(sv, buf, 6);
            }
        }
        i += n;
    }
    for (;;) {   /* quadratic, like llama2.c: fine for short texts */
        float best = -1e30f;
        int32_t best_id = -1;
        size_t best_at = 0;
        for (size_t i = 0; i + 1 < out->n; i++) {
            size_t la, lb;
            const char *a = bt_tokenizer_token_text(sv->tok, out->ids[i], &la);
            const char *b = bt_tokenizer_token_text(sv->tok, out->ids[i + 1], &lb);
            if (la + lb > sizeof buf) continue;
            memcpy(buf, a, la);
            memcpy(buf + la, b, lb);
            int32_t id = lookup(sv, buf, la + lb);
            if (id >= 0 && bt_tokenizer_token_score(sv->tok, id) > best) {
                best = bt_tokenizer_token_score(sv->tok, id);
                best_id = id;
                best_at = i;
            }
        }
        if (best_id < 0) break;
        out->ids[best_at] = best_id;
        memmove(out->ids + best_at + 1, out->ids + best_at + 2, (out->n - best_at - 2) * sizeof *out->ids);
        out->n--;
    }
    free(escaped.bytes);
}

typedef struct spm_vocab { const char *rel, *space; } spm_vocab;

BT_TEST(tokenizer_spm_matches_llama2c_reference) {
    static const spm_vocab vocabs[] = {
        {"models/tok512.bin", " "}, {"tokenizers/tokenizer.bin", " "}, {"tokenizers/ggml-vocab-llama-spm.gguf", "\xE2\x96\x81"},
    };
    rng r = rng_new(2);
    for (size_t v = 0; v < sizeof vocabs / sizeof vocabs[0]; v++) {
        char why[2048] = "";
        bt_tokenizer *tok = NULL;
        int opened = open_data(&tok, vocabs[v].rel, why, sizeof why);
        if (opened == 0) BT_CHECK(0, "test data missing (spec/data)");
        BT_CHECK(opened > 0, "%s", why);
        int32_t n = bt_tokenizer_vocab_size(tok);
        sorted_vocab sv = {tok, malloc((size_t)n * sizeof(int32_t))};
        for (int32_t i = 0; i < n; i++) sv.ids[i] = i;
        sort_tok = tok;
        qsort(sv.ids, (size_t)n, sizeof *sv.ids, by_spelling);
        bt_text text = {0};
        bt_token_ids got = {0}, want = {0};
        int ok = 1;
        for (int i = 0; ok && i < 150; i++) {
            random_text(&r, tok, 0, &text);
            reference_encode(&sv, vocabs[v].space, &text, &want);
            ok = bt_tokenizer_encode(tok, &got, text.bytes, text.len, 0) == BT_OK && got.n == want.n &&
                 (!got.n || memcmp(got.ids, want.ids, got.n * sizeof *got.ids) == 0);
            if (!ok) snprintf(why, sizeof why, "\"%.*s\": %zu ids, reference %zu", (int)text.len, text.bytes, got.n, want.n);
        }
        bt_text_free(&text);
        bt_token_ids_free(&got);
        bt_token_ids_free(&want);
        free(sv.ids);
        bt_tokenizer_free(tok);
        BT_CHECK(ok, "%s: %s", vocabs[v].rel, why);
    }
}

/* ------------------------------------------------------------ streaming decoder */

/* Pushes BOS and the ids of random text one at a time: every chunk of valid
 * text is whole characters, and all chunks plus the flush give the text back. */
static int stream_round_trips(const bt_tokenizer *tok, rng *r, int raw_bytes, char *why, size_t why_cap) {
    bt_text text = {0}, chunk = {0}, joined = {0};
    bt_token_ids ids = {0};
    bt_token_stream stream;
    int ok = 1;
    for (int i = 0; ok && i < 100; i++) {
        random_text(r, tok, raw_bytes, &text);
        if (has_escaped_space(&text)) continue;
        ok = bt_tokenizer_encode(tok, &ids, text.bytes, text.len, BT_ENCODE_BOS) == BT_OK;
        bt_token_stream_init(&stream, tok, 0);
        joined.len = 0;
        for (size_t k = 0; ok && k < ids.n; k++) {
            ok = bt_token_stream_push(&stream, &chunk, ids.ids[k]) == BT_OK &&
                 (raw_bytes || is_complete_utf8(chunk.bytes, chunk.len)) && text_append(&joined, chunk.bytes, chunk.len);
            if (!ok)
                snprintf(why, why_cap, "token %zu of \"%.*s\": chunk \"%.*s\" cuts a character",
                         k, (int)text.len, text.bytes, (int)chunk.len, chunk.bytes);
        }
        ok = ok && bt_token_stream_flush(&stream, &chunk) == BT_OK && text_append(&joined, chunk.bytes, chunk.len) &&
             joined.len == text.len && (!text.len || memcmp(joined.bytes, text.bytes, text.len) == 0);
        if (!ok && !*why)
            snprintf(why, why_cap, "\"%.*s\" streams as \"%.*s\"", (int)text.len, text.bytes, (int)joined.len, joined.bytes);
    }
    bt_text_free(&text);
    bt_text_free(&chunk);
    bt_text_free(&joined);
    bt_token_ids_free(&ids);
    return ok;
}

BT_TEST(tokenizer_stream_holds_back_partial_characters) {
    rng r = rng_new(3);
    for (size_t v = 0; v < N_VOCABS; v++) {
        bt_tokenizer *tok = NULL;
        char why[2048] = "";
        int opened = open_data(&tok, all_vocabs[v], why, sizeof why);
        if (opened == 0) BT_CHECK(0, "test data missing (spec/data)");
        int ok = opened > 0 && stream_round_trips(tok, &r, 0, why, sizeof why) && stream_round_trips(tok, &r, 1, why, sizeof why);
        bt_tokenizer_free(tok);
        BT_CHECK(ok, "%s: %s", all_vocabs[v], why);
    }
}

BT_TEST(tokenizer_stream_joins_a_character_split_over_byte_tokens) {
    bt_tokenizer *tok = NULL;
    char why[256] = "";
    int opened = open_data(&tok, "tokenizers/ggml-vocab-llama-spm.gguf", why, sizeof why);
    if (opened == 0) BT_CHECK(0, "test data missing (spec/data)");
    BT_CHECK(opened > 0, "%s", why);
    /* U+1F600 has no token in Llama 2: four byte tokens <0xF0> <0x9F> <0x98> <0x80>.
     * "▁" right after BOS loses its space (llama2.c's rule), leaving nothing. */
    static const int32_t ids[] = {1, 29871, 243, 162, 155, 131};
    static const char *const want[] = {"", "", "", "", "", "\xF0\x9F\x98\x80"};
    bt_token_stream stream;
    bt_token_stream_init(&stream, tok, 0);
    bt_text chunk = {0};
    int ok = 1;
    for (size_t k = 0; ok && k < 6; k++)
        ok = bt_token_stream_push(&stream, &chunk, ids[k]) == BT_OK && chunk.len == strlen(want[k]) &&
             (chunk.len == 0 || memcmp(chunk.bytes, want[k], chunk.len) == 0);
    bt_text_free(&chunk);
    bt_tokenizer_free(tok);
    BT_CHECK(ok, "streamed chunks differ");
}

/* ------------------------------------------------------------ a long text */

BT_TEST(tokenizer_round_trips_100k_of_text) {
    char path[1024];
    if (!bt_test_data_path(path, sizeof path, "text/tinystories_sample.txt")) BT_CHECK(0, "test data missing (spec/data)");
    size_t sample_len;
    char *sample = bt_test_read_file(path, &sample_len);
    BT_CHECK(sample && sample_len > 0, "%s: unreadable", path);
    bt_text text = {0}, back = {0};
    while (text.len < 100 * 1024) text_append(&text, sample, sample_len);
    free(sample);
    for (size_t v = 0; v < N_VOCABS; v++) {
        bt_tokenizer *tok = NULL;
        char why[1024] = "";
        int opened = open_data(&tok, all_vocabs[v], why, sizeof why);
        if (opened == 0) BT_CHECK(0, "test data missing (spec/data)");
        bt_token_ids ids = {0};
        int ok = opened > 0 && bt_tokenizer_encode(tok, &ids, text.bytes, text.len, BT_ENCODE_BOS) == BT_OK &&
                 ids.n > text.len / 8 && ids.n < text.len &&
                 bt_tokenizer_decode(tok, &back, ids.ids, ids.n, 0) == BT_OK &&
                 back.len == text.len && memcmp(back.bytes, text.bytes, text.len) == 0;
        size_t n_ids = ids.n;
        bt_token_ids_free(&ids);
        bt_tokenizer_free(tok);
        BT_CHECK(ok, "%s: %zu bytes -> %zu ids, no round trip (%s %s)", all_vocabs[v], text.len, n_ids, why, bt_last_error());
    }
    bt_text_free(&text);
    bt_text_free(&back);
}
