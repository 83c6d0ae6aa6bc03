/* test_readers_gguf.c - the GGUF reader on real files: llama.cpp's vocab-only
 * GGUFs and the synthetic BitNet model in F32, TQ2_0, TQ1_0 and I2_S (metadata
 * and shapes from the data READMEs; tensor bytes decoded and compared across
 * the files, which hold the same model). */
#include "check.h"
#include "test_readers_util.h"
#include "runtime/gguf.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BITNET "reference/bitnet/"

static int str_is(bt_gguf_str s, const char *c) { return bt_gguf_str_eq(s, c); }

static int64_t int_of(const bt_gguf *g, const char *key) {
    int64_t v = -1;
    return bt_gguf_get_int(g, key, &v) == BT_OK ? v : -999;
}

static const bt_gguf_value *array_of(const bt_gguf *g, const char *key, bt_gguf_type elem) {
    const bt_gguf_kv *kv = bt_gguf_find(g, key);
    if (!kv || kv->value.type != BT_GGUF_ARRAY || kv->value.v.arr.elem_type != elem) return NULL;
    return &kv->value;
}

/* Walks a string array's raw bytes independently of the reader's index and
 * checks every element (all of them, then random ones again) against it. */
static int check_string_array(const bt_gguf_value *arr, uint64_t *seed) {
    uint64_t n = arr->v.arr.count, pos = 0;
    uint64_t *starts = malloc(n * sizeof *starts);
    int ok = starts != NULL;
    for (uint64_t i = 0; ok && i < n; i++) {
        uint64_t len;
        memcpy(&len, arr->v.arr.data + pos, 8);
        starts[i] = pos;
        bt_gguf_str s;
        ok = bt_gguf_array_str(arr, i, &s) == BT_OK && s.len == len &&
             s.ptr == (const char *)arr->v.arr.data + pos + 8;
        pos += 8 + len;
    }
    ok = ok && pos == arr->v.arr.nbytes;
    for (int k = 0; ok && k < 1000; k++) {
        uint64_t i = bt_readers_rand(seed) % n;
        bt_gguf_value v;
        ok = bt_gguf_array_value(arr, i, &v) == BT_OK && v.type == BT_GGUF_STRING &&
             v.v.s.ptr == (const char *)arr->v.arr.data + starts[i] + 8;
    }
    free(starts);
    return ok;
}

BT_TEST(readers_gguf_vocab_llama_spm) {
    char path[1024];
    if (!bt_readers_data_path(path, sizeof path, "tokenizers/ggml-vocab-llama-spm.gguf")) BT_CHECK(0, "test data missing (spec/data)");
    bt_gguf *g;
    BT_CHECK(bt_gguf_open(&g, path) == BT_OK, "%s", bt_last_error());
    uint64_t seed = bt_test_seed();
    BT_CHECK(g->version == 3 && g->n_tensors == 0 && g->n_kv == 22, "v%u %llu tensors %llu kv", g->version,
             (unsigned long long)g->n_tensors, (unsigned long long)g->n_kv);
    bt_gguf_str s;
    BT_CHECK(bt_gguf_get_str(g, "tokenizer.ggml.model", &s) == BT_OK && str_is(s, "llama"), "model");
    BT_CHECK(int_of(g, "llama.vocab_size") == 32000 && int_of(g, "tokenizer.ggml.bos_token_id") == 1 &&
             int_of(g, "tokenizer.ggml.eos_token_id") == 2 && int_of(g, "tokenizer.ggml.unknown_token_id") == 0, "ids");
    int flag;
    BT_CHECK(bt_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &flag) == BT_OK && flag == 1, "add_bos");
    BT_CHECK(bt_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &flag) == BT_OK && flag == 0, "add_eos");
    const bt_gguf_value *tokens = array_of(g, "tokenizer.ggml.tokens", BT_GGUF_STRING);
    BT_CHECK(tokens && tokens->v.arr.count == 32000, "tokens");
    BT_CHECK(check_string_array(tokens, &seed), "string array index disagrees with the raw bytes");
    BT_CHECK(bt_gguf_array_str(tokens, 1, &s) == BT_OK && str_is(s, "<s>"), "token 1");
    BT_CHECK(bt_gguf_array_str(tokens, 2, &s) == BT_OK && str_is(s, "</s>"), "token 2");
    const bt_gguf_value *scores = array_of(g, "tokenizer.ggml.scores", BT_GGUF_FLOAT32);
    const bt_gguf_value *types = array_of(g, "tokenizer.ggml.token_type", BT_GGUF_INT32);
    BT_CHECK(scores && scores->v.arr.count == 32000 && scores->v.arr.nbytes == 4 * 32000, "scores");
    BT_CHECK(types && types->v.arr.count == 32000, "token types");
    bt_gguf_value v;
    BT_CHECK(bt_gguf_array_value(types, 1, &v) == BT_OK && v.type == BT_GGUF_INT32 && v.v.i == 3, "<s> is a control token");
    double eps;
    BT_CHECK(bt_gguf_get_float(g, "llama.attention.layer_norm_rms_epsilon", &eps) == BT_OK && fabs(eps - 1e-5) < 1e-12,
             "eps %g", eps);
    bt_gguf_close(g);
}

