/* test_ternary_files.c - the ternary formats against files written by
 * llama.cpp (TQ2_0, TQ1_0) and bitnet.cpp (I2_S): the reference model
 * reference/bitnet/bitnet-s4321-*.gguf. All 21 ternary tensors of each file
 * dequantize to the F32 source exactly, with one folded scale; packing the F32
 * source reproduces the file's bytes; and the matmul gives the same floats
 * from all three files. Skips when the data is absent. */
#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/cpu/ternary.h"
#include "runtime/gguf.h"
#include "test_readers_util.h"

enum { N_FORMATS = 3, N_TENSORS = 21 };
static const char *const files[N_FORMATS] = {"bitnet-s4321-tq2_0.gguf", "bitnet-s4321-tq1_0.gguf", "bitnet-s4321-i2_s.gguf"};
static const char *const kinds[7] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};

typedef struct reference_files {
    char scratch[1024];
    bt_gguf *f32;                  /* the decompressed F32 source */
    bt_gguf *packed[N_FORMATS];    /* TQ2_0, TQ1_0, I2_S */
} reference_files;

static void close_files(reference_files *r) {
    bt_gguf_close(r->f32);
    for (int i = 0; i < N_FORMATS; i++) bt_gguf_close(r->packed[i]);
    if (r->scratch[0]) bt_readers_scratch_remove(r->scratch);
}

/* 1 when every file opened; 0 when the data is absent; -1 on an error */
static int open_files(reference_files *r) {
    char path[1024], f32_path[1100];
    memset(r, 0, sizeof *r);
    if (!bt_readers_data_path(path, sizeof path, "reference/bitnet/bitnet-s4321-f32.gguf.gz")) return 0;
    if (!bt_readers_scratch_new(r->scratch, sizeof r->scratch)) return -1;
    snprintf(f32_path, sizeof f32_path, "%s/f32.gguf", r->scratch);
    if (!bt_readers_gunzip(path, f32_path) || bt_gguf_open(&r->f32, f32_path) != BT_OK) return -1;
    for (int i = 0; i < N_FORMATS; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "reference/bitnet/%s", files[i]);
        if (!bt_readers_data_path(path, sizeof path, rel)) return 0;
        if (bt_gguf_open(&r->packed[i], path) != BT_OK) return -1;
    }
    return 1;
}

static void tensor_name(char *out, size_t cap, int t) { snprintf(out, cap, "blk.%d.%s.weight", t / 7, kinds[t % 7]); }

/* prepares tensor `name` of g as a ternary matrix */
static bt_status prepare_tensor(bt_ternary_matrix *m, const bt_gguf *g, const char *name) {
    const bt_gguf_tensor_info *t = bt_gguf_find_tensor(g, name);
    bt_ternary_format f;
    if (!t || t->n_dims != 2 || !bt_ternary_format_from_dtype(t->dtype, &f))
        return bt_set_error(BT_ERR_FORMAT, "%s: no 2-D ternary tensor %s", g->path, name);
    return bt_ternary_prepare(m, f, t->data, t->nbytes, (int64_t)t->ne[1], (int64_t)t->ne[0]);
}

BT_TEST(ternary_files_dequantize_to_the_f32_source) {
    reference_files r;
    const int opened = open_files(&r);
    if (opened == 0) { close_files(&r); BT_CHECK(0, "test data missing (spec/data)"); }
    BT_CHECK(opened == 1, "opening the reference files: %s", bt_last_error());
    for (int t = 0; t < N_TENSORS; t++) {
        char name[64];
        tensor_name(name, sizeof name, t);
        const bt_gguf_tensor_info *src = bt_gguf_find_tensor(r.f32, name);
        BT_CHECK(src && src->dtype == BT_F32, "F32 source has no %s", name);
        const int64_t n = (int64_t)src->ne[1], k = (int64_t)src->ne[0];
        float *row = malloc(sizeof(float) * (size_t)k);
        for (int i = 0; i < N_FORMATS; i++) {
            bt_ternary_matrix m;
            BT_CHECK(prepare_tensor(&m, r.packed[i], name) == BT_OK, "%s", bt_last_error());
            BT_CHECK(m.n == n && m.k == k && !m.per_block_scales, "%s %s: [%lld, %lld] folded %d", files[i], name,
                     (long long)m.n, (long long)m.k, !m.per_block_scales);
            for (int64_t rr = 0; rr < n; rr++) {
                bt_ternary_dequantize_row(row, &m, rr);
                BT_CHECK(memcmp(row, (const float *)src->data + rr * k, sizeof(float) * (size_t)k) == 0,
                         "%s %s row %lld differs from the F32 source", files[i], name, (long long)rr);
            }
        }
        free(row);
    }
    close_files(&r);
}

