/* test_tokenizer.c - the tokenizers against llama.cpp's reference cases:
 * every string of ggml-vocab-{llama-spm,gpt-2,llama-bpe}.gguf.inp must encode
 * (without BOS) to exactly the ids of the .out file and decode back to itself;
 * llama2.c's tokenizer.bin (the same Llama 2 vocabulary) must give the
 * llama-spm ids too. Also the vocabulary metadata, BOS/EOS and special tokens. */
#include "check.h"
#include "runtime/tokenizer.h"
#include "test_tokenizer_data.h"
#include <stdlib.h>
#include <string.h>

/* Opens data file `rel` as a tokenizer; 0 when the data is absent. */
static int open_data_tokenizer(bt_tokenizer **tok, const char *rel, int32_t vocab_size, bt_status *st) {
    char path[1024];
    if (!bt_test_data_path(path, sizeof path, rel)) return 0;
    *st = bt_tokenizer_open(tok, path, vocab_size);
    return 1;
}

/* Encodes every case with tok and compares ids and the decoded text; the first
 * mismatch is described in why. */
static int check_cases(const bt_tokenizer *tok, const bt_vocab_cases *vc, char *why, size_t why_cap) {
    bt_token_ids ids = {0};
    bt_text text = {0};
    int ok = 1;
    for (size_t i = 0; ok && i < vc->n; i++) {
        const bt_vocab_case *c = &vc->cases[i];
        if (bt_tokenizer_encode(tok, &ids, c->text, c->len, 0) != BT_OK) {
            snprintf(why, why_cap, "case %zu: encode failed: %s", i, bt_last_error());
            ok = 0;
        } else if (ids.n != c->n_ids || (ids.n && memcmp(ids.ids, c->ids, ids.n * sizeof *ids.ids) != 0)) {
            size_t k = 0;
            while (k < ids.n && k < c->n_ids && ids.ids[k] == c->ids[k]) k++;
            snprintf(why, why_cap, "case %zu \"%.*s\": %zu ids, expected %zu; first difference at %zu: got %d, expected %d",
                     i, (int)c->len, c->text, ids.n, c->n_ids, k, k < ids.n ? ids.ids[k] : -1, k < c->n_ids ? c->ids[k] : -1);
            ok = 0;
        } else if (bt_tokenizer_decode(tok, &text, ids.ids, ids.n, 0) != BT_OK) {
            snprintf(why, why_cap, "case %zu: decode failed: %s", i, bt_last_error());
            ok = 0;
        } else if (text.len != c->len || (c->len && memcmp(text.bytes, c->text, c->len) != 0)) {
            snprintf(why, why_cap, "case %zu: decodes to \"%.*s\", expected \"%.*s\"",
                     i, (int)text.len, text.bytes, (int)c->len, c->text);
            ok = 0;
        }
    }
    bt_token_ids_free(&ids);
    bt_text_free(&text);
    return ok;
}

/* Runs the cases of tokenizers/<cases_name> through the tokenizer in data file `rel`. */
#define CHECK_VOCAB_CASES(rel, vocab_size, cases_name)                                   \
    do {                                                                               \
        char why_[1024] = "";                                                          \
        bt_vocab_cases vc_;                                                            \
        int loaded_ = bt_vocab_cases_load(&vc_, cases_name, why_, sizeof why_);        \
        if (loaded_ == 0) BT_CHECK(0, "test data missing (spec/data)");                              \
        BT_CHECK(loaded_ == 1, "%s", why_);                                            \
        BT_CHECK(vc_.n == 46, "%zu cases, expected llama.cpp's 46", vc_.n);           \
        bt_tokenizer *tok_ = NULL;                                                     \
        bt_status st_ = BT_OK;                                                         \
        if (!open_data_tokenizer(&tok_, rel, vocab_size, &st_)) {                      \
            bt_vocab_cases_free(&vc_);                                                 \
            BT_CHECK(0, "test data missing (spec/data)");                                            \
        }                                                                              \
        int ok_ = st_ == BT_OK && check_cases(tok_, &vc_, why_, sizeof why_);          \
        if (st_ != BT_OK) snprintf(why_, sizeof why_, "open: %s", bt_last_error());    \
        bt_tokenizer_free(tok_);                                                       \
        bt_vocab_cases_free(&vc_);                                                     \
        BT_CHECK(ok_, "%s", why_);                                                     \
    } while (0)

BT_TEST(tokenizer_llama_spm_matches_llama_cpp) {
    CHECK_VOCAB_CASES("tokenizers/ggml-vocab-llama-spm.gguf", 0, "ggml-vocab-llama-spm.gguf");
}

BT_TEST(tokenizer_gpt2_matches_llama_cpp) {
    CHECK_VOCAB_CASES("tokenizers/ggml-vocab-gpt-2.gguf", 0, "ggml-vocab-gpt-2.gguf");
}

