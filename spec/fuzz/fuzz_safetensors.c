/* fuzz_safetensors.c - libFuzzer harness: a safetensors file and the config.json
 * beside it (input: the JSON, the marker "\n--\n", then the safetensors bytes), read
 * through the JSON parser, the safetensors reader (every tensor, the metadata) and
 * the model-file layer a model build uses. */
#include <stddef.h>
#include <stdint.h>
#include "fuzz_util.h"
#include "runtime/json.h"
#include "runtime/safetensors.h"

/* Every value of a parsed document, depth first (the getters must hold on any tree). */
static void walk(const bt_json *v, int depth) {
    if (!v || depth > 64) return;
    if (v->type == BT_JSON_OBJECT && v->count) (void)bt_json_get(v, v->items[v->count - 1].key);
    if (v->type == BT_JSON_ARRAY || v->type == BT_JSON_OBJECT)
        for (size_t i = 0; i < v->count; i++) walk(&v->items[i], depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *json, *st_bytes;
    size_t n_json, n_st;
    bt_fuzz_split(data, size, &json, &n_json, &st_bytes, &n_st);

    bt_json_doc *doc = NULL;
    if (bt_json_parse(&doc, (const char *)json, n_json, "config.json") == BT_OK) walk(bt_json_root(doc), 0);
    bt_json_free(doc);

    bt_fuzz_write("config.json", json, n_json);
    const char *path = bt_fuzz_write("model.safetensors", st_bytes, n_st);
    bt_safetensors *st = NULL;
    if (bt_safetensors_open(&st, path) == BT_OK) {
        for (size_t i = 0; i < st->n_tensors; i++) {
            const bt_safetensors_tensor *t = bt_safetensors_find(st, st->tensors[i].name);
            if (t && t->nbytes) (void)(((const volatile uint8_t *)t->data)[0] + ((const volatile uint8_t *)t->data)[t->nbytes - 1]);
        }
        (void)bt_safetensors_metadata(st, "format");
        bt_safetensors_close(st);
    }
    bt_json_doc *config = NULL;
    if (bt_safetensors_load_config(&config, path) == BT_OK) walk(bt_json_root(config), 0);
    bt_json_free(config);
    bt_fuzz_read_model_file(path);
    return 0;
}