BT_TEST(readers_gguf_vocab_gpt2_and_llama_bpe) {
    char gpt2[1024], bpe[1024];
    if (!bt_readers_data_path(gpt2, sizeof gpt2, "tokenizers/ggml-vocab-gpt-2.gguf") ||
        !bt_readers_data_path(bpe, sizeof bpe, "tokenizers/ggml-vocab-llama-bpe.gguf"))
        BT_CHECK(0, "test data missing (spec/data)");
    uint64_t seed = bt_test_seed();
    bt_gguf *g;
    bt_gguf_str s;
    BT_CHECK(bt_gguf_open(&g, gpt2) == BT_OK, "%s", bt_last_error());
    BT_CHECK(g->n_kv == 16 && int_of(g, "tokenizer.ggml.bos_token_id") == 50256, "gpt-2 header");
    const bt_gguf_value *tokens = array_of(g, "tokenizer.ggml.tokens", BT_GGUF_STRING);
    const bt_gguf_value *merges = array_of(g, "tokenizer.ggml.merges", BT_GGUF_STRING);
    BT_CHECK(tokens && tokens->v.arr.count == 50257 && merges && merges->v.arr.count == 50000, "gpt-2 arrays");
    BT_CHECK(bt_gguf_array_str(tokens, 50256, &s) == BT_OK && str_is(s, "<|endoftext|>"), "gpt-2 last token");
    BT_CHECK(check_string_array(tokens, &seed) && check_string_array(merges, &seed), "gpt-2 string arrays");
    bt_gguf_close(g);

    BT_CHECK(bt_gguf_open(&g, bpe) == BT_OK, "%s", bt_last_error());
    BT_CHECK(g->n_kv == 21 && int_of(g, "llama.vocab_size") == 128256 && int_of(g, "tokenizer.ggml.bos_token_id") == 128000,
             "llama-bpe header");
    BT_CHECK(bt_gguf_get_str(g, "tokenizer.ggml.pre", &s) == BT_OK && str_is(s, "llama-bpe"), "pre");
    double base;
    BT_CHECK(bt_gguf_get_float(g, "llama.rope.freq_base", &base) == BT_OK && base == 500000.0, "freq_base");
    tokens = array_of(g, "tokenizer.ggml.tokens", BT_GGUF_STRING);
    merges = array_of(g, "tokenizer.ggml.merges", BT_GGUF_STRING);
    BT_CHECK(tokens && tokens->v.arr.count == 128256 && merges && merges->v.arr.count == 280147, "llama-bpe arrays");
    BT_CHECK(bt_gguf_array_str(tokens, 128000, &s) == BT_OK && str_is(s, "<|begin_of_text|>"), "token 128000");
    BT_CHECK(check_string_array(tokens, &seed) && check_string_array(merges, &seed), "llama-bpe string arrays");
    /* Every merge is "left right": one space splits it. */
    for (uint64_t i = 0; i < merges->v.arr.count; i++) {
        BT_CHECK(bt_gguf_array_str(merges, i, &s) == BT_OK && memchr(s.ptr, ' ', (size_t)s.len), "merge %llu",
                 (unsigned long long)i);
    }
    bt_gguf_close(g);
}