BT_TEST(tokenizer_llama_bpe_matches_llama_cpp) {
    CHECK_VOCAB_CASES("tokenizers/ggml-vocab-llama-bpe.gguf", 0, "ggml-vocab-llama-bpe.gguf");
}

/* llama2.c's export of the same Llama 2 vocabulary must tokenize the same way. */
BT_TEST(tokenizer_llama2c_bin_matches_llama_spm) {
    CHECK_VOCAB_CASES("tokenizers/tokenizer.bin", 32000, "ggml-vocab-llama-spm.gguf");
}

BT_TEST(tokenizer_llama2c_bin_detects_vocab_size) {
    CHECK_VOCAB_CASES("tokenizers/tokenizer.bin", 0, "ggml-vocab-llama-spm.gguf");
}

/* ------------------------------------------------------------ metadata */

typedef struct expected_vocab {
    const char *rel;
    bt_tokenizer_kind kind;
    int32_t n_vocab, bos, eos;
    int add_bos;
} expected_vocab;

BT_TEST(tokenizer_reports_vocabulary_metadata) {
    static const expected_vocab vocabs[] = {
        {"tokenizers/ggml-vocab-llama-spm.gguf", BT_TOKENIZER_SPM, 32000, 1, 2, 1},
        {"tokenizers/ggml-vocab-gpt-2.gguf", BT_TOKENIZER_BPE, 50257, 50256, 50256, 0},
        {"tokenizers/ggml-vocab-llama-bpe.gguf", BT_TOKENIZER_BPE, 128256, 128000, 128001, 1},
        {"tokenizers/tokenizer.bin", BT_TOKENIZER_SPM, 32000, 1, 2, 1},
        {"models/tok512.bin", BT_TOKENIZER_SPM, 512, 1, 2, 1},
    };
    for (size_t i = 0; i < sizeof vocabs / sizeof vocabs[0]; i++) {
        const expected_vocab *e = &vocabs[i];
        bt_tokenizer *tok = NULL;
        bt_status st;
        if (!open_data_tokenizer(&tok, e->rel, 0, &st)) BT_CHECK(0, "test data missing (spec/data)");
        BT_CHECK(st == BT_OK, "%s: %s", e->rel, bt_last_error());
        int ok = bt_tokenizer_kind_of(tok) == e->kind && bt_tokenizer_vocab_size(tok) == e->n_vocab &&
                 bt_tokenizer_bos(tok) == e->bos && bt_tokenizer_eos(tok) == e->eos && bt_tokenizer_add_bos(tok) == e->add_bos &&
                 !bt_tokenizer_add_eos(tok) && bt_tokenizer_token_type(tok, e->bos) == BT_TOKEN_CONTROL;
        int32_t n = bt_tokenizer_vocab_size(tok), bos = bt_tokenizer_bos(tok);
        bt_tokenizer_free(tok);
        BT_CHECK(ok, "%s: n_vocab %d bos %d (want %d %d)", e->rel, n, bos, e->n_vocab, e->bos);
    }
}

static int piece_is(const bt_tokenizer *tok, int32_t id, const char *want) {
    size_t len;
    const char *p = bt_tokenizer_piece(tok, id, &len);
    return len == strlen(want) && memcmp(p, want, len) == 0;
}

static int text_is(const bt_tokenizer *tok, int32_t id, const char *want) {
    size_t len;
    const char *p = bt_tokenizer_token_text(tok, id, &len);
    return len == strlen(want) && memcmp(p, want, len) == 0;
}

BT_TEST(tokenizer_pieces_are_the_bytes_tokens_stand_for) {
    bt_tokenizer *spm = NULL, *gpt2 = NULL;
    bt_status st1, st2 = BT_OK;
    if (!open_data_tokenizer(&spm, "tokenizers/ggml-vocab-llama-spm.gguf", 0, &st1) ||
        !open_data_tokenizer(&gpt2, "tokenizers/ggml-vocab-gpt-2.gguf", 0, &st2)) {
        bt_tokenizer_free(spm);
        BT_CHECK(0, "test data missing (spec/data)");
    }
    int ok = st1 == BT_OK && st2 == BT_OK &&
             text_is(spm, 15043, "\xE2\x96\x81Hello") && piece_is(spm, 15043, " Hello") &&
             text_is(spm, 13, "<0x0A>") && piece_is(spm, 13, "\n") && bt_tokenizer_token_type(spm, 13) == BT_TOKEN_BYTE &&
             piece_is(spm, 1, "<s>") && bt_tokenizer_token_type(spm, 0) == BT_TOKEN_UNKNOWN &&
             text_is(gpt2, 18435, "\xC4\xA0Hello") && piece_is(gpt2, 18435, " Hello") &&
             text_is(gpt2, 198, "\xC4\x8A") && piece_is(gpt2, 198, "\n") &&
             piece_is(gpt2, 50256, "<|endoftext|>") && bt_tokenizer_token_type(gpt2, 50256) == BT_TOKEN_CONTROL &&
             bt_tokenizer_token_type(gpt2, -1) == BT_TOKEN_UNDEFINED && piece_is(gpt2, 50257, "");
    bt_tokenizer_free(spm);
    bt_tokenizer_free(gpt2);
    BT_CHECK(ok, "pieces/spellings differ from the Llama 2 / GPT-2 vocabularies (%s)", bt_last_error());
}

