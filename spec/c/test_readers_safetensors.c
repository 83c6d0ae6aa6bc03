/* test_readers_safetensors.c - the safetensors reader on the TTT reference
 * checkpoint (names and shapes from its README) and its config.json; small
 * files made here with one thing wrong each; truncations of the real file. */
#include "check.h"
#include "test_readers_util.h"
#include "runtime/model_file.h"
#include "runtime/safetensors.h"
#include <stdlib.h>
#include <string.h>

#define TTT "reference/ttt/model.safetensors"

static const struct { const char *name; int n_dims; int64_t shape[3]; } ttt_layer_tensors[] = {
    {"mlp.down_proj.weight", 2, {192, 512}}, {"mlp.gate_proj.weight", 2, {512, 192}}, {"mlp.up_proj.weight", 2, {512, 192}},
    {"seq_modeling_block.W1", 3, {6, 32, 32}}, {"seq_modeling_block.b1", 3, {6, 1, 32}},
    {"seq_modeling_block.k_proj.weight", 2, {192, 192}}, {"seq_modeling_block.learnable_token_idx", 1, {8}},
    {"seq_modeling_block.learnable_ttt_lr_bias", 2, {6, 1}}, {"seq_modeling_block.learnable_ttt_lr_weight", 3, {6, 1, 192}},
    {"seq_modeling_block.o_proj.weight", 2, {192, 192}}, {"seq_modeling_block.post_norm.bias", 1, {192}},
    {"seq_modeling_block.post_norm.weight", 1, {192}}, {"seq_modeling_block.q_proj.weight", 2, {192, 192}},
    {"seq_modeling_block.ttt_norm_bias", 2, {6, 32}}, {"seq_modeling_block.ttt_norm_weight", 2, {6, 32}},
    {"seq_modeling_block.v_proj.weight", 2, {192, 192}}, {"seq_norm.weight", 1, {192}}, {"ffn_norm.weight", 1, {192}},
};

BT_TEST(readers_safetensors_ttt_checkpoint) {
    char path[1024];
    if (!bt_readers_data_path(path, sizeof path, TTT)) BT_CHECK(0, "test data missing (spec/data)");
    bt_safetensors *st;
    BT_CHECK(bt_safetensors_open(&st, path) == BT_OK, "%s", bt_last_error());
    size_t per_layer = sizeof ttt_layer_tensors / sizeof ttt_layer_tensors[0];
    BT_CHECK(st->n_tensors == 2 + 3 * per_layer, "%zu tensors", st->n_tensors);
    BT_CHECK(st->data_offset == 8 + 6424, "header length");
    const bt_safetensors_tensor *t = bt_safetensors_find(st, "model.embed_tokens.weight");
    BT_CHECK(t && t->has_dtype && t->dtype == BT_F32 && strcmp(t->file_dtype, "F32") == 0 && t->n_dims == 2 &&
             t->shape[0] == 256 && t->shape[1] == 192 && t->offset == st->data_offset && t->nbytes == 256 * 192 * 4 &&
             t->data == st->map.data + st->data_offset, "embed_tokens");
    t = bt_safetensors_find(st, "model.norm.weight");
    BT_CHECK(t && t->n_dims == 1 && t->shape[0] == 192 && t->offset + t->nbytes == st->map.size, "norm ends the file");
    BT_CHECK(!bt_safetensors_find(st, "lm_head.weight"), "the head is tied, not stored");
    uint64_t total = 0;
    for (int layer = 0; layer < 3; layer++)
        for (size_t i = 0; i < per_layer; i++) {
            char name[128];
            snprintf(name, sizeof name, "model.layers.%d.%s", layer, ttt_layer_tensors[i].name);
            t = bt_safetensors_find(st, name);
            BT_CHECK(t && t->dtype == BT_F32 && t->n_dims == ttt_layer_tensors[i].n_dims, "%s", name);
            uint64_t n = 1;
            for (int d = 0; d < t->n_dims; d++) {
                BT_CHECK(t->shape[d] == ttt_layer_tensors[i].shape[d], "%s dim %d", name, d);
                n *= (uint64_t)t->shape[d];
            }
            BT_CHECK(t->nbytes == 4 * n, "%s bytes", name);
        }
    for (size_t i = 0; i < st->n_tensors; i++) total += st->tensors[i].nbytes;
    BT_CHECK(total == st->map.size - st->data_offset, "the tensors fill the data exactly");
    BT_CHECK(st->n_metadata == 3 && strcmp(bt_safetensors_metadata(st, "format"), "pt") == 0 &&
             strstr(bt_safetensors_metadata(st, "tied"), "lm_head.weight") && !bt_safetensors_metadata(st, "x"), "metadata");
    /* Tensors are in header order (sorted names in this file). */
    for (size_t i = 1; i < st->n_tensors; i++)
        BT_CHECK(strcmp(st->tensors[i - 1].name, st->tensors[i].name) < 0, "header order");
    bt_safetensors_close(st);
}

