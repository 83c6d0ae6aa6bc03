/* fuzz_gguf.c - libFuzzer harness: a GGUF file through the reader (every key and
 * array element, every tensor through the model-file layer) and its vocabulary
 * through the tokenizer (opened, then used on a fixed text). */
#include <stddef.h>
#include <stdint.h>
#include "fuzz_util.h"
#include "runtime/gguf.h"
#include "runtime/tokenizer.h"

static void read_values(const bt_gguf *g) {
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const bt_gguf_value *v = &g->kv[i].value;
        if (v->type != BT_GGUF_ARRAY) continue;
        for (uint64_t j = 0; j < v->v.arr.count && j < 64; j++) {
            bt_gguf_value e;
            bt_gguf_str s;
            (void)bt_gguf_array_value(v, j, &e);
            (void)bt_gguf_array_str(v, j, &s);
        }
    }
    int64_t n;
    double x;
    bt_gguf_str s;
    (void)bt_gguf_get_int(g, "llama.context_length", &n);
    (void)bt_gguf_get_float(g, "llama.rope.freq_base", &x);
    (void)bt_gguf_get_str(g, "general.architecture", &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = bt_fuzz_write("model.gguf", data, size);
    bt_gguf *g = NULL;
    if (bt_gguf_open(&g, path) == BT_OK) {
        read_values(g);
        bt_tokenizer *tok = NULL;
        if (bt_tokenizer_from_gguf(&tok, g) == BT_OK) {
            static const char text[] = "Hello world! <|eot_id|> <s> \xe2\x82\xac 123 \xff";
            bt_fuzz_exercise_tokenizer(tok, (const uint8_t *)text, sizeof text - 1);
            bt_tokenizer_free(tok);
        }
        bt_gguf_close(g);
    }
    bt_fuzz_read_model_file(path);
    return 0;
}
