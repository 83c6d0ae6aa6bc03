/* test_tokenizer_data.h - reference data for the tokenizer tests
 * (test_tokenizer*.c): locating files under the test data folder
 * (bt_readers_data_path: env BITTTT_DATA, else spec/data) and reading llama.cpp's vocabulary
 * test cases (<vocab>.gguf.inp: strings, each followed by a line
 * "__ggml_vocab_test__"; <vocab>.gguf.out: one line of ids per string). */
#ifndef BT_TEST_TOKENIZER_DATA_H
#define BT_TEST_TOKENIZER_DATA_H
#include <stddef.h>
#include <stdint.h>

/* The path of data file `rel` in out[cap]; 1 if the file exists, else 0. */
int bt_test_data_path(char *out, size_t cap, const char *rel);
/* The whole file, NUL-terminated (malloc'd), or NULL. */
char *bt_test_read_file(const char *path, size_t *len);

typedef struct bt_vocab_case {
    const char *text;     /* [len] points into the .inp file's bytes */
    size_t len;
    int32_t *ids;         /* [n_ids] expected, without BOS */
    size_t n_ids;
} bt_vocab_case;

typedef struct bt_vocab_cases {
    bt_vocab_case *cases; /* [n] */
    size_t n;
    char *inp;            /* the .inp file, owned */
} bt_vocab_cases;

/* The cases of tokenizers/<gguf_name>: 1 when read, 0 when the data is absent,
 * -1 when it is malformed (why says how). */
int bt_vocab_cases_load(bt_vocab_cases *vc, const char *gguf_name, char *why, size_t why_cap);
void bt_vocab_cases_free(bt_vocab_cases *vc);

#endif
