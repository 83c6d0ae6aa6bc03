/* model_file.c - format detection and weights-as-tensors over GGUF and llama2.c files. */
#include "model_file.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bt_model_file {
    int refcount;              /* the opener's reference + one per live tensor */
    bt_model_format format;
    char *path;
    bt_gguf *gguf;
    bt_llama2c *l2c;
};

static void release(void *keeper) {
    bt_model_file *mf = keeper;
    if (--mf->refcount > 0) return;
    bt_gguf_close(mf->gguf);
    bt_llama2c_close(mf->l2c);
    free(mf->path);
    free(mf);
}

static bt_status sniff_gguf(const char *path, int *is_gguf) {
    *is_gguf = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return bt_set_error(BT_ERR_IO, "%s: cannot open", path);
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    *is_gguf = n == 4 && memcmp(magic, "GGUF", 4) == 0;
    return BT_OK;
}

bt_status bt_model_file_open(bt_model_file **out, const char *path) {
    *out = NULL;
    int is_gguf;
    bt_status st = sniff_gguf(path, &is_gguf);
    if (st) return st;
    bt_model_file *mf = calloc(1, sizeof *mf);
    if (!mf || !(mf->path = strdup(path))) { free(mf); return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", path); }
    mf->refcount = 1;
    if (is_gguf) {
        mf->format = BT_MODEL_GGUF;
        st = bt_gguf_open(&mf->gguf, path);
    } else {
        mf->format = BT_MODEL_LLAMA2C;
        st = bt_llama2c_open(&mf->l2c, path);
    }
    if (st) { release(mf); return st; }
    *out = mf;
    return BT_OK;
}

void bt_model_file_close(bt_model_file *mf) { if (mf) release(mf); }

bt_model_format bt_model_file_format(const bt_model_file *mf) { return mf->format; }
const char *bt_model_file_path(const bt_model_file *mf) { return mf->path; }
const bt_gguf *bt_model_file_gguf(const bt_model_file *mf) { return mf->gguf; }
const bt_llama2c *bt_model_file_llama2c(const bt_model_file *mf) { return mf->l2c; }

int64_t bt_model_file_tensor_count(const bt_model_file *mf) {
    return mf->gguf ? (int64_t)mf->gguf->n_tensors : mf->l2c->n_tensors;
}

const char *bt_model_file_tensor_name(const bt_model_file *mf, int64_t i, char *buf, size_t cap) {
    if (i < 0 || i >= bt_model_file_tensor_count(mf)) return NULL;
    if (mf->gguf) {
        const bt_gguf_str *s = &mf->gguf->tensors[i].name;
        snprintf(buf, cap, "%.*s", (int)s->len, s->ptr);
    } else {
        snprintf(buf, cap, "%s", mf->l2c->tensors[i].name);
    }
    return buf;
}

int bt_model_file_has_tensor(const bt_model_file *mf, const char *name) {
    return mf->gguf ? bt_gguf_find_tensor(mf->gguf, name) != NULL : bt_llama2c_find(mf->l2c, name) != NULL;
}

bt_status bt_model_file_tensor(bt_tensor **out, bt_model_file *mf, const char *name) {
    *out = NULL;
    int64_t shape[BT_MAX_DIMS];
    int ndim;
    bt_dtype dtype;
    const void *data;
    uint64_t nbytes;
    if (mf->gguf) {
        const bt_gguf_tensor_info *ti = bt_gguf_find_tensor(mf->gguf, name);
        if (!ti) return bt_set_error(BT_ERR_FORMAT, "%s: no tensor named '%s'", mf->path, name);
        ndim = (int)ti->n_dims;
        for (int i = 0; i < ndim; i++) shape[i] = (int64_t)ti->ne[ndim - 1 - i];   /* ggml order -> numpy */
        dtype = ti->dtype;
        data = ti->data;
        nbytes = ti->nbytes;
    } else {
        const bt_llama2c_tensor *lt = bt_llama2c_find(mf->l2c, name);
        if (!lt) return bt_set_error(BT_ERR_FORMAT, "%s: no tensor named '%s'", mf->path, name);
        ndim = lt->n_dims;
        for (int i = 0; i < ndim; i++) shape[i] = lt->shape[i];
        dtype = BT_F32;
        data = lt->data;
        nbytes = lt->nbytes;
    }
    bt_status st = bt_tensor_wrap(out, dtype, ndim, shape, (void *)data, (size_t)nbytes, 1, release, mf);
    if (st) return bt_set_error(st, "%s: tensor '%s': %s", mf->path, name, bt_last_error());
    mf->refcount++;
    return BT_OK;
}