/* ------------------------------------------------------------ BOS, EOS, special tokens */

static int ids_are(const bt_token_ids *ids, const int32_t *want, size_t n) {
    return ids->n == n && memcmp(ids->ids, want, n * sizeof *want) == 0;
}

BT_TEST(tokenizer_adds_bos_and_eos_on_request) {
    bt_tokenizer *tok = NULL;
    bt_status st;
    if (!open_data_tokenizer(&tok, "tokenizers/ggml-vocab-llama-spm.gguf", 0, &st)) BT_CHECK(0, "test data missing (spec/data)");
    BT_CHECK(st == BT_OK, "%s", bt_last_error());
    bt_token_ids ids = {0};
    static const int32_t hello_bos[] = {1, 15043, 3186}, hello_both[] = {1, 15043, 3186, 2}, bos_only[] = {1};
    int ok = bt_tokenizer_encode(tok, &ids, "Hello world", 11, BT_ENCODE_BOS) == BT_OK && ids_are(&ids, hello_bos, 3) &&
             bt_tokenizer_encode(tok, &ids, "Hello world", 11, BT_ENCODE_BOS | BT_ENCODE_EOS) == BT_OK &&
             ids_are(&ids, hello_both, 4) &&
             bt_tokenizer_encode(tok, &ids, "", 0, BT_ENCODE_BOS) == BT_OK && ids_are(&ids, bos_only, 1) &&
             bt_tokenizer_encode(tok, &ids, "", 0, 0) == BT_OK && ids.n == 0;
    bt_token_ids_free(&ids);
    bt_tokenizer_free(tok);
    BT_CHECK(ok, "BOS/EOS placement differs (%s)", bt_last_error());
}

BT_TEST(tokenizer_parses_special_tokens_only_when_asked) {
    bt_tokenizer *llama3 = NULL, *spm = NULL;
    bt_status st1, st2 = BT_OK;
    if (!open_data_tokenizer(&llama3, "tokenizers/ggml-vocab-llama-bpe.gguf", 0, &st1) ||
        !open_data_tokenizer(&spm, "tokenizers/ggml-vocab-llama-spm.gguf", 0, &st2)) {
        bt_tokenizer_free(llama3);
        BT_CHECK(0, "test data missing (spec/data)");
    }
    BT_CHECK(st1 == BT_OK && st2 == BT_OK, "%s", bt_last_error());
    const char *chat = "<|begin_of_text|>Hello<|eot_id|>";
    static const int32_t chat_ids[] = {128000, 9906, 128009};
    static const int32_t spm_ids[] = {1, 15043, 2, 29871, 12};   /* "<s>Hello</s>\t": a space after each special */
    bt_token_ids ids = {0};
    bt_text text = {0};
    int parsed = bt_tokenizer_encode(llama3, &ids, chat, strlen(chat), BT_ENCODE_SPECIAL) == BT_OK && ids_are(&ids, chat_ids, 3);
    int rendered = bt_tokenizer_decode(llama3, &text, ids.ids, ids.n, 1) == BT_OK && text.len == strlen(chat) &&
                   memcmp(text.bytes, chat, text.len) == 0;
    int hidden = bt_tokenizer_decode(llama3, &text, ids.ids, ids.n, 0) == BT_OK && text.len == 5 &&
                 memcmp(text.bytes, "Hello", 5) == 0;
    int plain = bt_tokenizer_encode(llama3, &ids, chat, strlen(chat), 0) == BT_OK && ids.n > 3;
    for (size_t i = 0; plain && i < ids.n; i++) plain = bt_tokenizer_token_type(llama3, ids.ids[i]) == BT_TOKEN_NORMAL;
    int spm_parsed = bt_tokenizer_encode(spm, &ids, "<s>Hello</s>\t", 13, BT_ENCODE_SPECIAL) == BT_OK && ids_are(&ids, spm_ids, 5);
    bt_token_ids_free(&ids);
    bt_text_free(&text);
    bt_tokenizer_free(llama3);
    bt_tokenizer_free(spm);
    BT_CHECK(parsed, "Llama 3 chat markers not parsed as control tokens");
    BT_CHECK(rendered && hidden, "control tokens rendered wrong");
    BT_CHECK(plain, "without BT_ENCODE_SPECIAL the markers must be plain text");
    BT_CHECK(spm_parsed, "SentencePiece special tokens differ from llama.cpp");
}
