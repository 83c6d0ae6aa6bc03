/* test_tokenizer_files.c - the tokenizer loaders on small vocabularies written
 * here: tiny GGUF and llama2.c files that work, and broken ones whose errors
 * must name the file and the offending field. */
#include "check.h"
#include "runtime/tokenizer.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test_platform.h"

/* ------------------------------------------------------------ a GGUF writer */

enum { GGUF_U32 = 4, GGUF_I32 = 5, GGUF_F32 = 6, GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9 };

typedef struct gguf_writer {
    unsigned char bytes[1 << 16];
    size_t len;
    uint64_t n_kv;
} gguf_writer;

static void put(gguf_writer *w, const void *p, size_t n) {
    memcpy(w->bytes + w->len, p, n);
    w->len += n;
}
static void put_u32(gguf_writer *w, uint32_t v) { put(w, &v, 4); }
static void put_u64(gguf_writer *w, uint64_t v) { put(w, &v, 8); }
static void put_str(gguf_writer *w, const char *s) {
    put_u64(w, strlen(s));
    put(w, s, strlen(s));
}
static void key(gguf_writer *w, const char *k, uint32_t type) {
    put_str(w, k);
    put_u32(w, type);
    w->n_kv++;
}

static void kv_str(gguf_writer *w, const char *k, const char *v) { key(w, k, GGUF_STRING); put_str(w, v); }
static void kv_u32(gguf_writer *w, const char *k, uint32_t v) { key(w, k, GGUF_U32); put_u32(w, v); }
static void kv_bool(gguf_writer *w, const char *k, int v) {
    key(w, k, GGUF_BOOL);
    unsigned char b = (unsigned char)v;
    put(w, &b, 1);
}
static void kv_strs(gguf_writer *w, const char *k, const char *const *v, size_t n) {
    key(w, k, GGUF_ARRAY);
    put_u32(w, GGUF_STRING);
    put_u64(w, n);
    for (size_t i = 0; i < n; i++) put_str(w, v[i]);
}
static void kv_f32s(gguf_writer *w, const char *k, const float *v, size_t n) {
    key(w, k, GGUF_ARRAY);
    put_u32(w, GGUF_F32);
    put_u64(w, n);
    put(w, v, 4 * n);
}
static void kv_i32s(gguf_writer *w, const char *k, const int32_t *v, size_t n) {
    key(w, k, GGUF_ARRAY);
    put_u32(w, GGUF_I32);
    put_u64(w, n);
    put(w, v, 4 * n);
}

/* Writes header + key/values (no tensors) to a fresh temporary file; its path in path[cap]. */
static int write_gguf(const gguf_writer *w, char *path, size_t cap) {
    FILE *f = bt_test_temp_file(path, cap, "bt_tokenizer_test");
    if (!f) return 0;
    unsigned char header[24] = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
    memcpy(header + 16, &w->n_kv, 8);
    unsigned char pad[32] = {0};
    size_t pad_len = (32 - (sizeof header + w->len) % 32) % 32;   /* the (empty) data section is aligned */
    int ok = fwrite(header, 1, sizeof header, f) == sizeof header && fwrite(w->bytes, 1, w->len, f) == w->len &&
             fwrite(pad, 1, pad_len, f) == pad_len;
    return fclose(f) == 0 && ok;
}

/* ------------------------------------------------------------ tiny vocabularies */

/* SentencePiece: no byte tokens, so unknown characters become <unk>. */
static const char *const spm_tokens[] = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b",
                                         "\xE2\x96\x81" "a", "ab", "\xE2\x96\x81" "ab"};
static const float spm_scores[] = {0, 0, 0, -1, -2, -3, -4, -5, -6};
static const int32_t spm_types[] = {2, 3, 3, 1, 1, 1, 1, 1, 1};
#define SPM_N 9

