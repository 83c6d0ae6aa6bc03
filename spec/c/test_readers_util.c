/* test_readers_util.c - helpers for the model-file reader tests (see test_readers_util.h). */
#include "test_readers_util.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "test_platform.h"

int bt_readers_data_path(char *out, size_t cap, const char *rel) {
    const char *dir = getenv("BITTTT_DATA");
    snprintf(out, cap, "%s/%s", dir && *dir ? dir : BT_TEST_DATA_DIR, rel);
    FILE *f = fopen(out, "rb");
    if (f) fclose(f);
    return f != NULL;
}

int bt_readers_scratch_new(char *out, size_t cap) { return bt_test_temp_dir(out, cap, "bitttt-readers"); }

void bt_readers_scratch_remove(const char *dir) { bt_test_remove_dir(dir); }

uint8_t *bt_readers_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) *size = (size_t)n;
    return buf;
}

int bt_readers_write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

int bt_readers_gunzip(const char *gz_path, const char *out_path) {
    gzFile in = gzopen(gz_path, "rb");
    if (!in) return 0;
    FILE *out = fopen(out_path, "wb");
    int ok = out != NULL;
    char buf[1 << 16];
    int n;
    while (ok && (n = gzread(in, buf, sizeof buf)) > 0) ok = fwrite(buf, 1, (size_t)n, out) == (size_t)n;
    ok = ok && n == 0;   /* 0: the end of the stream; -1: a read or format error */
    gzclose(in);
    if (out && fclose(out) != 0) ok = 0;
    return ok;
}

uint64_t bt_readers_rand(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int bt_readers_format_error(bt_status st, ...) {
    if (st != BT_ERR_FORMAT) return 0;
    va_list ap;
    va_start(ap, st);
    int ok = 1;
    for (const char *word = va_arg(ap, const char *); word; word = va_arg(ap, const char *))
        if (!strstr(bt_last_error(), word)) ok = 0;
    va_end(ap);
    return ok;
}

void bt_readers_put_u32(uint8_t *at, uint32_t v) {
    for (int i = 0; i < 4; i++) at[i] = (uint8_t)(v >> (8 * i));
}

void bt_readers_put_u64(uint8_t *at, uint64_t v) {
    for (int i = 0; i < 8; i++) at[i] = (uint8_t)(v >> (8 * i));
}

void bt_readers_bytes_put(bt_readers_bytes *b, const void *src, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *data = realloc(b->data, cap);
        if (!data) abort();
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, src, n);
    b->len += n;
}

void bt_readers_bytes_u32(bt_readers_bytes *b, uint32_t v) {
    uint8_t le[4];
    bt_readers_put_u32(le, v);
    bt_readers_bytes_put(b, le, 4);
}

void bt_readers_bytes_u64(bt_readers_bytes *b, uint64_t v) {
    uint8_t le[8];
    bt_readers_put_u64(le, v);
    bt_readers_bytes_put(b, le, 8);
}

void bt_readers_bytes_str(bt_readers_bytes *b, const char *s) {
    bt_readers_bytes_u64(b, strlen(s));
    bt_readers_bytes_put(b, s, strlen(s));
}

void bt_readers_nested_gguf(bt_readers_bytes *b) {
    bt_readers_bytes_put(b, "GGUF", 4);
    bt_readers_bytes_u32(b, 3);
    bt_readers_bytes_u64(b, 0);   /* tensors */
    bt_readers_bytes_u64(b, 1);   /* metadata */
    bt_readers_bytes_str(b, "nested");
    bt_readers_bytes_u32(b, BT_GGUF_ARRAY);
    bt_readers_bytes_u32(b, BT_GGUF_ARRAY);
    bt_readers_bytes_u64(b, 3);
    bt_readers_bytes_u32(b, BT_GGUF_INT32);   /* [1, 2, 3] */
    bt_readers_bytes_u64(b, 3);
    for (uint32_t i = 1; i <= 3; i++) bt_readers_bytes_u32(b, i);
    bt_readers_bytes_u32(b, BT_GGUF_STRING);   /* [] */
    bt_readers_bytes_u64(b, 0);
    bt_readers_bytes_u32(b, BT_GGUF_ARRAY);   /* [["a", "bc"], ["d"]] */
    bt_readers_bytes_u64(b, 2);
    bt_readers_bytes_u32(b, BT_GGUF_STRING);
    bt_readers_bytes_u64(b, 2);
    bt_readers_bytes_str(b, "a");
    bt_readers_bytes_str(b, "bc");
    bt_readers_bytes_u32(b, BT_GGUF_STRING);
    bt_readers_bytes_u64(b, 1);
    bt_readers_bytes_str(b, "d");
}

static int is_string_array(const bt_gguf_value *v, const char *const *want, uint64_t n) {
    if (v->type != BT_GGUF_ARRAY || v->v.arr.elem_type != BT_GGUF_STRING || v->v.arr.count != n) return 0;
    for (uint64_t i = 0; i < n; i++) {
        bt_gguf_str s;
        if (bt_gguf_array_str(v, i, &s) != BT_OK || !bt_gguf_str_eq(s, want[i])) return 0;
    }
    return 1;
}

int bt_readers_nested_ok(const bt_gguf_value *v) {
    bt_gguf_value a, b, c, x;
    static const char *const ab[] = {"a", "bc"}, *const d[] = {"d"};
    if (v->type != BT_GGUF_ARRAY || v->v.arr.elem_type != BT_GGUF_ARRAY || v->v.arr.count != 3) return 0;
    if (bt_gguf_array_value(v, 0, &a) || bt_gguf_array_value(v, 1, &b) || bt_gguf_array_value(v, 2, &c)) return 0;
    if (a.type != BT_GGUF_ARRAY || a.v.arr.elem_type != BT_GGUF_INT32 || a.v.arr.count != 3) return 0;
    for (uint64_t i = 0; i < 3; i++)
        if (bt_gguf_array_value(&a, i, &x) || x.type != BT_GGUF_INT32 || x.v.i != (int64_t)i + 1) return 0;
    if (!is_string_array(&b, NULL, 0)) return 0;
    if (c.type != BT_GGUF_ARRAY || c.v.arr.elem_type != BT_GGUF_ARRAY || c.v.arr.count != 2) return 0;
    if (bt_gguf_array_value(&c, 0, &x) || !is_string_array(&x, ab, 2)) return 0;
    if (bt_gguf_array_value(&c, 1, &x) || !is_string_array(&x, d, 1)) return 0;
    return bt_gguf_array_value(&c, 2, &x) == BT_ERR_ARG;
}
