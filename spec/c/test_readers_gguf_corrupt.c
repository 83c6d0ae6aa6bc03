/* test_readers_gguf_corrupt.c - hostile GGUF files: copies of a real model with
 * one field broken (magic, version, counts, lengths, types, offsets, dims,
 * duplicates), truncations at many points, nesting bombs and random byte flips.
 * Each must fail with BT_ERR_FORMAT and a message naming the file (and the
 * field or tensor), never crash; run under ASan/UBSan to see the "never". */
#include "check.h"
#include "test_readers_util.h"
#include "runtime/gguf.h"
#include "runtime/gguf_write.h"
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char dir[1024], path[1100];   /* scratch dir and the file each case writes */
    uint8_t *orig;                /* [size] the real file's bytes */
    size_t size;
    bt_gguf *g;                   /* the real file, opened: where its fields are */
    uint8_t *buf;                 /* [size] the copy being broken */
} fixture;

static int fixture_open(fixture *f, const char *rel) {
    char src[1024];
    memset(f, 0, sizeof *f);
    if (!bt_readers_data_path(src, sizeof src, rel) || !bt_readers_scratch_new(f->dir, sizeof f->dir)) return 0;
    snprintf(f->path, sizeof f->path, "%s/broken.gguf", f->dir);
    f->orig = bt_readers_read_file(src, &f->size);
    f->buf = malloc(f->size + 1);
    return f->orig && f->buf && bt_gguf_open(&f->g, src) == BT_OK;
}

static void fixture_close(fixture *f) {
    bt_gguf_close(f->g);
    free(f->orig);
    free(f->buf);
    if (f->dir[0]) bt_readers_scratch_remove(f->dir);
}

/* A fresh copy of the real bytes to break. */
static uint8_t *fresh(fixture *f) {
    memcpy(f->buf, f->orig, f->size);
    return f->buf;
}

/* Writes bytes [n] as the case file and opens it; closes it again if it opened. */
static bt_status open_bytes(fixture *f, const uint8_t *bytes, size_t n) {
    if (!bt_readers_write_file(f->path, bytes, n)) return bt_set_error(BT_ERR_IO, "cannot write %s", f->path);
    bt_gguf *g;
    bt_status st = bt_gguf_open(&g, f->path);
    bt_gguf_close(st == BT_OK ? g : NULL);
    return st;
}

/* File offsets of a metadata entry's key length and of its value; of a tensor info's fields. */
static size_t key_at(const fixture *f, const char *key) {
    return (size_t)((const uint8_t *)bt_gguf_find(f->g, key)->key.ptr - f->g->map.data) - 8;
}

static size_t value_at(const fixture *f, const char *key) {
    const bt_gguf_kv *kv = bt_gguf_find(f->g, key);
    return (size_t)((const uint8_t *)kv->key.ptr - f->g->map.data + kv->key.len) + 4;
}

typedef struct info_at { size_t name, n_dims, ne, type, offset; } info_at;

static info_at tensor_at(const fixture *f, const char *name) {
    const bt_gguf_tensor_info *t = bt_gguf_find_tensor(f->g, name);
    info_at a;
    a.name = (size_t)((const uint8_t *)t->name.ptr - f->g->map.data);
    a.n_dims = a.name + t->name.len;
    a.ne = a.n_dims + 4;
    a.type = a.ne + 8 * t->n_dims;
    a.offset = a.type + 4;
    return a;
}

#define BROKEN(f, bytes, n, ...)                                                                        \
    BT_CHECK(bt_readers_format_error(open_bytes(f, bytes, n), (f)->path, __VA_ARGS__, NULL), "got: %s", \
             bt_last_error())

#define TQ2 "reference/bitnet/bitnet-s4321-tq2_0.gguf"