BT_TEST(readers_safetensors_ttt_config) {
    char path[1024];
    if (!bt_readers_data_path(path, sizeof path, TTT)) BT_CHECK(0, "test data missing (spec/data)");
    bt_json_doc *doc;
    BT_CHECK(bt_safetensors_load_config(&doc, path) == BT_OK, "%s", bt_last_error());
    const bt_json *c = bt_json_root(doc);
    static const struct { const char *key; int64_t value; } ints[] = {
        {"vocab_size", 256}, {"hidden_size", 192}, {"intermediate_size", 512}, {"num_hidden_layers", 3},
        {"num_attention_heads", 6}, {"mini_batch_size", 8}, {"max_position_embeddings", 512}, {"bos_token_id", 1}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        const bt_json *v = bt_json_get(c, ints[i].key);
        BT_CHECK(v && v->type == BT_JSON_NUMBER && v->is_integer && v->integer == ints[i].value, "%s", ints[i].key);
    }
    BT_CHECK(bt_json_get(c, "rms_norm_eps")->number == 1e-6 && bt_json_get(c, "ttt_base_lr")->number == 0.5, "floats");
    BT_CHECK(bt_json_get(c, "rope_theta")->number == 10000.0, "rope_theta");
    BT_CHECK(bt_json_get(c, "tie_word_embeddings")->boolean == 1 && bt_json_get(c, "pre_conv")->boolean == 0, "bools");
    BT_CHECK(bt_json_get(c, "pad_token_id")->type == BT_JSON_NULL, "null");
    BT_CHECK(strcmp(bt_json_get(c, "ttt_layer_type")->string, "linear") == 0, "string");
    const bt_json *arch = bt_json_get(c, "architectures");
    BT_CHECK(arch->count == 1 && strcmp(arch->items[0].string, "TTTForCausalLM") == 0, "architectures");
    bt_json_free(doc);
    BT_CHECK(bt_safetensors_load_config(&doc, "/nonexistent/model.safetensors") == BT_ERR_IO &&
             strstr(bt_last_error(), "/nonexistent/config.json"), "missing config.json: %s", bt_last_error());
}

/* Writes a safetensors file: header padded with spaces to 8 bytes, then data [n]. */
static int write_st(const char *path, const char *header, const uint8_t *data, size_t n) {
    bt_readers_bytes b = {0};
    size_t len = strlen(header), padded = (len + 7) / 8 * 8;
    bt_readers_bytes_u64(&b, padded);
    bt_readers_bytes_put(&b, header, len);
    bt_readers_bytes_put(&b, "        ", padded - len);
    bt_readers_bytes_put(&b, data, n);
    int ok = bt_readers_write_file(path, b.data, b.len);
    free(b.data);
    return ok;
}

#define E(name, dtype, shape, begin, end) "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #begin "," #end "]}"

