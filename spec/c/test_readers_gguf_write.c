/* test_readers_gguf_write.c - the GGUF writer: write -> read round trips with
 * every value type, random string arrays and random tensors of every dtype GGUF
 * holds; copying a real file's metadata entry by entry; argument errors. */
#include "check.h"
#include "test_readers_util.h"
#include "runtime/gguf.h"
#include "runtime/gguf_write.h"
#include <stdlib.h>
#include <string.h>

#define N_STRINGS 1001

typedef struct written_tensor {
    const char *name;
    bt_dtype dtype;
    int n_dims;
    int64_t shape[4];
    size_t nbytes;
    uint8_t *data;
} written_tensor;

/* Shapes are odd where the dtype allows; block types get whole blocks per row. */
static written_tensor tensors[] = {
    {"f32.weight", BT_F32, 3, {3, 5, 7}, 0, NULL},
    {"f16.weight", BT_F16, 2, {13, 17}, 0, NULL},
    {"bf16.weight", BT_BF16, 4, {2, 3, 1, 5}, 0, NULL},
    {"q8_0.weight", BT_Q8_0, 2, {5, 96}, 0, NULL},
    {"tq2_0.weight", BT_TQ2_0, 2, {3, 256}, 0, NULL},
    {"tq1_0.weight", BT_TQ1_0, 2, {2, 512}, 0, NULL},
    {"i2_s.weight", BT_I2_S, 2, {3, 128}, 0, NULL},
    {"i8.weight", BT_I8, 1, {7}, 0, NULL},
    {"i32.weight", BT_I32, 1, {9}, 0, NULL},
    {"f64.weight", BT_F64, 2, {3, 3}, 0, NULL},
};
#define N_TENSORS (sizeof tensors / sizeof tensors[0])

static size_t layout_bytes(const written_tensor *t) {
    const bt_dtype_info *d = bt_dtype_get_info(t->dtype);
    int64_t rows = 1;
    for (int i = 0; i < t->n_dims - 1; i++) rows *= t->shape[i];
    return (size_t)rows * (size_t)(t->shape[t->n_dims - 1] / d->block_size) * d->block_bytes + (t->dtype == BT_I2_S ? 32 : 0);
}

static int value_equal(const bt_gguf_value *a, const bt_gguf_value *b) {
    if (a->type != b->type) return 0;
    switch (a->type) {
    case BT_GGUF_STRING: return a->v.s.len == b->v.s.len && memcmp(a->v.s.ptr, b->v.s.ptr, (size_t)a->v.s.len) == 0;
    case BT_GGUF_ARRAY:
        return a->v.arr.elem_type == b->v.arr.elem_type && a->v.arr.count == b->v.arr.count &&
               a->v.arr.nbytes == b->v.arr.nbytes && memcmp(a->v.arr.data, b->v.arr.data, (size_t)a->v.arr.nbytes) == 0;
    case BT_GGUF_FLOAT32: case BT_GGUF_FLOAT64: return a->v.f == b->v.f;
    default: return a->v.u == b->v.u;
    }
}