BT_TEST(readers_gguf_corrupt_header) {
    fixture f;
    if (!fixture_open(&f, TQ2)) { fixture_close(&f); BT_CHECK(0, "test data missing (spec/data)"); }
    BT_CHECK(open_bytes(&f, fresh(&f), f.size) == BT_OK, "the unbroken copy must open: %s", bt_last_error());
    memcpy(fresh(&f), "GGUX", 4);
    BROKEN(&f, f.buf, f.size, "not a GGUF file", "GGUX");
    bt_readers_put_u32(fresh(&f) + 4, 1);
    BROKEN(&f, f.buf, f.size, "version 1");
    bt_readers_put_u32(fresh(&f) + 4, 4);
    BROKEN(&f, f.buf, f.size, "version 4");
    bt_readers_put_u32(fresh(&f) + 4, 0x03000000);
    BROKEN(&f, f.buf, f.size, "big-endian");
    bt_readers_put_u64(fresh(&f) + 8, 1ull << 40);
    BROKEN(&f, f.buf, f.size, "tensor count");
    bt_readers_put_u64(fresh(&f) + 16, 1ull << 62);
    BROKEN(&f, f.buf, f.size, "metadata count");
    bt_readers_put_u64(fresh(&f) + 16, 25);   /* one entry more than there is: tensor infos read as metadata */
    BROKEN(&f, f.buf, f.size, f.path);
    BROKEN(&f, f.buf, 0, "runs past end of file");
    fixture_close(&f);
}

BT_TEST(readers_gguf_corrupt_metadata) {
    fixture f;
    if (!fixture_open(&f, TQ2)) { fixture_close(&f); BT_CHECK(0, "test data missing (spec/data)"); }
    bt_readers_put_u64(fresh(&f) + key_at(&f, "general.architecture"), 1ull << 63);
    BROKEN(&f, f.buf, f.size, "metadata entry 0", "key length");
    bt_readers_put_u64(fresh(&f) + value_at(&f, "general.name"), f.size);
    BROKEN(&f, f.buf, f.size, "'general.name'", "string length");
    bt_readers_put_u32(fresh(&f) + value_at(&f, "general.name") - 4, 13);
    BROKEN(&f, f.buf, f.size, "'general.name'", "unknown value type 13");
    size_t tokens = value_at(&f, "tokenizer.ggml.tokens");
    bt_readers_put_u32(fresh(&f) + tokens, 99);
    BROKEN(&f, f.buf, f.size, "'tokenizer.ggml.tokens'", "unknown array element type 99");
    bt_readers_put_u64(fresh(&f) + tokens + 4, 1ull << 60);
    BROKEN(&f, f.buf, f.size, "'tokenizer.ggml.tokens'", "cannot fit");
    bt_readers_put_u64(fresh(&f) + value_at(&f, "tokenizer.ggml.scores") + 4, (f.size / 4) + 1);
    BROKEN(&f, f.buf, f.size, "'tokenizer.ggml.scores'", "cannot fit");
    bt_readers_put_u64(fresh(&f) + tokens + 12, 1ull << 50);   /* the first token's length */
    BROKEN(&f, f.buf, f.size, "'tokenizer.ggml.tokens'", "array string length");
    fresh(&f)[key_at(&f, "tokenizer.ggml.eos_token_id") + 8 + 15] = 'b';   /* eos -> bos: a duplicate key */
    BROKEN(&f, f.buf, f.size, "duplicate", "tokenizer.ggml.bos_token_id");
    fixture_close(&f);
}

