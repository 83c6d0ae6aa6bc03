/* fuzz_tokenizer.c - libFuzzer harness: encode / decode / streaming decode of any
 * bytes with every vocabulary the project ships or tests (spec/data and
 * models/default.gguf, read once at start from $BITTTT_ROOT, else the current
 * folder). The first input byte picks the vocabulary, the rest is the text. */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_util.h"
#include "base/error.h"
#include "runtime/tokenizer.h"

static const struct { const char *rel; int32_t vocab_size; } vocabularies[] = {
    { "spec/data/tokenizers/ggml-vocab-llama-spm.gguf", 0 },
    { "spec/data/tokenizers/ggml-vocab-llama-bpe.gguf", 0 },
    { "spec/data/tokenizers/ggml-vocab-gpt-2.gguf", 0 },
    { "spec/data/tokenizers/tokenizer.bin", 32000 },
    { "spec/data/models/tok512.bin", 512 },
    { "models/default.gguf", 0 },
};
#define N_VOCAB (sizeof vocabularies / sizeof vocabularies[0])
static bt_tokenizer *toks[N_VOCAB];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *root = getenv("BITTTT_ROOT");
    for (size_t i = 0; i < N_VOCAB; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", root && *root ? root : ".", vocabularies[i].rel);
        if (bt_tokenizer_open(&toks[i], path, vocabularies[i].vocab_size) != BT_OK) {
            fprintf(stderr, "fuzz_tokenizer: %s\n", bt_last_error());
            exit(1);
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    bt_fuzz_exercise_tokenizer(toks[data[0] % N_VOCAB], data + 1, size - 1);
    return 0;
}
