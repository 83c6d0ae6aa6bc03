/* fuzz_llama2c.c - libFuzzer harness: a llama2.c checkpoint and a tokenizer.bin
 * (input: the checkpoint, the marker "\n--\n", then the tokenizer bytes), read through
 * the checkpoint reader and model-file layer, and the tokenizer opened at the
 * checkpoint's vocabulary size (and at "as many as the file holds") and used. */
#include <stddef.h>
#include <stdint.h>
#include "fuzz_util.h"
#include "runtime/llama2c.h"
#include "runtime/tokenizer.h"

static void use_tokenizer(const char *path, int32_t vocab_size, const uint8_t *text, size_t len) {
    bt_tokenizer *tok = NULL;
    if (bt_tokenizer_open_llama2c(&tok, path, vocab_size) != BT_OK) return;
    bt_fuzz_exercise_tokenizer(tok, text, len);
    bt_tokenizer_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *ckpt, *tok_bytes;
    size_t n_ckpt, n_tok;
    bt_fuzz_split(data, size, &ckpt, &n_ckpt, &tok_bytes, &n_tok);
    const char *model = bt_fuzz_write("model.bin", ckpt, n_ckpt);
    const char *tokenizer = bt_fuzz_write("tokenizer.bin", tok_bytes, n_tok);

    int32_t vocab_size = 0;
    bt_llama2c *m = NULL;
    if (bt_llama2c_open(&m, model) == BT_OK) {
        vocab_size = m->config.vocab_size;
        (void)bt_llama2c_find(m, "token_embd.weight");
        bt_llama2c_close(m);
    }
    bt_fuzz_read_model_file(model);
    static const char text[] = "Once upon a time, \xc3\xa9t\xc3\xa9 <s> \xf0\x9f\x99\x82 \x80";
    use_tokenizer(tokenizer, 0, (const uint8_t *)text, sizeof text - 1);
    if (vocab_size > 0 && vocab_size < (1 << 20)) use_tokenizer(tokenizer, vocab_size, ckpt, n_ckpt < 256 ? n_ckpt : 256);
    return 0;
}