BT_TEST(readers_gguf_corrupt_tensor_infos) {
    fixture f;
    if (!fixture_open(&f, TQ2)) { fixture_close(&f); BT_CHECK(0, "test data missing (spec/data)"); }
    info_at q = tensor_at(&f, "blk.0.attn_q.weight"), norm = tensor_at(&f, "output_norm.weight");
    const bt_gguf_tensor_info *tq = bt_gguf_find_tensor(f.g, "blk.0.attn_q.weight");
    uint64_t data_size = f.size - f.g->data_offset;
    bt_readers_put_u32(fresh(&f) + q.type, 99);
    BROKEN(&f, f.buf, f.size, "tensor 'blk.0.attn_q.weight'", "unknown ggml type id 99");
    bt_readers_put_u32(fresh(&f) + q.n_dims, 0);
    BROKEN(&f, f.buf, f.size, "tensor 'blk.0.attn_q.weight'", "n_dims 0");
    bt_readers_put_u32(fresh(&f) + q.n_dims, 5);
    BROKEN(&f, f.buf, f.size, "tensor 'blk.0.attn_q.weight'", "n_dims 5");
    bt_readers_put_u64(fresh(&f) + q.ne, 255);
    BROKEN(&f, f.buf, f.size, "tensor 'blk.0.attn_q.weight'", "row length 255", "tq2_0");
    bt_readers_put_u64(fresh(&f) + norm.ne, 1ull << 62);   /* f32: 2^64 bytes */
    BROKEN(&f, f.buf, f.size, "tensor 'output_norm.weight'", "overflow");
    bt_readers_put_u64(fresh(&f) + norm.ne, 1ull << 63);
    BROKEN(&f, f.buf, f.size, "tensor 'output_norm.weight'", "negative");
    bt_readers_put_u64(fresh(&f) + q.ne + 8, 1ull << 40);   /* rows: 2^40 x 66 bytes per 256 */
    BROKEN(&f, f.buf, f.size, "tensor 'blk.0.attn_q.weight'", "runs past end of file");
    bt_readers_put_u64(fresh(&f) + q.offset, tq->offset + 1);
    BROKEN(&f, f.buf, f.size, "tensor 'blk.0.attn_q.weight'", "not a multiple of the alignment 32");
    bt_readers_put_u64(fresh(&f) + q.offset, (data_size + 64) / 32 * 32);
    BROKEN(&f, f.buf, f.size, "tensor 'blk.0.attn_q.weight'", "past the end of the data section");
    uint64_t late = (data_size - 32) / 32 * 32;   /* starts inside the file, ends outside */
    bt_readers_put_u64(fresh(&f) + q.offset, late);
    char expected[160];
    snprintf(expected, sizeof expected, "data [%llu, %llu) runs past end of file (size %zu)",
             (unsigned long long)(f.g->data_offset + late), (unsigned long long)(f.g->data_offset + late + tq->nbytes), f.size);
    BROKEN(&f, f.buf, f.size, "tensor 'blk.0.attn_q.weight'", expected);
    bt_readers_put_u64(fresh(&f) + q.name - 8, 0);
    BROKEN(&f, f.buf, f.size, "empty tensor name");
    info_at q1 = tensor_at(&f, "blk.1.attn_q.weight");
    fresh(&f)[q1.name + 4] = '0';   /* blk.1.attn_q -> blk.0.attn_q */
    BROKEN(&f, f.buf, f.size, "duplicate", "blk.0.attn_q.weight");
    /* overlapping data: q moved onto k (the smaller, so sorted first), then every tensor at offset 0 */
    bt_readers_put_u64(fresh(&f) + q.offset, bt_gguf_find_tensor(f.g, "blk.0.attn_k.weight")->offset);
    BROKEN(&f, f.buf, f.size, "tensor 'blk.0.attn_q.weight'", "overlaps tensor 'blk.0.attn_k.weight'");
    fresh(&f);
    for (uint64_t i = 0; i < f.g->n_tensors; i++) {
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)f.g->tensors[i].name.len, f.g->tensors[i].name.ptr);
        bt_readers_put_u64(f.buf + tensor_at(&f, name).offset, 0);
    }
    BROKEN(&f, f.buf, f.size, "overlaps tensor");
    fixture_close(&f);
}

