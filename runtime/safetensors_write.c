/* safetensors_write.c - the .safetensors writer (see safetensors_write.h). */
#include "safetensors_write.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing text buffer for the JSON header. */
typedef struct text {
    char *s;
    size_t len, cap;
    int failed;   /* out of memory */
} text;

static void text_add(text *t, const char *s, size_t n) {
    if (t->failed) return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1) cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p) { t->failed = 1; return; }
        t->s = p, t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_printf(text *t, const char *fmt, ...) BT_PRINTF_FORMAT(2, 3);
static void text_printf(text *t, const char *fmt, ...) {
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    text_add(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* A JSON string literal: quotes, backslashes and control characters escaped. */
static void text_add_json_string(text *t, const char *s) {
    text_add(t, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            text_add(t, esc, 2);
        } else if (c < 0x20) {
            text_printf(t, "\\u%04x", c);
        } else {
            text_add(t, (const char *)&c, 1);
        }
    }
    text_add(t, "\"", 1);
}

static const char *file_dtype_name(bt_dtype d) {
    switch (d) {
    case BT_F32: return "F32";
    case BT_F16: return "F16";
    case BT_BF16: return "BF16";
    case BT_F64: return "F64";
    case BT_I8: return "I8";
    case BT_U8: return "U8";
    case BT_I32: return "I32";
    default: return NULL;
    }
}

static bt_status check_entry(const char *path, const bt_safetensors_entry *e, const bt_safetensors_entry *all,
                             size_t index) {
    if (!e->name || !*e->name || strcmp(e->name, "__metadata__") == 0)
        return bt_set_error(BT_ERR_ARG, "%s: tensor %zu: a name other than '' and '__metadata__' is needed", path, index);
    for (size_t i = 0; i < index; i++)
        if (strcmp(all[i].name, e->name) == 0) return bt_set_error(BT_ERR_ARG, "%s: tensor '%s' appears twice", path, e->name);
    if (!file_dtype_name(e->dtype)) {
        const bt_dtype_info *info = bt_dtype_get_info(e->dtype);
        return bt_set_error(BT_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s cannot be stored in safetensors", path,
                            e->name, info ? info->name : "?");
    }
    if (e->n_dims < 0 || e->n_dims > BT_SAFETENSORS_MAX_DIMS)
        return bt_set_error(BT_ERR_ARG, "%s: tensor '%s' has %d dims, at most %d", path, e->name, e->n_dims,
                            BT_SAFETENSORS_MAX_DIMS);
    uint64_t count = 1;
    for (int i = 0; i < e->n_dims; i++) {
        if (e->shape[i] < 0) return bt_set_error(BT_ERR_ARG, "%s: tensor '%s' has a negative dim", path, e->name);
        count *= (uint64_t)e->shape[i];
    }
    const uint64_t want = count * bt_dtype_get_info(e->dtype)->block_bytes;
    if (want != e->nbytes)
        return bt_set_error(BT_ERR_ARG, "%s: tensor '%s': its shape needs %" PRIu64 " bytes, %zu given", path, e->name,
                            want, e->nbytes);
    return BT_OK;
}

/* The JSON header, padded with spaces to a multiple of 8 bytes. */
static bt_status build_header(text *h, const char *path, const bt_safetensors_entry *tensors, size_t n_tensors,
                              const bt_safetensors_meta *meta, size_t n_meta) {
    uint64_t offset = 0;
    text_add(h, "{", 1);
    for (size_t i = 0; i < n_tensors; i++) {
        const bt_safetensors_entry *e = &tensors[i];
        bt_status st = check_entry(path, e, tensors, i);
        if (st) return st;
        if (i) text_add(h, ",", 1);
        text_add_json_string(h, e->name);
        text_printf(h, ":{\"dtype\":\"%s\",\"shape\":[", file_dtype_name(e->dtype));
        for (int d = 0; d < e->n_dims; d++) text_printf(h, d ? ",%" PRId64 : "%" PRId64, e->shape[d]);
        text_printf(h, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", offset, offset + e->nbytes);
        offset += e->nbytes;
    }
    if (n_meta) {
        text_add(h, n_tensors ? ",\"__metadata__\":{" : "\"__metadata__\":{", n_tensors ? 17 : 16);
        for (size_t i = 0; i < n_meta; i++) {
            if (!meta[i].key || !meta[i].value)
                return bt_set_error(BT_ERR_ARG, "%s: metadata entry %zu lacks a key or value", path, i);
            if (i) text_add(h, ",", 1);
            text_add_json_string(h, meta[i].key);
            text_add(h, ":", 1);
            text_add_json_string(h, meta[i].value);
        }
        text_add(h, "}", 1);
    }
    text_add(h, "}", 1);
    while (!h->failed && h->len % 8) text_add(h, " ", 1);
    return h->failed ? bt_set_error(BT_ERR_NOMEM, "%s: out of memory building the header", path) : BT_OK;
}

static int write_all(FILE *f, const void *p, size_t n) { return n == 0 || fwrite(p, 1, n, f) == n; }

bt_status bt_safetensors_write_file(const char *path, const bt_safetensors_entry *tensors, size_t n_tensors,
                                    const bt_safetensors_meta *meta, size_t n_meta) {
    text h = {0};
    bt_status st = build_header(&h, path, tensors, n_tensors, meta, n_meta);
    if (st) { free(h.s); return st; }

    text tmp = {0};
    text_add(&tmp, path, strlen(path));
    text_add(&tmp, ".tmp", 4);
    if (tmp.failed) { free(h.s); return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", path); }
    FILE *f = fopen(tmp.s, "wb");
    if (!f) {
        st = bt_set_error(BT_ERR_IO, "%s: cannot create the file", tmp.s);
    } else {
        uint8_t len_le[8];
        for (int i = 0; i < 8; i++) len_le[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
        int ok = write_all(f, len_le, 8) && write_all(f, h.s, h.len);
        for (size_t i = 0; ok && i < n_tensors; i++) ok = write_all(f, tensors[i].data, tensors[i].nbytes);
        if (fclose(f) != 0) ok = 0;
        if (!ok || rename(tmp.s, path) != 0) {
            remove(tmp.s);
            st = bt_set_error(BT_ERR_IO, "%s: write failed", path);
        }
    }
    free(h.s);
    free(tmp.s);
    return st;
}