BT_TEST(readers_gguf_write_round_trip) {
    uint64_t seed = bt_test_seed();
    char dir[1024], path[1100];
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "scratch dir");
    snprintf(path, sizeof path, "%s/round.gguf", dir);

    /* Scalars of every type, with random values in range. */
    bt_gguf_value scalars[] = {
        {.type = BT_GGUF_UINT8, .v.u = bt_readers_rand(&seed) % 256},
        {.type = BT_GGUF_INT8, .v.i = (int64_t)(bt_readers_rand(&seed) % 256) - 128},
        {.type = BT_GGUF_UINT16, .v.u = bt_readers_rand(&seed) % 65536},
        {.type = BT_GGUF_INT16, .v.i = (int64_t)(bt_readers_rand(&seed) % 65536) - 32768},
        {.type = BT_GGUF_UINT32, .v.u = bt_readers_rand(&seed) >> 32},
        {.type = BT_GGUF_INT32, .v.i = (int32_t)(bt_readers_rand(&seed) >> 32)},
        {.type = BT_GGUF_FLOAT32, .v.f = (float)((double)(bt_readers_rand(&seed) >> 11) / 9007199254740992.0 - 0.5)},
        {.type = BT_GGUF_BOOL, .v.u = bt_readers_rand(&seed) & 1},
        {.type = BT_GGUF_STRING, .v.s = {"with\0nul", 8}},
        {.type = BT_GGUF_UINT64, .v.u = bt_readers_rand(&seed)},
        {.type = BT_GGUF_INT64, .v.i = (int64_t)bt_readers_rand(&seed)},
        {.type = BT_GGUF_FLOAT64, .v.f = (double)(bt_readers_rand(&seed) >> 11) / 3.0},
    };
    size_t n_scalars = sizeof scalars / sizeof scalars[0];
    /* Arrays of every fixed-size type from random bytes (bools as 0/1), and strings. */
    uint8_t raw[BT_GGUF_TYPE_COUNT][8 * 37];
    uint64_t counts[BT_GGUF_TYPE_COUNT];
    for (int t = 0; t < BT_GGUF_TYPE_COUNT; t++) {
        counts[t] = bt_readers_rand(&seed) % 38;
        for (size_t i = 0; i < sizeof raw[t]; i++) raw[t][i] = (uint8_t)bt_readers_rand(&seed);
        if (t == BT_GGUF_BOOL) for (size_t i = 0; i < sizeof raw[t]; i++) raw[t][i] &= 1;
        if (t == BT_GGUF_FLOAT32 || t == BT_GGUF_FLOAT64)   /* no NaNs: they would not compare equal */
            for (size_t i = bt_gguf_type_size(t) - 1; i < sizeof raw[t]; i += bt_gguf_type_size(t)) raw[t][i] &= 0x3f;
    }
    char **strs = malloc(N_STRINGS * sizeof *strs);
    uint64_t *lens = malloc(N_STRINGS * sizeof *lens);
    for (int i = 0; i < N_STRINGS; i++) {
        lens[i] = bt_readers_rand(&seed) % 40;   /* some empty, some with NUL bytes */
        strs[i] = malloc(lens[i] + 1);
        for (uint64_t j = 0; j < lens[i]; j++) strs[i][j] = (char)(bt_readers_rand(&seed) % 256);
    }
    for (size_t i = 0; i < N_TENSORS; i++) {
        tensors[i].nbytes = layout_bytes(&tensors[i]);
        tensors[i].data = malloc(tensors[i].nbytes);
        for (size_t j = 0; j < tensors[i].nbytes; j++) tensors[i].data[j] = (uint8_t)bt_readers_rand(&seed);
    }

    bt_gguf_writer *w;
    BT_CHECK(bt_gguf_writer_new(&w) == BT_OK, "writer");
    bt_status st = bt_gguf_writer_add_str(w, "general.architecture", "roundtrip");
    char key[64];
    for (size_t i = 0; st == BT_OK && i < n_scalars; i++) {
        snprintf(key, sizeof key, "scalar.%s", bt_gguf_type_name(scalars[i].type));
        st = bt_gguf_writer_add_value(w, key, &scalars[i]);
    }
    for (int t = 0; st == BT_OK && t < BT_GGUF_TYPE_COUNT; t++) {
        if (t == BT_GGUF_STRING || t == BT_GGUF_ARRAY) continue;
        snprintf(key, sizeof key, "array.%s", bt_gguf_type_name((bt_gguf_type)t));
        st = bt_gguf_writer_add_array(w, key, (bt_gguf_type)t, raw[t], counts[t]);
    }
    if (st == BT_OK) st = bt_gguf_writer_add_str_array(w, "array.string", (const char *const *)strs, lens, N_STRINGS);
    if (st == BT_OK) st = bt_gguf_writer_add_str_array(w, "array.empty", NULL, NULL, 0);
    for (size_t i = 0; st == BT_OK && i < N_TENSORS; i++)
        st = bt_gguf_writer_add_tensor(w, tensors[i].name, tensors[i].dtype, tensors[i].n_dims, tensors[i].shape,
                                       tensors[i].data, tensors[i].nbytes);
    if (st == BT_OK) st = bt_gguf_writer_write_file(w, path);
    bt_gguf_writer_free(w);
    BT_CHECK(st == BT_OK, "%s", bt_last_error());

    bt_gguf *g;
    BT_CHECK(bt_gguf_open(&g, path) == BT_OK, "%s", bt_last_error());
    BT_CHECK(g->version == 3 && g->n_kv == 1 + n_scalars + 11 + 2 && g->n_tensors == N_TENSORS, "counts");
    BT_CHECK(g->alignment == 32 && g->data_offset % 32 == 0 && g->map.size % 32 == 0, "alignment");
    for (size_t i = 0; i < n_scalars; i++) {
        snprintf(key, sizeof key, "scalar.%s", bt_gguf_type_name(scalars[i].type));
        const bt_gguf_kv *kv = bt_gguf_find(g, key);
        BT_CHECK(kv == &g->kv[1 + i], "%s: missing or out of order", key);
        bt_gguf_value want = scalars[i];
        if (want.type == BT_GGUF_FLOAT32) want.v.f = (float)want.v.f;
        BT_CHECK(value_equal(&kv->value, &want), "%s differs", key);
    }
    for (int t = 0; t < BT_GGUF_TYPE_COUNT; t++) {
        if (t == BT_GGUF_STRING || t == BT_GGUF_ARRAY) continue;
        snprintf(key, sizeof key, "array.%s", bt_gguf_type_name((bt_gguf_type)t));
        const bt_gguf_kv *kv = bt_gguf_find(g, key);
        size_t n = (size_t)counts[t] * bt_gguf_type_size((bt_gguf_type)t);
        BT_CHECK(kv && kv->value.type == BT_GGUF_ARRAY && kv->value.v.arr.elem_type == (bt_gguf_type)t &&
                 kv->value.v.arr.count == counts[t] && kv->value.v.arr.nbytes == n &&
                 memcmp(kv->value.v.arr.data, raw[t], n) == 0, "%s differs", key);
        for (uint64_t j = 0; j < counts[t]; j++) {
            bt_gguf_value e;
            BT_CHECK(bt_gguf_array_value(&kv->value, j, &e) == BT_OK && e.type == (bt_gguf_type)t, "%s[%llu]", key,
                     (unsigned long long)j);
        }
    }
    const bt_gguf_kv *kv = bt_gguf_find(g, "array.string");
    BT_CHECK(kv && kv->value.v.arr.count == N_STRINGS, "string array");
    for (int i = 0; i < N_STRINGS; i++) {
        bt_gguf_str s;
        BT_CHECK(bt_gguf_array_str(&kv->value, (uint64_t)i, &s) == BT_OK && s.len == lens[i] &&
                 memcmp(s.ptr, strs[i], (size_t)lens[i]) == 0, "string %d", i);
    }
    kv = bt_gguf_find(g, "array.empty");
    BT_CHECK(kv && kv->value.v.arr.elem_type == BT_GGUF_STRING && kv->value.v.arr.count == 0, "empty array");
    for (size_t i = 0; i < N_TENSORS; i++) {
        const written_tensor *w_t = &tensors[i];
        const bt_gguf_tensor_info *t = &g->tensors[i];
        BT_CHECK(bt_gguf_str_eq(t->name, w_t->name) && t->dtype == w_t->dtype && (int)t->n_dims == w_t->n_dims,
                 "tensor %zu header", i);
        for (int d = 0; d < w_t->n_dims; d++)
            BT_CHECK(t->ne[d] == (uint64_t)w_t->shape[w_t->n_dims - 1 - d], "%s: ne[%d] is not the reversed shape", w_t->name, d);
        BT_CHECK(t->offset % 32 == 0 && t->nbytes == w_t->nbytes && memcmp(t->data, w_t->data, w_t->nbytes) == 0,
                 "%s: data", w_t->name);
    }
    bt_gguf_close(g);
    for (int i = 0; i < N_STRINGS; i++) free(strs[i]);
    free(strs);
    free(lens);
    for (size_t i = 0; i < N_TENSORS; i++) free(tensors[i].data);
    bt_readers_scratch_remove(dir);
}