BT_TEST(readers_gguf_truncated_anywhere) {
    fixture f;
    if (!fixture_open(&f, TQ2)) { fixture_close(&f); BT_CHECK(0, "test data missing (spec/data)"); }
    uint64_t needed = 0, seed = bt_test_seed();
    for (uint64_t i = 0; i < f.g->n_tensors; i++) {
        uint64_t end = f.g->data_offset + f.g->tensors[i].offset + f.g->tensors[i].nbytes;
        if (end > needed) needed = end;
    }
    for (int k = 0; k < 400; k++) {
        /* every length up to 64, then random ones in the metadata, then a few in the data */
        uint64_t n = k <= 64 ? (uint64_t)k : k < 380 ? bt_readers_rand(&seed) % f.g->data_offset
                                                     : f.g->data_offset + bt_readers_rand(&seed) % (needed - f.g->data_offset);
        BROKEN(&f, fresh(&f), (size_t)n, f.path);
    }
    BROKEN(&f, fresh(&f), (size_t)needed - 1, "runs past end of file");
    BT_CHECK(open_bytes(&f, fresh(&f), (size_t)needed) == BT_OK, "%s", bt_last_error());
    fixture_close(&f);
}

/* A small file with every value type, a nested array and a few tensors, made by the writer. */
static int small_file(bt_readers_bytes *out, const char *dir) {
    bt_readers_bytes nested = {0};
    char nested_path[1100], path[1100];
    snprintf(nested_path, sizeof nested_path, "%s/nested.gguf", dir);
    snprintf(path, sizeof path, "%s/small.gguf", dir);
    bt_readers_nested_gguf(&nested);
    bt_gguf *ng = NULL;
    bt_gguf_writer *w = NULL;
    int ok = bt_readers_write_file(nested_path, nested.data, nested.len) && bt_gguf_open(&ng, nested_path) == BT_OK &&
             bt_gguf_writer_new(&w) == BT_OK;
    static const char *const strs[] = {"alpha", "", "gamma"};
    static const int16_t shorts[] = {-3, 7, 300};
    static const float f32s[] = {0.5f, -2.0f};
    static const uint8_t bools[] = {1, 0, 1};
    static float weights[3 * 5];
    static uint8_t tq2[2 * 66];
    ok = ok && bt_gguf_writer_add_str(w, "general.architecture", "test") == BT_OK &&
         bt_gguf_writer_add_u32(w, "test.u32", 7) == BT_OK && bt_gguf_writer_add_i32(w, "test.i32", -7) == BT_OK &&
         bt_gguf_writer_add_u64(w, "test.u64", 1ull << 40) == BT_OK && bt_gguf_writer_add_f32(w, "test.f32", 0.25f) == BT_OK &&
         bt_gguf_writer_add_bool(w, "test.bool", 1) == BT_OK &&
         bt_gguf_writer_add_array(w, "test.i16s", BT_GGUF_INT16, shorts, 3) == BT_OK &&
         bt_gguf_writer_add_array(w, "test.f32s", BT_GGUF_FLOAT32, f32s, 2) == BT_OK &&
         bt_gguf_writer_add_array(w, "test.bools", BT_GGUF_BOOL, bools, 3) == BT_OK &&
         bt_gguf_writer_add_str_array(w, "test.strs", strs, NULL, 3) == BT_OK &&
         bt_gguf_writer_add_value(w, "test.nested", &bt_gguf_find(ng, "nested")->value) == BT_OK &&
         bt_gguf_writer_add_tensor(w, "a.weight", BT_F32, 2, (const int64_t[]){3, 5}, weights, sizeof weights) == BT_OK &&
         bt_gguf_writer_add_tensor(w, "b.weight", BT_TQ2_0, 2, (const int64_t[]){2, 256}, tq2, sizeof tq2) == BT_OK &&
         bt_gguf_writer_write_file(w, path) == BT_OK;
    size_t size = 0;
    uint8_t *bytes = ok ? bt_readers_read_file(path, &size) : NULL;
    out->data = bytes;
    out->len = out->cap = size;
    bt_gguf_writer_free(w);
    bt_gguf_close(ng);
    free(nested.data);
    return bytes != NULL;
}

