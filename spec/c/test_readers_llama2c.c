/* test_readers_llama2c.c - the llama2.c checkpoint reader on stories260K.bin
 * (header from the data README, every weight's name, shape and place computed
 * here independently from run.c's order), an untied variant, and files of the
 * wrong size or with a bad header. */
#include "check.h"
#include "test_readers_util.h"
#include "runtime/llama2c.h"
#include <stdlib.h>
#include <string.h>

#define STORIES "models/stories260K.bin"

BT_TEST(readers_llama2c_stories260k) {
    char path[1024];
    if (!bt_readers_data_path(path, sizeof path, STORIES)) BT_CHECK(0, "test data missing (spec/data)");
    bt_llama2c *m;
    BT_CHECK(bt_llama2c_open(&m, path) == BT_OK, "%s", bt_last_error());
    const bt_llama2c_config *c = &m->config;
    BT_CHECK(c->dim == 64 && c->hidden_dim == 172 && c->n_layers == 5 && c->n_heads == 8 && c->n_kv_heads == 4 &&
             c->vocab_size == 512 && c->seq_len == 512 && c->shared_classifier == 1 && c->head_size == 8 && c->kv_dim == 32,
             "config");
    BT_CHECK(m->n_tensors == 2 + 9 * 5, "%d tensors", m->n_tensors);
    /* run.c's memory_map_weights order, counted in floats from the header. */
    const int64_t L = 5, dim = 64, hidden = 172, kv = 32, vocab = 512;
    struct { const char *name; int64_t rows, cols; } order[] = {
        {"attn_norm", 1, dim}, {"attn_q", dim, dim}, {"attn_k", kv, dim}, {"attn_v", kv, dim}, {"attn_output", dim, dim},
        {"ffn_norm", 1, dim}, {"ffn_gate", hidden, dim}, {"ffn_down", dim, hidden}, {"ffn_up", hidden, dim}};
    int64_t at = 7 + vocab * dim;   /* in floats (the header is 7 int32) */
    const bt_llama2c_tensor *t = bt_llama2c_find(m, "token_embd.weight");
    BT_CHECK(t && t->n_dims == 2 && t->shape[0] == vocab && t->shape[1] == dim && t->offset == 28 &&
             t->data == (const float *)(m->map.data + 28), "token_embd");
    for (size_t s = 0; s < sizeof order / sizeof order[0]; s++)
        for (int64_t l = 0; l < L; l++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%lld.%s.weight", (long long)l, order[s].name);
            t = bt_llama2c_find(m, name);
            int dims = order[s].rows == 1 ? 1 : 2;
            BT_CHECK(t && t->n_dims == dims && t->shape[0] == (dims == 1 ? order[s].cols : order[s].rows) &&
                     (dims == 1 || t->shape[1] == order[s].cols), "%s shape", name);
            BT_CHECK(t->offset == (uint64_t)(4 * at) && t->nbytes == (uint64_t)(4 * order[s].rows * order[s].cols) &&
                     (const uint8_t *)t->data == m->map.data + t->offset, "%s place", name);
            at += order[s].rows * order[s].cols;
        }
    t = bt_llama2c_find(m, "output_norm.weight");
    BT_CHECK(t && t->n_dims == 1 && t->shape[0] == dim && t->offset == (uint64_t)(4 * at), "output_norm");
    at += dim + 512 * 8;   /* freq_cis_real and _imag: [seq_len, head_size / 2] each */
    BT_CHECK((uint64_t)(4 * at) == m->map.size, "sizes add up to the file");
    BT_CHECK(!bt_llama2c_find(m, "output.weight") && !bt_llama2c_find(m, "blk.5.attn_q.weight"), "absent names");
    /* Every rms weight of a trained model is a plausible positive-ish number, not garbage. */
    t = bt_llama2c_find(m, "blk.0.attn_norm.weight");
    for (int i = 0; i < dim; i++) BT_CHECK(t->data[i] > -10.0f && t->data[i] < 10.0f, "rms weight %d = %g", i, t->data[i]);
    bt_llama2c_close(m);
}

/* A copy of stories260K patched by `patch` (NULL: none) and resized to size bytes
 * (extra bytes from `tail`), opened; the status, with the model closed. */