/* Copying every entry of a real file (string arrays of 128256 and 280147) and of
 * the nested-array file through bt_gguf_writer_add_value reproduces them. */
BT_TEST(readers_gguf_write_copies_metadata) {
    char src[1024], dir[1024], path[1100], nested_path[1100];
    if (!bt_readers_data_path(src, sizeof src, "tokenizers/ggml-vocab-llama-bpe.gguf")) BT_CHECK(0, "test data missing (spec/data)");
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "scratch dir");
    snprintf(path, sizeof path, "%s/copy.gguf", dir);
    snprintf(nested_path, sizeof nested_path, "%s/nested.gguf", dir);
    bt_readers_bytes nested = {0};
    bt_readers_nested_gguf(&nested);
    bt_gguf *a, *n, *b;
    BT_CHECK(bt_readers_write_file(nested_path, nested.data, nested.len), "write");
    free(nested.data);
    BT_CHECK(bt_gguf_open(&a, src) == BT_OK && bt_gguf_open(&n, nested_path) == BT_OK, "%s", bt_last_error());
    bt_gguf_writer *w;
    bt_status st = bt_gguf_writer_new(&w);
    for (uint64_t i = 0; st == BT_OK && i < a->n_kv; i++) {
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)a->kv[i].key.len, a->kv[i].key.ptr);
        st = bt_gguf_writer_add_value(w, key, &a->kv[i].value);
    }
    if (st == BT_OK) st = bt_gguf_writer_add_value(w, "nested", &n->kv[0].value);
    if (st == BT_OK) st = bt_gguf_writer_write_file(w, path);
    bt_gguf_writer_free(w);
    BT_CHECK(st == BT_OK, "%s", bt_last_error());
    BT_CHECK(bt_gguf_open(&b, path) == BT_OK, "%s", bt_last_error());
    BT_CHECK(b->n_kv == a->n_kv + 1, "count");
    for (uint64_t i = 0; i < a->n_kv; i++)
        BT_CHECK(a->kv[i].key.len == b->kv[i].key.len && memcmp(a->kv[i].key.ptr, b->kv[i].key.ptr, a->kv[i].key.len) == 0 &&
                 value_equal(&a->kv[i].value, &b->kv[i].value), "entry %llu differs", (unsigned long long)i);
    BT_CHECK(bt_readers_nested_ok(&bt_gguf_find(b, "nested")->value), "nested copy");
    /* The metadata section is byte-identical: same entries, same encoding. */
    const bt_gguf_kv *last = &a->kv[a->n_kv - 1];   /* tokenizer.ggml.add_bos_token, a bool */
    size_t meta_end = (size_t)((const uint8_t *)last->key.ptr - a->map.data) + last->key.len + 4 + 1;
    BT_CHECK(last->value.type == BT_GGUF_BOOL && memcmp(a->map.data + 24, b->map.data + 24, meta_end - 24) == 0,
             "metadata bytes");
    bt_gguf_close(a);
    bt_gguf_close(n);
    bt_gguf_close(b);
    bt_readers_scratch_remove(dir);
}