/* The keys of the SentencePiece vocabulary; `broken` names one to write wrong. */
static void write_spm_keys(gguf_writer *w, const char *broken) {
    static const int32_t bad_types[] = {2, 3, 3, 1, 1, 9, 1, 1, 1};
    kv_str(w, "tokenizer.ggml.model", strcmp(broken, "model") ? "llama" : "bert");
    if (strcmp(broken, "tokens") == 0) kv_i32s(w, "tokenizer.ggml.tokens", spm_types, SPM_N);
    else kv_strs(w, "tokenizer.ggml.tokens", spm_tokens, SPM_N);
    if (strcmp(broken, "no scores") != 0)
        kv_f32s(w, "tokenizer.ggml.scores", spm_scores, strcmp(broken, "scores") ? SPM_N : SPM_N - 1);
    kv_i32s(w, "tokenizer.ggml.token_type", strcmp(broken, "token_type") ? spm_types : bad_types, SPM_N);
    kv_u32(w, "tokenizer.ggml.bos_token_id", strcmp(broken, "bos") ? 1 : SPM_N);
    kv_u32(w, "tokenizer.ggml.eos_token_id", 2);
    if (strcmp(broken, "add_bos") == 0) kv_str(w, "tokenizer.ggml.add_bos_token", "yes");
    else kv_bool(w, "tokenizer.ggml.add_bos_token", 1);
}

/* Byte-level BPE over the characters a, b and Ġ (space). */
static const char *const bpe_tokens[] = {"a", "b", "ab", "\xC4\xA0", "\xC4\xA0" "ab", "<|end|>"};
static const int32_t bpe_types[] = {1, 1, 1, 1, 1, 3};
static const char *const bpe_merges[] = {"a b", "\xC4\xA0 ab"};
static const char *const bad_merges[] = {"a b", "\xC4\xA0" "ab"};

static void write_bpe_keys(gguf_writer *w, const char *broken) {
    kv_str(w, "tokenizer.ggml.model", "gpt2");
    kv_str(w, "tokenizer.ggml.pre", strcmp(broken, "pre") ? "gpt2" : "qwen2");
    kv_strs(w, "tokenizer.ggml.tokens", bpe_tokens, 6);
    kv_i32s(w, "tokenizer.ggml.token_type", bpe_types, 6);
    if (strcmp(broken, "no merges") != 0) kv_strs(w, "tokenizer.ggml.merges", strcmp(broken, "merges") ? bpe_merges : bad_merges, 2);
    kv_u32(w, "tokenizer.ggml.eos_token_id", 5);
}

typedef void (*write_keys_fn)(gguf_writer *w, const char *broken);

/* Opens a GGUF written by write_keys with `broken`; the status, and the error in why. */
static bt_status open_written(write_keys_fn write_keys, const char *broken, bt_tokenizer **tok, char *why, size_t why_cap) {
    static gguf_writer w;
    char path[64];
    w.len = 0;
    w.n_kv = 0;
    write_keys(&w, broken);
    *tok = NULL;
    if (!write_gguf(&w, path, sizeof path)) {
        snprintf(why, why_cap, "cannot write a temporary file");
        return BT_ERR_IO;
    }
    bt_status st = bt_tokenizer_open_gguf(tok, path);
    snprintf(why, why_cap, "%s", st == BT_OK ? "" : bt_last_error());
    /* The message must name the file. */
    if (st != BT_OK && !strstr(why, path)) snprintf(why, why_cap, "message without the file name: %s", bt_last_error());
    remove(path);
    return st;
}

static int ids_are(const bt_token_ids *ids, const int32_t *want, size_t n) {
    return ids->n == n && memcmp(ids->ids, want, n * sizeof *want) == 0;
}

BT_TEST(tokenizer_reads_a_small_spm_gguf) {
    bt_tokenizer *tok;
    char why[512];
    BT_CHECK(open_written(write_spm_keys, "", &tok, why, sizeof why) == BT_OK, "%s", why);
    bt_token_ids ids = {0};
    static const int32_t want[] = {1, 8, 8, 3, 0};   /* <s> ▁ab ▁ab ▁ <unk>: 'c' has no token, no byte token either */
    int ok = bt_tokenizer_encode(tok, &ids, "ab ab c", 7, BT_ENCODE_BOS) == BT_OK && ids_are(&ids, want, 5);
    bt_token_ids_free(&ids);
    bt_tokenizer_free(tok);
    BT_CHECK(ok, "encoding with a tiny vocabulary differs (%s)", bt_last_error());
}

