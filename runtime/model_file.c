/* model_file.c - format detection and weights-as-tensors over GGUF and llama2.c files. */
#include "model_file.h"
#include "platform/platform.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bt_model_file {
    int refcount;              /* the opener's reference + one per live tensor */
    bt_model_format format;
    char *path;
    bt_gguf *gguf;
    bt_llama2c *l2c;
    bt_safetensors *st;
    bt_json_doc *config;       /* safetensors: config.json beside the weights, if any */
};

static void release(void *keeper) {
    bt_model_file *mf = keeper;
    if (--mf->refcount > 0) return;
    bt_gguf_close(mf->gguf);
    bt_llama2c_close(mf->l2c);
    bt_safetensors_close(mf->st);
    bt_json_free(mf->config);
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

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The weights file and, when it exists, config.json in the same folder. */
static bt_status open_safetensors(bt_model_file *mf, const char *path, int is_dir) {
    char file[4096], config[4096];
    if (is_dir) snprintf(file, sizeof file, "%s/model.safetensors", path);
    else snprintf(file, sizeof file, "%s", path);
    bt_status st = bt_safetensors_open(&mf->st, file);
    if (st) return st;
    const char *slash = strrchr(file, '/');
    int dir_len = slash ? (int)(slash - file) : 1;
    snprintf(config, sizeof config, "%.*s/config.json", dir_len, slash ? file : ".");
    if (bt_path_kind(config)) return bt_json_parse_file(&mf->config, config);
    return BT_OK;
}

bt_status bt_model_file_open(bt_model_file **out, const char *path) {
    *out = NULL;
    const char *kind = bt_path_kind(path);
    if (!kind) return bt_set_error(BT_ERR_IO, "%s: no such file or folder", path);
    int is_dir = strcmp(kind, "directory") == 0;
    if (!is_dir && strcmp(kind, "file") != 0)   /* a FIFO would block the reads below */
        return bt_set_error(BT_ERR_IO, "%s: a %s, not a model file or folder", path, kind);
    int is_gguf = 0;
    bt_status st = is_dir ? BT_OK : sniff_gguf(path, &is_gguf);
    if (st) return st;
    bt_model_file *mf = calloc(1, sizeof *mf);
    if (!mf || !(mf->path = strdup(path))) { free(mf); return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", path); }
    mf->refcount = 1;
    if (is_dir || ends_with(path, ".safetensors")) {
        mf->format = BT_MODEL_SAFETENSORS;
        st = open_safetensors(mf, path, is_dir);
    } else if (is_gguf) {
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
const bt_safetensors *bt_model_file_safetensors(const bt_model_file *mf) { return mf->st; }
const bt_json *bt_model_file_config(const bt_model_file *mf) { return mf->config ? bt_json_root(mf->config) : NULL; }

int64_t bt_model_file_tensor_count(const bt_model_file *mf) {
    if (mf->gguf) return (int64_t)mf->gguf->n_tensors;
    if (mf->st) return (int64_t)mf->st->n_tensors;
    return mf->l2c->n_tensors;
}

const char *bt_model_file_tensor_name(const bt_model_file *mf, int64_t i, char *buf, size_t cap) {
    if (i < 0 || i >= bt_model_file_tensor_count(mf)) return NULL;
    if (mf->gguf) {
        const bt_gguf_str *s = &mf->gguf->tensors[i].name;
        snprintf(buf, cap, "%.*s", (int)s->len, s->ptr);
    } else if (mf->st) {
        snprintf(buf, cap, "%s", mf->st->tensors[i].name);
    } else {
        snprintf(buf, cap, "%s", mf->l2c->tensors[i].name);
    }
    return buf;
}

int bt_model_file_has_tensor(const bt_model_file *mf, const char *name) {
    if (mf->gguf) return bt_gguf_find_tensor(mf->gguf, name) != NULL;
    if (mf->st) return bt_safetensors_find(mf->st, name) != NULL;
    return bt_llama2c_find(mf->l2c, name) != NULL;
}

/* The alignment the kernels' loads of a dtype need: the element's size for plain
 * types (up to 8), 2 for block types (their f16 scales). */
static uintptr_t element_alignment(bt_dtype dtype) {
    const bt_dtype_info *info = bt_dtype_get_info(dtype);
    if (info->block_size > 1) return 2;
    return info->block_bytes >= 8 ? 8 : info->block_bytes;
}

/* A tensor whose bytes sit misaligned in the file (a safetensors header whose length
 * is not a multiple of 8, a GGUF with general.alignment 1) is copied to aligned
 * memory, read-only like the mapped ones, so that no kernel makes misaligned loads. */
static bt_status aligned_copy(bt_tensor **out, const bt_model_file *mf, const char *name, bt_dtype dtype, int ndim,
                              const int64_t *shape, const void *data, uint64_t nbytes) {
    void *copy = malloc(nbytes ? (size_t)nbytes : 1);   /* malloc's alignment suits every dtype */
    if (!copy) return bt_set_error(BT_ERR_NOMEM, "%s: tensor '%s': cannot copy %llu bytes", mf->path, name,
                                   (unsigned long long)nbytes);
    memcpy(copy, data, (size_t)nbytes);
    bt_status st = bt_tensor_wrap(out, dtype, ndim, shape, copy, (size_t)nbytes, 1, free, copy);
    if (st) {
        free(copy);
        return bt_set_error(st, "%s: tensor '%s': %s", mf->path, name, bt_last_error());
    }
    return BT_OK;
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
    } else if (mf->st) {
        const bt_safetensors_tensor *t = bt_safetensors_find(mf->st, name);
        if (!t) return bt_set_error(BT_ERR_FORMAT, "%s: no tensor named '%s'", mf->path, name);
        if (!t->has_dtype)
            return bt_set_error(BT_ERR_UNSUPPORTED, "%s: tensor '%s' has dtype %s, which the runtime does not handle",
                                mf->path, name, t->file_dtype);
        if (t->n_dims > BT_MAX_DIMS)
            return bt_set_error(BT_ERR_UNSUPPORTED, "%s: tensor '%s' has %d dims, at most %d are supported", mf->path,
                                name, t->n_dims, BT_MAX_DIMS);
        ndim = t->n_dims;
        for (int i = 0; i < ndim; i++) shape[i] = t->shape[i];
        dtype = t->dtype;
        data = t->data;
        nbytes = t->nbytes;
    } else {
        const bt_llama2c_tensor *lt = bt_llama2c_find(mf->l2c, name);
        if (!lt) return bt_set_error(BT_ERR_FORMAT, "%s: no tensor named '%s'", mf->path, name);
        ndim = lt->n_dims;
        for (int i = 0; i < ndim; i++) shape[i] = lt->shape[i];
        dtype = BT_F32;
        data = lt->data;
        nbytes = lt->nbytes;
    }
    if ((uintptr_t)data % element_alignment(dtype)) return aligned_copy(out, mf, name, dtype, ndim, shape, data, nbytes);
    bt_status st = bt_tensor_wrap(out, dtype, ndim, shape, (void *)data, (size_t)nbytes, 1, release, mf);
    if (st) return bt_set_error(st, "%s: tensor '%s': %s", mf->path, name, bt_last_error());
    mf->refcount++;
    return BT_OK;
}