BT_TEST(readers_gguf_write_argument_errors) {
    bt_gguf_writer *w;
    BT_CHECK(bt_gguf_writer_new(&w) == BT_OK, "writer");
    static float data[4 * 300];
    BT_CHECK(bt_gguf_writer_add_u32(w, "k", 1) == BT_OK, "first key");
    BT_CHECK(bt_gguf_writer_add_u32(w, "k", 2) == BT_ERR_ARG && strstr(bt_last_error(), "duplicate"), "duplicate key");
    bt_gguf_value big = {.type = BT_GGUF_UINT8, .v.u = 300}, neg = {.type = BT_GGUF_INT16, .v.i = -40000};
    BT_CHECK(bt_gguf_writer_add_value(w, "u8", &big) == BT_ERR_ARG, "uint8 300");
    BT_CHECK(bt_gguf_writer_add_value(w, "i16", &neg) == BT_ERR_ARG, "int16 -40000");
    BT_CHECK(bt_gguf_writer_add_u32(w, "general.alignment", 48) == BT_ERR_ARG, "alignment 48");
    BT_CHECK(bt_gguf_writer_add_array(w, "s", BT_GGUF_STRING, data, 1) == BT_ERR_ARG, "add_array of strings");
    bt_gguf_value strings = {.type = BT_GGUF_ARRAY, .v.arr = {.elem_type = BT_GGUF_STRING, .count = 1, .data = (const uint8_t *)data}};
    BT_CHECK(bt_gguf_writer_add_value(w, "s", &strings) == BT_ERR_ARG, "string array not from a reader");
    int64_t shape[5] = {4, 300, 1, 1, 1};
    BT_CHECK(bt_gguf_writer_add_tensor(w, "t", BT_F32, 2, shape, data, 100) == BT_ERR_ARG, "wrong nbytes");
    BT_CHECK(bt_gguf_writer_add_tensor(w, "t", BT_F32, 0, shape, data, 0) == BT_ERR_ARG, "0 dims");
    BT_CHECK(bt_gguf_writer_add_tensor(w, "t", BT_F32, 5, shape, data, sizeof data) == BT_ERR_ARG, "5 dims");
    BT_CHECK(bt_gguf_writer_add_tensor(w, "t", BT_TQ2_0, 2, shape, data, 4 * 66) == BT_ERR_ARG &&
             strstr(bt_last_error(), "block size"), "row of 300 in tq2_0");
    BT_CHECK(bt_gguf_writer_add_tensor(w, "t", BT_U8, 1, shape, data, 4) == BT_ERR_ARG, "u8 has no ggml type");
    BT_CHECK(bt_gguf_writer_add_tensor(w, "", BT_F32, 1, shape, data, 16) == BT_ERR_ARG, "empty name");
    BT_CHECK(bt_gguf_writer_add_tensor(w, "t", BT_F32, 2, shape, data, sizeof data) == BT_OK, "%s", bt_last_error());
    BT_CHECK(bt_gguf_writer_add_tensor(w, "t", BT_F32, 2, shape, data, sizeof data) == BT_ERR_ARG, "duplicate tensor");
    BT_CHECK(bt_gguf_writer_write_file(w, "/nonexistent-dir/x.gguf") == BT_ERR_IO &&
             strstr(bt_last_error(), "/nonexistent-dir/x.gguf"), "unwritable path");
    bt_gguf_writer_free(w);
}