BT_TEST(readers_gguf_small_file_every_truncation_and_flips) {
    char dir[1024], path[1100];
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "scratch dir");
    snprintf(path, sizeof path, "%s/case.gguf", dir);
    bt_readers_bytes file = {0};
    BT_CHECK(small_file(&file, dir), "making the small file: %s", bt_last_error());
    bt_gguf *g;
    BT_CHECK(bt_readers_write_file(path, file.data, file.len) && bt_gguf_open(&g, path) == BT_OK, "%s", bt_last_error());
    BT_CHECK(g->n_kv == 11 && g->n_tensors == 2 && bt_readers_nested_ok(&bt_gguf_find(g, "test.nested")->value),
             "small file contents");
    uint64_t needed = g->data_offset + g->tensors[1].offset + g->tensors[1].nbytes;
    bt_gguf_close(g);
    for (size_t n = 0; n < needed; n++) {
        bt_status st = bt_readers_write_file(path, file.data, n) ? bt_gguf_open(&g, path) : BT_ERR_IO;
        BT_CHECK(bt_readers_format_error(st, path, NULL), "truncated to %zu: %s", n, bt_last_error());
    }
    /* Random byte flips: the result may still be a valid file, but must never crash. */
    uint64_t seed = bt_test_seed();
    uint8_t *copy = malloc(file.len);
    for (int k = 0; k < 2000; k++) {
        memcpy(copy, file.data, file.len);
        for (int flips = 1 + (int)(bt_readers_rand(&seed) % 4); flips; flips--)
            copy[bt_readers_rand(&seed) % needed] ^= (uint8_t)(1 + bt_readers_rand(&seed) % 255);
        bt_status st = bt_readers_write_file(path, copy, file.len) ? bt_gguf_open(&g, path) : BT_ERR_IO;
        if (st == BT_OK) {
            for (uint64_t i = 0; i < g->n_kv; i++) {   /* touch every element of every array */
                const bt_gguf_value *v = &g->kv[i].value;
                for (uint64_t j = 0; v->type == BT_GGUF_ARRAY && j < v->v.arr.count; j++) {
                    bt_gguf_value e;
                    if (bt_gguf_array_value(v, j, &e) != BT_OK) st = BT_ERR_ARG;
                }
            }
            bt_gguf_close(g);
        }
        BT_CHECK(st == BT_OK || bt_readers_format_error(st, path, NULL), "flip case %d: %s", k, bt_last_error());
    }
    free(copy);
    free(file.data);
    bt_readers_scratch_remove(dir);
}

/* A file whose one value is an array nested `depth` deep around [7] (uint8). */
static void deep_array_file(bt_readers_bytes *b, int depth) {
    bt_readers_bytes_put(b, "GGUF", 4);
    bt_readers_bytes_u32(b, 3);
    bt_readers_bytes_u64(b, 0);
    bt_readers_bytes_u64(b, 1);
    bt_readers_bytes_str(b, "deep");
    bt_readers_bytes_u32(b, BT_GGUF_ARRAY);
    for (int i = 1; i < depth; i++) {
        bt_readers_bytes_u32(b, BT_GGUF_ARRAY);
        bt_readers_bytes_u64(b, 1);
    }
    bt_readers_bytes_u32(b, BT_GGUF_UINT8);
    bt_readers_bytes_u64(b, 1);
    bt_readers_bytes_put(b, "\7", 1);
}