static bt_status open_variant(const char *dir, const uint8_t *orig, size_t orig_size, size_t size,
                              void (*patch)(uint8_t *), const uint8_t *tail, bt_llama2c **keep) {
    char path[1100];
    snprintf(path, sizeof path, "%s/variant.bin", dir);
    uint8_t *bytes = calloc(size ? size : 1, 1);
    memcpy(bytes, orig, size < orig_size ? size : orig_size);
    if (size > orig_size && tail) memcpy(bytes + orig_size, tail, size - orig_size);
    if (patch) patch(bytes);
    int written = bt_readers_write_file(path, bytes, size);
    free(bytes);
    if (!written) return BT_ERR_IO;
    bt_llama2c *m;
    bt_status st = bt_llama2c_open(&m, path);
    if (st == BT_OK && keep) *keep = m;
    else if (st == BT_OK) bt_llama2c_close(m);
    return st;
}

static void untie(uint8_t *b) { bt_readers_put_u32(b + 20, (uint32_t)-512); }
static void seven_heads(uint8_t *b) { bt_readers_put_u32(b + 12, 7); }
static void zero_layers(uint8_t *b) { bt_readers_put_u32(b + 8, 0); }
static void huge_dims(uint8_t *b) { bt_readers_put_u32(b, 0x40000000); bt_readers_put_u32(b + 4, 0x7fffffff); }
static void export_v1(uint8_t *b) { memcpy(b, "24ka", 4); bt_readers_put_u32(b + 4, 1); }

BT_TEST(readers_llama2c_bad_files) {
    char path[1024], dir[1024], variant[1100];
    if (!bt_readers_data_path(path, sizeof path, STORIES)) BT_CHECK(0, "test data missing (spec/data)");
    size_t size;
    uint8_t *orig = bt_readers_read_file(path, &size);
    BT_CHECK(orig && bt_readers_scratch_new(dir, sizeof dir), "setup");
    snprintf(variant, sizeof variant, "%s/variant.bin", dir);
#define BAD(st, ...) BT_CHECK(bt_readers_format_error(st, variant, __VA_ARGS__, NULL), "got: %s", bt_last_error())
    BAD(open_variant(dir, orig, size, size + 4, NULL, NULL, NULL), "too long", "1056544 bytes", "needs 1056540");
    BAD(open_variant(dir, orig, size, size - 4, NULL, NULL, NULL), "too short");
    BAD(open_variant(dir, orig, size, 1000, NULL, NULL, NULL), "too short");
    BAD(open_variant(dir, orig, size, 20, NULL, NULL, NULL), "too short for a llama2.c header");
    BAD(open_variant(dir, orig, size, 0, NULL, NULL, NULL), "too short for a llama2.c header");
    BAD(open_variant(dir, orig, size, size, seven_heads, NULL, NULL), "n_heads 7", "divide dim");
    BAD(open_variant(dir, orig, size, size, zero_layers, NULL, NULL), "n_layers 0");
    BAD(open_variant(dir, orig, size, size, huge_dims, NULL, NULL), "too short");
    BAD(open_variant(dir, orig, size, size, untie, NULL, NULL), "too short", "separate classifier");
    BT_CHECK(open_variant(dir, orig, size, size, export_v1, NULL, NULL) == BT_ERR_UNSUPPORTED &&
             strstr(bt_last_error(), "ak42"), "export v1: %s", bt_last_error());
    /* Untied: the classifier [vocab, dim] follows the RoPE tables at the end. */
    size_t head_bytes = 512 * 64 * 4;
    uint8_t *head = malloc(head_bytes);
    uint64_t seed = bt_test_seed();
    for (size_t i = 0; i < head_bytes; i++) head[i] = (uint8_t)bt_readers_rand(&seed);
    bt_llama2c *m = NULL;
    bt_status st = open_variant(dir, orig, size, size + head_bytes, untie, head, &m);
    BT_CHECK(st == BT_OK, "%s", bt_last_error());
    const bt_llama2c_tensor *out = bt_llama2c_find(m, "output.weight");
    BT_CHECK(m->config.shared_classifier == 0 && m->config.vocab_size == 512 && m->n_tensors == 48, "untied config");
    BT_CHECK(out && out->shape[0] == 512 && out->shape[1] == 64 && out->offset == size &&
             memcmp(out->data, head, head_bytes) == 0, "output.weight");
    bt_llama2c_close(m);
    free(head);
    free(orig);
    bt_readers_scratch_remove(dir);
}