BT_TEST(ternary_files_packing_the_f32_source_gives_the_file_bytes) {
    reference_files r;
    const int opened = open_files(&r);
    if (opened == 0) { close_files(&r); BT_CHECK(0, "test data missing (spec/data)"); }
    BT_CHECK(opened == 1, "opening the reference files: %s", bt_last_error());
    for (int t = 0; t < N_TENSORS; t++) {
        char name[64];
        tensor_name(name, sizeof name, t);
        const bt_gguf_tensor_info *src = bt_gguf_find_tensor(r.f32, name);
        BT_CHECK(src != NULL, "F32 source has no %s", name);
        for (int i = 0; i < N_FORMATS; i++) {
            const bt_gguf_tensor_info *file = bt_gguf_find_tensor(r.packed[i], name);
            bt_ternary_format f;
            BT_CHECK(file && bt_ternary_format_from_dtype(file->dtype, &f), "%s: no ternary %s", files[i], name);
            const size_t bytes = bt_ternary_data_bytes(f, (int64_t)src->ne[1], (int64_t)src->ne[0]);
            BT_CHECK(bytes == file->nbytes, "%s %s: %zu bytes, the file has %llu", files[i], name, bytes,
                     (unsigned long long)file->nbytes);
            uint8_t *packed = malloc(bytes);
            BT_CHECK(bt_ternary_pack(packed, bytes, f, (const float *)src->data, (int64_t)src->ne[1], (int64_t)src->ne[0]) == BT_OK,
                     "%s", bt_last_error());
            /* I2_S: bitnet.cpp leaves its 28 padding bytes unspecified */
            const size_t compared = f == BT_TERNARY_I2_S ? bytes - BT_I2_S_FILE_PADDING : bytes;
            size_t first = 0;
            while (first < compared && packed[first] == file->data[first]) first++;
            free(packed);
            BT_CHECK(first == compared, "%s %s: packed byte %zu differs from the file", files[i], name, first);
        }
    }
    close_files(&r);
}

BT_TEST(ternary_files_matmul_agrees_across_formats) {
    reference_files r;
    const int opened = open_files(&r);
    if (opened == 0) { close_files(&r); BT_CHECK(0, "test data missing (spec/data)"); }
    BT_CHECK(opened == 1, "opening the reference files: %s", bt_last_error());
    const char *name = "blk.2.ffn_down.weight";   /* [256, 768] */
    bt_ternary_matrix m[N_FORMATS];
    for (int i = 0; i < N_FORMATS; i++) BT_CHECK(prepare_tensor(&m[i], r.packed[i], name) == BT_OK, "%s", bt_last_error());
    const int64_t tokens = 3, n = m[0].n, k = m[0].k;
    float *x = malloc(sizeof(float) * (size_t)(tokens * k)), *y0 = malloc(sizeof(float) * (size_t)(tokens * n));
    float *y = malloc(sizeof(float) * (size_t)(tokens * n));
    uint64_t s = bt_test_seed();
    for (int64_t j = 0; j < tokens * k; j++) x[j] = (float)(bt_readers_rand(&s) % 2001) / 1000.0f - 1.0f;
    const size_t bytes = bt_act_i8_bytes(tokens, k);
    void *buf = malloc(bytes);
    bt_act_i8 a;
    BT_CHECK(bt_act_i8_init(&a, buf, bytes, tokens, k) == BT_OK, "%s", bt_last_error());
    bt_act_quantize(&a, x);
    BT_CHECK(bt_ternary_matmul(y0, &m[0], &a) == BT_OK, "%s", bt_last_error());
    for (int i = 1; i < N_FORMATS; i++) {
        BT_CHECK(m[i].scale == m[0].scale, "%s scale %.9g, TQ2_0 %.9g", files[i], m[i].scale, m[0].scale);
        BT_CHECK(bt_ternary_matmul(y, &m[i], &a) == BT_OK, "%s", bt_last_error());
        BT_CHECK(memcmp(y, y0, sizeof(float) * (size_t)(tokens * n)) == 0, "%s: y differs from TQ2_0's", files[i]);
    }
    free(buf);
    free(y);
    free(y0);
    free(x);
    close_files(&r);
}