BT_TEST(readers_gguf_getter_errors) {
    char path[1024];
    if (!bt_readers_data_path(path, sizeof path, "tokenizers/ggml-vocab-llama-spm.gguf")) BT_CHECK(0, "test data missing (spec/data)");
    bt_gguf *g;
    BT_CHECK(bt_gguf_open(&g, path) == BT_OK, "%s", bt_last_error());
    int64_t i;
    double f;
    bt_gguf_str s;
    int b;
    BT_CHECK(bt_gguf_get_int(g, "no.such.key", &i) == BT_ERR_ARG && strstr(bt_last_error(), "no.such.key"), "absent");
    BT_CHECK(bt_readers_format_error(bt_gguf_get_int(g, "general.name", &i), path, "general.name", "string", NULL),
             "%s", bt_last_error());
    BT_CHECK(bt_readers_format_error(bt_gguf_get_str(g, "llama.block_count", &s), "llama.block_count", NULL), "str");
    BT_CHECK(bt_readers_format_error(bt_gguf_get_bool(g, "llama.block_count", &b), "bool", NULL), "bool");
    BT_CHECK(bt_gguf_get_float(g, "llama.block_count", &f) == BT_OK && f == 32.0, "ints read as floats");
    BT_CHECK(bt_readers_format_error(bt_gguf_get_float(g, "general.name", &f), "general.name", NULL), "float");
    const bt_gguf_value *tokens = array_of(g, "tokenizer.ggml.tokens", BT_GGUF_STRING);
    const bt_gguf_value *scores = array_of(g, "tokenizer.ggml.scores", BT_GGUF_FLOAT32);
    BT_CHECK(bt_gguf_array_str(tokens, 32000, &s) == BT_ERR_ARG, "index past the end");
    BT_CHECK(bt_gguf_array_str(scores, 0, &s) == BT_ERR_ARG, "str of a float array");
    BT_CHECK(bt_gguf_array_str(&bt_gguf_find(g, "general.name")->value, 0, &s) == BT_ERR_ARG, "not an array");
    BT_CHECK(bt_gguf_find_tensor(g, "token_embd.weight") == NULL, "no tensors");
    bt_gguf_close(g);
}

/* ---------------------------------------------------------------- the BitNet model */

typedef struct expected_tensor {
    const char *name;   /* per layer: with %d */
    int64_t rows, cols; /* numpy shape; cols 0 for 1-D */
    int ternary;
} expected_tensor;

static const expected_tensor bitnet_tensors[] = {
    {"blk.%d.attn_norm.weight", 256, 0, 0}, {"blk.%d.attn_q.weight", 256, 256, 1},
    {"blk.%d.attn_k.weight", 128, 256, 1}, {"blk.%d.attn_v.weight", 128, 256, 1},
    {"blk.%d.attn_output.weight", 256, 256, 1}, {"blk.%d.attn_sub_norm.weight", 256, 0, 0},
    {"blk.%d.ffn_norm.weight", 256, 0, 0}, {"blk.%d.ffn_gate.weight", 768, 256, 1},
    {"blk.%d.ffn_up.weight", 768, 256, 1}, {"blk.%d.ffn_down.weight", 256, 768, 1},
    {"blk.%d.ffn_sub_norm.weight", 768, 0, 0},
};

/* Checks metadata and every tensor's name, shape and type; matrix_dtype is the
 * ternary matrices' type, embd_dtype the embedding's. */