BT_TEST(tokenizer_reads_a_small_bpe_gguf) {
    bt_tokenizer *tok;
    char why[512];
    BT_CHECK(open_written(write_bpe_keys, "", &tok, why, sizeof why) == BT_OK, "%s", why);
    bt_token_ids ids = {0};
    static const int32_t want[] = {2, 4, 5};   /* ab Ġab <|end|> */
    int ok = bt_tokenizer_encode(tok, &ids, "ab ab<|end|>", 12, BT_ENCODE_SPECIAL) == BT_OK && ids_are(&ids, want, 3) &&
             !bt_tokenizer_add_bos(tok) && bt_tokenizer_bos(tok) == -1 && bt_tokenizer_eos(tok) == 5;
    bt_status missing = bt_tokenizer_encode(tok, &ids, "abc", 3, 0);   /* no token for 'c' */
    bt_status no_bos = bt_tokenizer_encode(tok, &ids, "ab", 2, BT_ENCODE_BOS);
    bt_token_ids_free(&ids);
    bt_tokenizer_free(tok);
    BT_CHECK(ok, "encoding with a tiny vocabulary differs");
    BT_CHECK(missing == BT_ERR_UNSUPPORTED && no_bos == BT_ERR_ARG, "missing byte token / BOS not reported");
}

typedef struct broken_case {
    write_keys_fn write_keys;
    const char *broken;
    bt_status status;
    const char *field;   /* must appear in the message */
} broken_case;