BT_TEST(readers_safetensors_small_files) {
    char dir[1024], path[1100];
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "scratch dir");
    snprintf(path, sizeof path, "%s/small.safetensors", dir);
    uint8_t data[64];
    for (int i = 0; i < 64; i++) data[i] = (uint8_t)i;
    bt_safetensors *st;
    BT_CHECK(write_st(path, "{" E("a", "F32", "[2,3]", 0, 24) "," E("b", "I64", "[]", 24, 32) "," E("c", "BF16", "[0]", 32, 32)
                            ",\"__metadata__\":{\"k\":\"v\"}," E("d", "U8", "[4,8]", 32, 64) "}", data, 64) &&
             bt_safetensors_open(&st, path) == BT_OK, "%s", bt_last_error());
    const bt_safetensors_tensor *a = bt_safetensors_find(st, "a"), *b = bt_safetensors_find(st, "b"),
                                *c = bt_safetensors_find(st, "c"), *d = bt_safetensors_find(st, "d");
    BT_CHECK(st->n_tensors == 4 && a && b && c && d, "tensors");
    BT_CHECK(a->dtype == BT_F32 && a->n_dims == 2 && a->nbytes == 24 && a->data[0] == 0 && a->data[23] == 23, "a");
    BT_CHECK(!b->has_dtype && b->dtype == BT_DTYPE_COUNT && strcmp(b->file_dtype, "I64") == 0 && b->n_dims == 0 &&
             b->nbytes == 8 && b->data[0] == 24, "b: an I64 scalar");
    BT_CHECK(c->dtype == BT_BF16 && c->nbytes == 0 && d->dtype == BT_U8 && d->data[31] == 63, "c, d");
    BT_CHECK(strcmp(bt_safetensors_metadata(st, "k"), "v") == 0, "metadata");
    bt_safetensors_close(st);

    static const struct { const char *header; const char *what; } bad[] = {
        {"{" E("a", "F32", "[2,3]", 0, 100) "}", "data_offsets [0, 100) are not inside the data (64 bytes"},
        {"{" E("a", "F32", "[2,3]", 24, 0) "}", "are not inside the data"},
        {"{" E("a", "F32", "[2,2]", 0, 24) "}", "span 24 bytes, but 4 F32 elements need 16"},
        {"{" E("a", "F33", "[2,3]", 0, 24) "}", "unknown dtype \"F33\""},
        {"{" E("a", "F32", "[-1]", 0, 24) "}", "non-negative integers"},
        {"{" E("a", "F32", "[1.5]", 0, 24) "}", "non-negative integers"},
        {"{" E("a", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) "}", "more than 8 dimensions"},
        {"{" E("a", "F32", "[4294967296,4294967296,4294967296]", 0, 4) "}", "overflows"},
        {"{" E("a", "F32", "[4611686018427387904]", 0, 4) "}", "overflows 64 bits"},
        {"{" E("a", "F32", "[6]", 0, 24) "," E("b", "F32", "[6]", 16, 40) "}", "tensors 'a' and 'b' overlap"},
        {"{" E("a", "F32", "[2]", 0, 8) "," E("a", "F32", "[2]", 8, 16) "}", "duplicate tensor name 'a'"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "\"dtype\" must be a string"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "\"shape\" must be an array"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "two non-negative integers"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", "two non-negative integers"},
        {"{\"a\":1}", "entry must be an object"},
        {"{\"__metadata__\":{\"k\":1}}", "__metadata__ 'k' must be a string"},
        {"{\"__metadata__\":[]}", "__metadata__ must be an object"},
        {"[]", "header is not a JSON object"},
        {"{\"a\": }", "header:1:7: expected a value"},
        {"", "header:1:1: expected a value, found end of input"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        BT_CHECK(write_st(path, bad[i].header, data, 64), "write");
        BT_CHECK(bt_readers_format_error(bt_safetensors_open(&st, path), path, bad[i].what, NULL), "case %zu: wanted '%s', got: %s",
                 i, bad[i].what, bt_last_error());
    }
    uint8_t raw[16];
    bt_readers_put_u64(raw, 1ull << 62);
    memcpy(raw + 8, "{}      ", 8);
    BT_CHECK(bt_readers_write_file(path, raw, 16), "write");
    BT_CHECK(bt_readers_format_error(bt_safetensors_open(&st, path), path, "header length 4611686018427387904", NULL), "%s",
             bt_last_error());
    BT_CHECK(bt_readers_write_file(path, raw, 5), "write");
    BT_CHECK(bt_readers_format_error(bt_safetensors_open(&st, path), path, "too short", NULL), "%s", bt_last_error());
    bt_readers_put_u64(raw, 8);   /* an empty object with no tensors is a valid file */
    BT_CHECK(bt_readers_write_file(path, raw, 16) && bt_safetensors_open(&st, path) == BT_OK && st->n_tensors == 0, "%s",
             bt_last_error());
    bt_safetensors_close(st);
    BT_CHECK(bt_safetensors_open(&st, "/nonexistent.safetensors") == BT_ERR_IO, "missing file");
    bt_readers_scratch_remove(dir);
}

BT_TEST(readers_safetensors_truncated) {
    char src[1024], dir[1024], path[1100];
    if (!bt_readers_data_path(src, sizeof src, TTT)) BT_CHECK(0, "test data missing (spec/data)");
    size_t size;
    uint8_t *bytes = bt_readers_read_file(src, &size);
    BT_CHECK(bytes && bt_readers_scratch_new(dir, sizeof dir), "setup");
    snprintf(path, sizeof path, "%s/cut.safetensors", dir);
    uint64_t seed = bt_test_seed();
    for (int k = 0; k < 120; k++) {
        /* lengths in the size field and the header, then anywhere in the data */
        size_t n = k < 16 ? (size_t)k : k < 100 ? bt_readers_rand(&seed) % (8 + 6424) : bt_readers_rand(&seed) % size;
        bt_safetensors *st;
        BT_CHECK(bt_readers_write_file(path, bytes, n), "write");
        BT_CHECK(bt_readers_format_error(bt_safetensors_open(&st, path), path, NULL), "cut at %zu: %s", n, bt_last_error());
    }
    free(bytes);
    bt_readers_scratch_remove(dir);
}

/* Zero-byte tensors at a neighbour's offset (before and after it in the file, and
 * inside it) overlap nothing; two non-empty tensors at one offset do, in either order.
 * The overlap check must not depend on qsort keeping equal offsets in file order. */
BT_TEST(readers_safetensors_overlap_ties) {
    char dir[1024], path[1100];
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "scratch dir");
    snprintf(path, sizeof path, "%s/ties.safetensors", dir);
    uint8_t data[32] = {0};
    static const char *fine[] = {
        "{" E("z", "F32", "[0]", 8, 8) "," E("a", "F32", "[2]", 8, 16) "," E("b", "F32", "[2]", 0, 8) "}",
        "{" E("a", "F32", "[2]", 8, 16) "," E("z", "F32", "[0]", 8, 8) "," E("b", "F32", "[2]", 0, 8) "}",
        "{" E("a", "F32", "[4]", 0, 16) "," E("z", "F32", "[0]", 4, 4) "," E("y", "U8", "[0]", 0, 0) "}",
        "{" E("a", "F32", "[4]", 0, 16) "," E("z", "F32", "[0]", 16, 16) "," E("b", "F32", "[2]", 16, 24) "}",
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        bt_safetensors *st = NULL;
        BT_CHECK(write_st(path, fine[i], data, sizeof data), "write");
        BT_CHECK(bt_safetensors_open(&st, path) == BT_OK, "case %zu: %s", i, bt_last_error());
        bt_safetensors_close(st);
    }
    static const char *overlapping[] = {
        "{" E("a", "F32", "[2]", 8, 16) "," E("b", "F32", "[1]", 8, 12) "}",
        "{" E("b", "F32", "[1]", 8, 12) "," E("a", "F32", "[2]", 8, 16) "}",
        "{" E("a", "F32", "[8]", 0, 32) "," E("z", "F32", "[0]", 4, 4) "," E("b", "F32", "[1]", 24, 28) "}",
    };
    for (size_t i = 0; i < sizeof overlapping / sizeof overlapping[0]; i++) {
        bt_safetensors *st;
        BT_CHECK(write_st(path, overlapping[i], data, sizeof data), "write");
        BT_CHECK(bt_readers_format_error(bt_safetensors_open(&st, path), path, "overlap", NULL), "case %zu: %s", i,
                 bt_last_error());
    }
    bt_readers_scratch_remove(dir);
}