static const char *check_bitnet_file(const bt_gguf *g, const char *arch, bt_dtype matrix_dtype, bt_dtype embd_dtype,
                                     int64_t file_type) {
    static char why[256];
    char key[128];
    bt_gguf_str s;
    if (g->version != 3 || g->n_tensors != 35 || g->n_kv != (file_type ? 24u : 23u)) return "header counts";
    if (bt_gguf_get_str(g, "general.architecture", &s) || !str_is(s, arch)) return "architecture";
    if (bt_gguf_get_str(g, "general.name", &s) || !str_is(s, "tiny-bitnet-synthetic-s4321")) return "name";
    static const struct { const char *suffix; int64_t value; } ints[] = {
        {"vocab_size", 512}, {"context_length", 256}, {"embedding_length", 256}, {"block_count", 3},
        {"feed_forward_length", 768}, {"attention.head_count", 4}, {"attention.head_count_kv", 2},
        {"rope.dimension_count", 64}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        snprintf(key, sizeof key, "%s.%s", arch, ints[i].suffix);
        if (int_of(g, key) != ints[i].value) return snprintf(why, sizeof why, "%s", key), why;
    }
    double f;
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    if (bt_gguf_get_float(g, key, &f) || f != (double)1e-5f) return "rms eps";
    snprintf(key, sizeof key, "%s.rope.freq_base", arch);
    if (bt_gguf_get_float(g, key, &f) || f != 500000.0) return "freq_base";
    snprintf(key, sizeof key, "%s.hidden_activation", arch);
    if (bt_gguf_get_str(g, key, &s) || !str_is(s, "relu2")) return "hidden_activation";
    if (int_of(g, "general.file_type") != file_type) return "file_type";
    if (file_type && int_of(g, "general.quantization_version") != 2) return "quantization_version";
    const bt_gguf_kv *sep = bt_gguf_find(g, "tokenizer.ggml.seperator_token_id");
    if (!sep || sep->value.type != BT_GGUF_UINT32 || sep->value.v.u != 4294967295u) return "separator id";
    if (int_of(g, "tokenizer.ggml.padding_token_id") != 4294967295 || int_of(g, "tokenizer.ggml.bos_token_id") != 1)
        return "special ids";
    const bt_gguf_value *tokens = array_of(g, "tokenizer.ggml.tokens", BT_GGUF_STRING);
    if (!tokens || tokens->v.arr.count != 512 || bt_gguf_array_str(tokens, 1, &s) || !str_is(s, "<s>")) return "tokens";
    if (!array_of(g, "tokenizer.ggml.scores", BT_GGUF_FLOAT32) || !array_of(g, "tokenizer.ggml.token_type", BT_GGUF_INT32))
        return "scores/types";

    const bt_gguf_tensor_info *t = bt_gguf_find_tensor(g, "token_embd.weight");
    if (!t || t->n_dims != 2 || t->ne[0] != 256 || t->ne[1] != 512 || t->dtype != embd_dtype) return "token_embd";
    t = bt_gguf_find_tensor(g, "output_norm.weight");
    if (!t || t->n_dims != 1 || t->ne[0] != 256 || t->dtype != BT_F32) return "output_norm";
    if (bt_gguf_find_tensor(g, "output.weight")) return "the head is tied: no output.weight";
    for (int layer = 0; layer < 3; layer++)
        for (size_t i = 0; i < sizeof bitnet_tensors / sizeof bitnet_tensors[0]; i++) {
            const expected_tensor *e = &bitnet_tensors[i];
            snprintf(key, sizeof key, e->name, layer);
            t = bt_gguf_find_tensor(g, key);
            int dims = e->cols ? 2 : 1;
            bt_dtype want = e->ternary ? matrix_dtype : BT_F32;
            if (!t || (int)t->n_dims != dims || t->dtype != want || t->ne[0] != (uint64_t)(e->cols ? e->cols : e->rows) ||
                (dims == 2 && t->ne[1] != (uint64_t)e->rows))
                return snprintf(why, sizeof why, "tensor %s", key), why;
        }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        t = &g->tensors[i];
        if (t->offset % 32 || t->data != g->map.data + g->data_offset + t->offset) return "tensor placement";
    }
    return NULL;
}