BT_TEST(tokenizer_rejects_broken_gguf_vocabularies) {
    static const broken_case cases[] = {
        {write_spm_keys, "model", BT_ERR_UNSUPPORTED, "tokenizer.ggml.model"},
        {write_spm_keys, "tokens", BT_ERR_FORMAT, "tokenizer.ggml.tokens"},
        {write_spm_keys, "scores", BT_ERR_FORMAT, "tokenizer.ggml.scores"},
        {write_spm_keys, "no scores", BT_ERR_FORMAT, "tokenizer.ggml.scores"},
        {write_spm_keys, "token_type", BT_ERR_FORMAT, "tokenizer.ggml.token_type"},
        {write_spm_keys, "bos", BT_ERR_FORMAT, "tokenizer.ggml.bos_token_id"},
        {write_spm_keys, "add_bos", BT_ERR_FORMAT, "tokenizer.ggml.add_bos_token"},
        {write_bpe_keys, "pre", BT_ERR_UNSUPPORTED, "tokenizer.ggml.pre"},
        {write_bpe_keys, "no merges", BT_ERR_FORMAT, "tokenizer.ggml.merges"},
        {write_bpe_keys, "merges", BT_ERR_FORMAT, "tokenizer.ggml.merges"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_tokenizer *tok;
        char why[512];
        bt_status st = open_written(cases[i].write_keys, cases[i].broken, &tok, why, sizeof why);
        bt_tokenizer_free(tok);
        BT_CHECK(st == cases[i].status && strstr(why, cases[i].field),
                 "broken %s: status %s, message \"%s\"", cases[i].broken, bt_status_name(st), why);
    }
}

/* ------------------------------------------------------------ llama2.c files */

/* Writes max_token_length and `n` records (score 0, the given spellings). */
static int write_llama2c(char *path, size_t cap, int32_t max_len, const char *const *tokens, int n, size_t cut) {
    FILE *f = bt_test_temp_file(path, cap, "bt_tokenizer_test");
    if (!f) return 0;
    unsigned char buf[1024];
    size_t len = 0;
    memcpy(buf, &max_len, 4);
    len = 4;
    for (int i = 0; i < n; i++) {
        float score = -(float)i;
        int32_t tl = (int32_t)strlen(tokens[i]);
        memcpy(buf + len, &score, 4);
        memcpy(buf + len + 4, &tl, 4);
        memcpy(buf + len + 8, tokens[i], (size_t)tl);
        len += 8 + (size_t)tl;
    }
    int ok = fwrite(buf, 1, len - cut, f) == len - cut;
    return fclose(f) == 0 && ok;
}

typedef struct llama2c_case {
    int32_t max_len, vocab_size;
    size_t cut;          /* bytes cut off the end */
    bt_status status;
    const char *field;
} llama2c_case;

BT_TEST(tokenizer_reads_and_checks_llama2c_files) {
    static const char *const tokens[] = {"<unk>", "\n<s>\n", "\n</s>\n", " ", "a", " a", "<0x62>"};
    static const llama2c_case cases[] = {
        {8, 0, 0, BT_OK, ""},
        {8, 7, 0, BT_OK, ""},
        {8, 6, 0, BT_ERR_FORMAT, "vocab_size"},     /* the file holds more */
        {8, 9, 0, BT_ERR_FORMAT, "vocab_size"},     /* the file holds fewer */
        {8, 0, 3, BT_ERR_FORMAT, "token 6"},        /* truncated text */
        {8, 0, 12, BT_ERR_FORMAT, "token 6"},       /* truncated record */
        {4, 0, 0, BT_ERR_FORMAT, "max_token_length"},
        {0, 0, 0, BT_ERR_FORMAT, "max_token_length"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const llama2c_case *c = &cases[i];
        char path[64];
        BT_CHECK(write_llama2c(path, sizeof path, c->max_len, tokens, 7, c->cut), "cannot write a temporary file");
        bt_tokenizer *tok = NULL;
        bt_status st = bt_tokenizer_open(&tok, path, c->vocab_size);
        char why[512];
        snprintf(why, sizeof why, "%s", st == BT_OK ? "" : bt_last_error());
        bt_token_ids ids = {0};
        static const int32_t want[] = {5, 3, 6};   /* " a", " ", <0x62> for "a b" */
        int encodes = st != BT_OK || (bt_tokenizer_encode(tok, &ids, "a b", 3, 0) == BT_OK && ids_are(&ids, want, 3) &&
                                      bt_tokenizer_token_type(tok, 6) == BT_TOKEN_BYTE && bt_tokenizer_vocab_size(tok) == 7);
        bt_token_ids_free(&ids);
        bt_tokenizer_free(tok);
        remove(path);
        BT_CHECK(st == c->status && strstr(why, c->field) && (st == BT_OK || strstr(why, path)),
                 "case %zu: status %s, message \"%s\"", i, bt_status_name(st), why);
        BT_CHECK(encodes, "case %zu: \"a b\" encodes wrong", i);
    }
}

BT_TEST(tokenizer_reports_missing_files_and_bad_ids) {
    bt_tokenizer *tok = NULL;
    BT_CHECK(bt_tokenizer_open(&tok, "/nonexistent/tokenizer.bin", 0) == BT_ERR_IO && !tok, "a missing file must be BT_ERR_IO");
    BT_CHECK(strstr(bt_last_error(), "/nonexistent/tokenizer.bin"), "message: %s", bt_last_error());
    char why[512];
    BT_CHECK(open_written(write_spm_keys, "", &tok, why, sizeof why) == BT_OK, "%s", why);
    bt_text text = {0};
    bt_token_stream stream;
    bt_token_stream_init(&stream, tok, 0);
    static const int32_t bad[] = {4, SPM_N};
    bt_status decode = bt_tokenizer_decode(tok, &text, bad, 2, 0);
    bt_status push = bt_token_stream_push(&stream, &text, -1);
    bt_text_free(&text);
    bt_tokenizer_free(tok);
    BT_CHECK(decode == BT_ERR_ARG && push == BT_ERR_ARG, "out-of-range ids must be BT_ERR_ARG");
}
