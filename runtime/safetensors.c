/* safetensors.c - parses and validates a .safetensors file in place (see safetensors.h). */
#include "safetensors.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* safetensors dtypes: element bytes and the runtime dtype, if any. */
static const struct file_dtype {
    const char *name;
    uint32_t elem_bytes;
    int has_dtype;
    bt_dtype dtype;
} file_dtypes[] = {
    {"F32", 4, 1, BT_F32}, {"F16", 2, 1, BT_F16}, {"BF16", 2, 1, BT_BF16}, {"F64", 8, 1, BT_F64},
    {"I8", 1, 1, BT_I8}, {"U8", 1, 1, BT_U8}, {"I32", 4, 1, BT_I32},
    {"BOOL", 1, 0, BT_DTYPE_COUNT}, {"I16", 2, 0, BT_DTYPE_COUNT}, {"U16", 2, 0, BT_DTYPE_COUNT},
    {"U32", 4, 0, BT_DTYPE_COUNT}, {"I64", 8, 0, BT_DTYPE_COUNT}, {"U64", 8, 0, BT_DTYPE_COUNT},
    {"F8_E4M3", 1, 0, BT_DTYPE_COUNT}, {"F8_E5M2", 1, 0, BT_DTYPE_COUNT},
};
#define N_FILE_DTYPES (sizeof file_dtypes / sizeof file_dtypes[0])

static const struct file_dtype *find_file_dtype(const char *name) {
    for (size_t i = 0; i < N_FILE_DTYPES; i++)
        if (strcmp(file_dtypes[i].name, name) == 0) return &file_dtypes[i];
    return NULL;
}

static bt_status tensor_error(const bt_safetensors *st, const char *name, const char *what) {
    return bt_set_error(BT_ERR_FORMAT, "%s: tensor '%.80s': %s", st->path, name, what);
}

/* A JSON number that is a non-negative integer. */
static int as_count(const bt_json *v, uint64_t *out) {
    if (!v || v->type != BT_JSON_NUMBER || !v->is_integer || v->integer < 0) return 0;
    *out = (uint64_t)v->integer;
    return 1;
}

static bt_status read_shape(const bt_safetensors *st, const bt_json *entry, bt_safetensors_tensor *t, uint64_t *elements) {
    const bt_json *shape = bt_json_get(entry, "shape");
    if (!shape || shape->type != BT_JSON_ARRAY) return tensor_error(st, t->name, "\"shape\" must be an array");
    if (shape->count > BT_SAFETENSORS_MAX_DIMS) return tensor_error(st, t->name, "more than 8 dimensions");
    t->n_dims = (int)shape->count;
    *elements = 1;
    for (size_t d = 0; d < shape->count; d++) {
        uint64_t n;
        if (!as_count(&shape->items[d], &n))
            return tensor_error(st, t->name, "\"shape\" entries must be non-negative integers");
        if (__builtin_mul_overflow(*elements, n, elements) || *elements > (uint64_t)INT64_MAX)
            return tensor_error(st, t->name, "\"shape\" element count overflows int64");
        t->shape[d] = (int64_t)n;
    }
    return BT_OK;
}