BT_TEST(readers_gguf_bitnet_quantized_files) {
    static const struct { const char *file, *arch; bt_dtype dtype; int64_t file_type; uint64_t data_offset; } files[] = {
        {BITNET "bitnet-s4321-tq2_0.gguf", "bitnet", BT_TQ2_0, 37, 13632},
        {BITNET "bitnet-s4321-tq1_0.gguf", "bitnet", BT_TQ1_0, 36, 13632},
        {BITNET "bitnet-s4321-i2_s.gguf", "bitnet", BT_I2_S, 40, 13632},
        {BITNET "bitnet-s4321-tq2_0-arch-bitnet-b1.58.gguf", "bitnet-b1.58", BT_TQ2_0, 37, 13696},
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[1024];
        if (!bt_readers_data_path(path, sizeof path, files[f].file)) BT_CHECK(0, "test data missing (spec/data)");
        bt_gguf *g;
        BT_CHECK(bt_gguf_open(&g, path) == BT_OK, "%s", bt_last_error());
        const char *why = check_bitnet_file(g, files[f].arch, files[f].dtype, BT_F16, files[f].file_type);
        uint64_t data_offset = g->data_offset;
        bt_gguf_close(g);
        BT_CHECK(!why, "%s: %s", files[f].file, why);
        BT_CHECK(data_offset == files[f].data_offset, "%s: data section at %llu", files[f].file,
                 (unsigned long long)data_offset);
    }
}

/* Ternary code (0, 1, 2 for -1, 0, +1) of element e of a TQ2_0 tensor, and its block scale. */
static int tq2_0_code(const uint8_t *data, int64_t e, float *scale) {
    const uint8_t *block = data + (e / 256) * 66;
    int64_t j = e % 256, half = j / 128, k = j % 128;
    uint16_t d;
    memcpy(&d, block + 64, 2);
    *scale = bt_f16_to_f32(d);
    return block[half * 32 + k % 32] >> (2 * (k / 32)) & 3;
}

/* The same for I2_S: 128-element blocks of 32 bytes, highest bits first, one f32 scale after n/4 bytes. */
static int i2_s_code(const uint8_t *data, int64_t e, int64_t n, float *scale) {
    memcpy(scale, data + n / 4, 4);
    int64_t j = e % 128;
    return data[(e / 128) * 32 + j % 32] >> (6 - 2 * (j / 32)) & 3;
}