BT_TEST(readers_gguf_nested_arrays_and_depth_limit) {
    char dir[1024], path[1100];
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "scratch dir");
    snprintf(path, sizeof path, "%s/deep.gguf", dir);
    bt_readers_bytes b = {0};
    bt_gguf *g;
    bt_readers_nested_gguf(&b);
    BT_CHECK(bt_readers_write_file(path, b.data, b.len) && bt_gguf_open(&g, path) == BT_OK, "%s", bt_last_error());
    BT_CHECK(bt_readers_nested_ok(&bt_gguf_find(g, "nested")->value), "nested values");
    bt_gguf_close(g);
    b.len = 0;
    deep_array_file(&b, BT_GGUF_MAX_ARRAY_DEPTH);
    BT_CHECK(bt_readers_write_file(path, b.data, b.len) && bt_gguf_open(&g, path) == BT_OK, "%s", bt_last_error());
    bt_gguf_value v = bt_gguf_find(g, "deep")->value;
    for (int i = 1; i < BT_GGUF_MAX_ARRAY_DEPTH; i++) BT_CHECK(bt_gguf_array_value(&v, 0, &v) == BT_OK, "level %d", i);
    BT_CHECK(v.v.arr.elem_type == BT_GGUF_UINT8 && v.v.arr.data[0] == 7, "innermost value");
    bt_gguf_close(g);
    b.len = 0;
    deep_array_file(&b, 100000);
    BT_CHECK(bt_readers_write_file(path, b.data, b.len), "write");
    BT_CHECK(bt_readers_format_error(bt_gguf_open(&g, path), path, "'deep'", "nested more than", NULL), "%s",
             bt_last_error());
    free(b.data);
    bt_readers_scratch_remove(dir);
}

BT_TEST(readers_gguf_alignment_key) {
    char dir[1024], path[1100];
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "scratch dir");
    snprintf(path, sizeof path, "%s/aligned.gguf", dir);
    static float a[3], b[5];
    bt_gguf_writer *w;
    BT_CHECK(bt_gguf_writer_new(&w) == BT_OK, "writer");
    bt_status st = bt_gguf_writer_add_u32(w, "general.alignment", 64);
    if (st == BT_OK) st = bt_gguf_writer_add_tensor(w, "a", BT_F32, 1, (const int64_t[]){3}, a, sizeof a);
    if (st == BT_OK) st = bt_gguf_writer_add_tensor(w, "b", BT_F32, 1, (const int64_t[]){5}, b, sizeof b);
    if (st == BT_OK) st = bt_gguf_writer_write_file(w, path);
    bt_gguf_writer_free(w);
    BT_CHECK(st == BT_OK, "%s", bt_last_error());
    bt_gguf *g;
    size_t size;
    uint8_t *bytes = bt_readers_read_file(path, &size);
    BT_CHECK(bytes && bt_gguf_open(&g, path) == BT_OK, "%s", bt_last_error());
    BT_CHECK(g->alignment == 64 && g->data_offset % 64 == 0 && bt_gguf_find_tensor(g, "b")->offset == 64, "aligned to 64");
    size_t value = (size_t)((const uint8_t *)g->kv[0].key.ptr - g->map.data + g->kv[0].key.len) + 4;
    bt_gguf_close(g);
    static const uint32_t bad[] = {0, 3, 48};
    for (int i = 0; i < 3; i++) {
        bt_readers_put_u32(bytes + value, bad[i]);
        BT_CHECK(bt_readers_write_file(path, bytes, size), "write");
        BT_CHECK(bt_readers_format_error(bt_gguf_open(&g, path), path, "general.alignment", "power of two", NULL), "%s",
                 bt_last_error());
    }
    bt_readers_put_u32(bytes + value, 32);   /* valid, but b's offset 64 is still a multiple: it opens */
    BT_CHECK(bt_readers_write_file(path, bytes, size) && bt_gguf_open(&g, path) == BT_OK, "%s", bt_last_error());
    bt_gguf_close(g);
    bt_readers_put_u32(bytes + value - 4, BT_GGUF_STRING);
    BT_CHECK(bt_readers_write_file(path, bytes, size), "write");
    BT_CHECK(bt_readers_format_error(bt_gguf_open(&g, path), path, NULL), "%s", bt_last_error());
    free(bytes);
    bt_readers_scratch_remove(dir);
}