static bt_status read_entry(const bt_safetensors *st, const bt_json *entry, bt_safetensors_tensor *t) {
    t->name = entry->key;
    if (entry->type != BT_JSON_OBJECT) return tensor_error(st, t->name, "entry must be an object");
    const bt_json *dtype = bt_json_get(entry, "dtype"), *offsets = bt_json_get(entry, "data_offsets");
    if (!dtype || dtype->type != BT_JSON_STRING) return tensor_error(st, t->name, "\"dtype\" must be a string");
    const struct file_dtype *fd = find_file_dtype(dtype->string);
    if (!fd)
        return bt_set_error(BT_ERR_FORMAT, "%s: tensor '%.80s': unknown dtype \"%.40s\"", st->path, t->name, dtype->string);
    t->file_dtype = fd->name;
    t->has_dtype = fd->has_dtype;
    t->dtype = fd->dtype;
    uint64_t elements = 0, begin = 0, end = 0, data_size = st->map.size - st->data_offset;
    bt_status s = read_shape(st, entry, t, &elements);
    if (s != BT_OK) return s;
    if (!offsets || offsets->type != BT_JSON_ARRAY || offsets->count != 2 || !as_count(&offsets->items[0], &begin) ||
        !as_count(&offsets->items[1], &end))
        return tensor_error(st, t->name, "\"data_offsets\" must be two non-negative integers [begin, end]");
    if (begin > end || end > data_size)
        return bt_set_error(BT_ERR_FORMAT, "%s: tensor '%.80s': data_offsets [%llu, %llu) are not inside the data "
                            "(%llu bytes after the header)", st->path, t->name, (unsigned long long)begin,
                            (unsigned long long)end, (unsigned long long)data_size);
    if (__builtin_mul_overflow(elements, (uint64_t)fd->elem_bytes, &t->nbytes))
        return tensor_error(st, t->name, "byte size of \"shape\" overflows 64 bits");
    if (t->nbytes != end - begin)
        return bt_set_error(BT_ERR_FORMAT, "%s: tensor '%.80s': data_offsets span %llu bytes, but %llu %s elements "
                            "need %llu", st->path, t->name, (unsigned long long)(end - begin),
                            (unsigned long long)elements, fd->name, (unsigned long long)t->nbytes);
    t->offset = st->data_offset + begin;
    t->data = st->map.data + t->offset;
    return BT_OK;
}

static bt_status read_metadata(bt_safetensors *st, const bt_json *meta) {
    if (meta->type != BT_JSON_OBJECT)
        return bt_set_error(BT_ERR_FORMAT, "%s: __metadata__ must be an object of strings", st->path);
    st->n_metadata = meta->count;
    if (meta->count && !(st->metadata = calloc(meta->count, sizeof *st->metadata)))
        return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", st->path);
    for (size_t i = 0; i < meta->count; i++) {
        if (meta->items[i].type != BT_JSON_STRING)
            return bt_set_error(BT_ERR_FORMAT, "%s: __metadata__ '%.80s' must be a string", st->path, meta->items[i].key);
        st->metadata[i] = (bt_safetensors_meta){meta->items[i].key, meta->items[i].string};
    }
    return BT_OK;
}

static int compare_names(const void *a, const void *b) {
    return strcmp((*(const bt_safetensors_tensor *const *)a)->name, (*(const bt_safetensors_tensor *const *)b)->name);
}

/* By offset, then size, then place in the file: a total order, so the result does
 * not depend on whether qsort keeps equal elements in order (glibc's happens to,
 * msvcrt's, musl's and macOS's do not). */
static int compare_offsets(const void *a, const void *b) {
    const bt_safetensors_tensor *x = *(const bt_safetensors_tensor *const *)a, *y = *(const bt_safetensors_tensor *const *)b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1;
    return x < y ? -1 : x > y;   /* both point into st->tensors, in file order */
}

/* Sorts by_name (for lookups, rejecting duplicate names) after checking no two tensors
 * overlap. A zero-byte tensor holds no bytes, so it overlaps nothing, wherever it sits. */
static bt_status index_tensors(bt_safetensors *st) {
    size_t n = st->n_tensors;
    if (n == 0) return BT_OK;
    const bt_safetensors_tensor **order = malloc(n * sizeof *order);
    if (!order) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", st->path);
    st->by_name = order;
    for (size_t i = 0; i < n; i++) order[i] = &st->tensors[i];
    qsort(order, n, sizeof *order, compare_offsets);
    const bt_safetensors_tensor *reach = NULL;   /* of the non-empty tensors so far, the one that ends last */
    for (size_t i = 0; i < n; i++) {
        const bt_safetensors_tensor *t = order[i];
        if (t->nbytes == 0) continue;
        if (reach && t->offset < reach->offset + reach->nbytes)
            return bt_set_error(BT_ERR_FORMAT, "%s: tensors '%.80s' and '%.80s' overlap", st->path, reach->name, t->name);
        if (!reach || t->offset + t->nbytes > reach->offset + reach->nbytes) reach = t;
    }
    qsort(order, n, sizeof *order, compare_names);
    for (size_t i = 1; i < n; i++)
        if (strcmp(order[i]->name, order[i - 1]->name) == 0)
            return bt_set_error(BT_ERR_FORMAT, "%s: duplicate tensor name '%.80s'", st->path, order[i]->name);
    return BT_OK;
}