BT_TEST(readers_gguf_bitnet_tensor_data_agrees) {
    char tq2[1024], i2s[1024], gz[1024], scratch[1024], f32[1100];
    if (!bt_readers_data_path(tq2, sizeof tq2, BITNET "bitnet-s4321-tq2_0.gguf") ||
        !bt_readers_data_path(i2s, sizeof i2s, BITNET "bitnet-s4321-i2_s.gguf") ||
        !bt_readers_data_path(gz, sizeof gz, BITNET "bitnet-s4321-f32.gguf.gz"))
        BT_CHECK(0, "test data missing (spec/data)");
    BT_CHECK(bt_readers_scratch_new(scratch, sizeof scratch), "scratch dir");
    snprintf(f32, sizeof f32, "%s/bitnet-s4321-f32.gguf", scratch);
    int unzipped = bt_readers_gunzip(gz, f32);
    bt_gguf *gf = NULL, *gt = NULL, *gi = NULL;
    bt_status st = unzipped ? bt_gguf_open(&gf, f32) : BT_ERR_IO;
    if (st == BT_OK) st = bt_gguf_open(&gt, tq2);
    if (st == BT_OK) st = bt_gguf_open(&gi, i2s);
    const char *why = st == BT_OK ? check_bitnet_file(gf, "bitnet", BT_F32, BT_F32, 0) : bt_last_error();
    char msg[512] = "";
    for (uint64_t i = 0; !why && i < gf->n_tensors; i++) {
        const bt_gguf_tensor_info *tf = &gf->tensors[i];
        char name[96];
        snprintf(name, sizeof name, "%.*s", (int)tf->name.len, tf->name.ptr);
        const bt_gguf_tensor_info *tt = bt_gguf_find_tensor(gt, name), *ti = bt_gguf_find_tensor(gi, name);
        int64_t n = (int64_t)(tf->ne[0] * tf->ne[1]);
        const float *w = (const float *)tf->data;   /* [n] */
        if (!tt || !ti) why = "tensor missing";
        else if (tt->dtype == BT_TQ2_0) {
            if (ti->dtype != BT_I2_S || ti->nbytes != (uint64_t)n / 4 + 32) why = "I2_S size";
            for (int64_t e = 0; !why && e < n; e++) {
                float dt, di;
                int ct = tq2_0_code(tt->data, e, &dt), ci = i2_s_code(ti->data, e, n, &di);
                if (ct != ci || dt != di || (float)(ct - 1) * dt != w[e])
                    snprintf(msg, sizeof msg, "%s element %lld: tq2_0 %d*%g, i2_s %d*%g, f32 %g", name, (long long)e,
                             ct - 1, dt, ci - 1, di, w[e]), why = msg;
            }
        } else if (tt->dtype == BT_F16) {
            for (int64_t e = 0; !why && e < n; e++) {
                uint16_t h;
                memcpy(&h, tt->data + 2 * e, 2);
                if (bt_f16_to_f32(h) != w[e]) why = "f16 embedding differs from f32";
            }
            if (!why && (ti->nbytes != tt->nbytes || memcmp(ti->data, tt->data, tt->nbytes))) why = "i2_s embedding bytes";
        } else if (tt->nbytes != tf->nbytes || memcmp(tt->data, tf->data, tf->nbytes) || memcmp(ti->data, tf->data, tf->nbytes)) {
            why = "norm bytes differ";
        }
    }
    /* README section 6: blk.0.attn_q.weight starts 92 04 90 90, scale bytes 00 a0 0b 3e. */
    const bt_gguf_tensor_info *q = gi ? bt_gguf_find_tensor(gi, "blk.0.attn_q.weight") : NULL;
    static const uint8_t head[4] = {0x92, 0x04, 0x90, 0x90}, scale[4] = {0x00, 0xa0, 0x0b, 0x3e};
    int layout_ok = q && memcmp(q->data, head, 4) == 0 && memcmp(q->data + 16384, scale, 4) == 0;
    bt_gguf_close(gf);
    bt_gguf_close(gt);
    bt_gguf_close(gi);
    bt_readers_scratch_remove(scratch);
    BT_CHECK(unzipped, "cannot decompress %s", gz);
    BT_CHECK(!why, "%s", why);
    BT_CHECK(layout_ok, "I2_S bytes of blk.0.attn_q.weight");
}

BT_TEST(readers_gguf_i2_s_scales_match_reference) {
    char i2s[1024], scales_path[1024];
    if (!bt_readers_data_path(i2s, sizeof i2s, BITNET "bitnet-s4321-i2_s.gguf") ||
        !bt_readers_data_path(scales_path, sizeof scales_path, BITNET "bitnet-s4321-scales.txt"))
        BT_CHECK(0, "test data missing (spec/data)");
    size_t len;
    uint8_t *text = bt_readers_read_file(scales_path, &len);
    bt_gguf *g;
    BT_CHECK(text && bt_gguf_open(&g, i2s) == BT_OK, "%s", bt_last_error());
    text[len] = 0;
    int lines = 0;
    const char *why = NULL;
    char name[96], tensor[128];
    double expected;
    int used;
    for (const char *at = (const char *)text; !why && sscanf(at, "%95s %lf%n", name, &expected, &used) == 2; at += used) {
        snprintf(tensor, sizeof tensor, "%s.weight", name);
        const bt_gguf_tensor_info *t = bt_gguf_find_tensor(g, tensor);
        float s;
        if (!t || t->dtype != BT_I2_S) { why = "tensor missing"; break; }
        memcpy(&s, t->data + t->nbytes - 32, 4);
        if ((double)s != expected) why = "scale differs";
        lines++;
    }
    bt_gguf_close(g);
    free(text);
    BT_CHECK(!why && lines == 21, "%s after %d scales (%s)", why ? why : "count", lines, name);
}