/* A header whose length is not a multiple of 4 puts the data at an odd address:
 * the model file hands out aligned (copied) tensors with the same values. */
BT_TEST(readers_safetensors_misaligned_data) {
    char dir[1024], path[1100];
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "scratch dir");
    snprintf(path, sizeof path, "%s/odd.safetensors", dir);
    const char *header = "{" E("w", "F32", "[3]", 0, 12) "," E("h", "F16", "[1]", 12, 14) "} ";   /* odd length */
    const float w[3] = {1.5f, -2.25f, 3e-3f};
    bt_readers_bytes b = {0};
    bt_readers_bytes_u64(&b, strlen(header));
    bt_readers_bytes_put(&b, header, strlen(header));
    bt_readers_bytes_put(&b, w, sizeof w);
    bt_readers_bytes_put(&b, "\x00\x3c", 2);   /* f16 1.0 */
    BT_CHECK(strlen(header) % 2 == 1 && bt_readers_write_file(path, b.data, b.len), "write");
    free(b.data);
    bt_model_file *mf;
    BT_CHECK(bt_model_file_open(&mf, path) == BT_OK, "%s", bt_last_error());
    bt_tensor *t, *h;
    BT_CHECK(bt_model_file_tensor(&t, mf, "w") == BT_OK && bt_model_file_tensor(&h, mf, "h") == BT_OK, "%s", bt_last_error());
    BT_CHECK((uintptr_t)bt_tensor_data(t) % 4 == 0 && (uintptr_t)bt_tensor_data(h) % 2 == 0, "aligned copies");
    BT_CHECK(t->storage->read_only && h->storage->read_only, "read-only like mapped weights");
    for (int64_t i = 0; i < 3; i++) {
        double v;
        BT_CHECK(bt_tensor_get(t, &i, &v) == BT_OK && v == w[i], "w[%d]", (int)i);
    }
    double one;
    const int64_t zero = 0;
    BT_CHECK(bt_tensor_get(h, &zero, &one) == BT_OK && one == 1.0, "h");
    bt_tensor_free(t);
    bt_tensor_free(h);
    bt_model_file_close(mf);
    bt_readers_scratch_remove(dir);
}