static bt_status read_header(bt_safetensors *st) {
    const uint8_t *b = st->map.data;
    uint64_t header_len = 0;
    if (st->map.size < 8)
        return bt_set_error(BT_ERR_FORMAT, "%s: file too short for a safetensors header (%zu bytes)", st->path, st->map.size);
    for (int i = 7; i >= 0; i--) header_len = header_len << 8 | b[i];
    if (header_len > st->map.size - 8)
        return bt_set_error(BT_ERR_FORMAT, "%s: header length %llu runs past end of file (size %zu)", st->path,
                            (unsigned long long)header_len, st->map.size);
    st->data_offset = 8 + header_len;
    char source[512];
    snprintf(source, sizeof source, "%s: header", st->path);
    bt_status s = bt_json_parse(&st->header, (const char *)b + 8, (size_t)header_len, source);
    if (s != BT_OK) return s;
    const bt_json *root = bt_json_root(st->header);
    if (root->type != BT_JSON_OBJECT) return bt_set_error(BT_ERR_FORMAT, "%s: header is not a JSON object", st->path);
    if (root->count && !(st->tensors = calloc(root->count, sizeof *st->tensors)))
        return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", st->path);
    for (size_t i = 0; i < root->count; i++) {
        const bt_json *entry = &root->items[i];
        if (strcmp(entry->key, "__metadata__") == 0) s = read_metadata(st, entry);
        else s = read_entry(st, entry, &st->tensors[st->n_tensors++]);
        if (s != BT_OK) return s;
    }
    return index_tensors(st);
}

bt_status bt_safetensors_open(bt_safetensors **out, const char *path) {
    *out = NULL;
    bt_safetensors *st = calloc(1, sizeof *st);
    size_t path_len = strlen(path);
    if (st) st->path = malloc(path_len + 1);
    if (!st || !st->path) {
        bt_safetensors_close(st);
        return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(st->path, path, path_len + 1);
    bt_status s = bt_map_file(&st->map, path);
    if (s == BT_OK) s = read_header(st);
    if (s != BT_OK) {
        bt_safetensors_close(st);
        return s;
    }
    *out = st;
    return BT_OK;
}

void bt_safetensors_close(bt_safetensors *st) {
    if (!st) return;
    if (st->map.data) bt_unmap_file(&st->map);
    bt_json_free(st->header);
    free(st->tensors);
    free(st->metadata);
    free(st->by_name);
    free(st->path);
    free(st);
}

const bt_safetensors_tensor *bt_safetensors_find(const bt_safetensors *st, const char *name) {
    size_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->by_name[mid]->name, name);
        if (c == 0) return st->by_name[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const char *bt_safetensors_metadata(const bt_safetensors *st, const char *key) {
    for (size_t i = 0; i < st->n_metadata; i++)
        if (strcmp(st->metadata[i].key, key) == 0) return st->metadata[i].value;
    return NULL;
}

bt_status bt_safetensors_load_config(bt_json_doc **out, const char *model_path) {
    const char *slash = strrchr(model_path, '/');
    size_t dir_len = slash ? (size_t)(slash - model_path) + 1 : 0;
    char *config_path = malloc(dir_len + sizeof "config.json");
    if (!config_path) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", model_path);
    memcpy(config_path, model_path, dir_len);
    memcpy(config_path + dir_len, "config.json", sizeof "config.json");
    bt_status s = bt_json_parse_file(out, config_path);
    free(config_path);
    return s;
}
