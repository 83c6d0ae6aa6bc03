/* tensor.c - tensor creation, views, copies, element access and printing. */
#include "tensor.h"
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic size_t bytes_allocated;

size_t bt_tensor_bytes_allocated(void) { return atomic_load(&bytes_allocated); }

/* ---- storage ---------------------------------------------------------- */

static bt_storage *storage_retain(bt_storage *s) { s->refcount++; return s; }

static void storage_release(bt_storage *s) {
    if (!s || --s->refcount > 0) return;
    switch (s->kind) {
    case BT_STORAGE_HEAP:
    case BT_STORAGE_DEVICE:
        bt_device_free(s->device, s->data);
        atomic_fetch_sub(&bytes_allocated, s->nbytes);
        break;
    case BT_STORAGE_BORROWED:
        if (s->release) s->release(s->keeper);
        break;
    }
    free(s);
}

static bt_status storage_new(bt_storage **out, bt_device device, size_t nbytes) {
    *out = NULL;
    bt_storage *s = calloc(1, sizeof *s);
    if (!s) return bt_set_error(BT_ERR_NOMEM, "cannot allocate tensor storage header");
    bt_status st = bt_device_alloc(device, nbytes, &s->data);
    if (st) { free(s); return st; }
    if (device.type == BT_DEVICE_CPU) memset(s->data, 0, nbytes);
    s->refcount = 1;
    s->kind = device.type == BT_DEVICE_CPU ? BT_STORAGE_HEAP : BT_STORAGE_DEVICE;
    s->device = device;
    s->nbytes = nbytes;
    atomic_fetch_add(&bytes_allocated, nbytes);
    *out = s;
    return BT_OK;
}

/* ---- shapes ------------------------------------------------------------ */

const char *bt_shape_string(int ndim, const int64_t *shape, char *buf, size_t cap) {
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "[");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
    return buf;
}

/* Checks dims and sizes; fills contiguous strides and the total byte size. */
static bt_status layout_contiguous(bt_dtype dtype, int ndim, const int64_t *shape,
                                   int64_t *stride, size_t *nbytes) {
    const bt_dtype_info *info = bt_dtype_get_info(dtype);
    if (!info) return bt_set_error(BT_ERR_ARG, "unknown dtype id %d", (int)dtype);
    if (ndim < 0 || ndim > BT_MAX_DIMS)
        return bt_set_error(BT_ERR_ARG, "tensor rank %d out of range 0..%d", ndim, BT_MAX_DIMS);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0 || shape[i] > ((int64_t)1 << 40))
            return bt_set_error(BT_ERR_ARG, "dimension %d has invalid size %" PRId64, i, shape[i]);
    int64_t last = ndim ? shape[ndim - 1] : 1;
    if (info->block_size > 1 && (ndim == 0 || last % info->block_size))
        return bt_set_error(BT_ERR_ARG, "%s tensors need a last dimension that is a multiple of %u, got %" PRId64,
                            info->name, info->block_size, last);
    /* Row bytes, then outer dims; guard the product against overflow. */
    uint64_t bytes = info->block_size > 1 ? (uint64_t)(last / info->block_size) * info->block_bytes
                                          : (uint64_t)last * info->block_bytes;
    if (ndim) stride[ndim - 1] = info->block_size > 1 ? 0 : (int64_t)info->block_bytes;
    for (int i = ndim - 2; i >= 0; i--) {
        stride[i] = (int64_t)bytes;
        if (shape[i] && bytes > (UINT64_MAX >> 2) / (uint64_t)shape[i])
            return bt_set_error(BT_ERR_ARG, "tensor size overflows");
        bytes *= (uint64_t)shape[i];
    }
    *nbytes = (size_t)bytes;
    return BT_OK;
}

static bt_tensor *tensor_header(bt_dtype dtype, int ndim, const int64_t *shape, const int64_t *stride,
                                size_t offset, bt_storage *s) {
    bt_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) { t->shape[i] = shape[i]; t->stride[i] = stride[i]; }
    t->offset = offset;
    t->storage = storage_retain(s);
    return t;
}

/* ---- creation ---------------------------------------------------------- */

bt_status bt_tensor_new(bt_tensor **out, bt_dtype dtype, int ndim, const int64_t *shape, bt_device device) {
    *out = NULL;
    int64_t stride[BT_MAX_DIMS];
    size_t nbytes;
    bt_status st = layout_contiguous(dtype, ndim, shape, stride, &nbytes);
    if (st) return st;
    bt_storage *s;
    if ((st = storage_new(&s, device, nbytes))) return st;
    *out = tensor_header(dtype, ndim, shape, stride, 0, s);
    storage_release(s);
    return *out ? BT_OK : bt_set_error(BT_ERR_NOMEM, "cannot allocate tensor header");
}

bt_status bt_tensor_wrap(bt_tensor **out, bt_dtype dtype, int ndim, const int64_t *shape,
                         void *data, size_t nbytes, int read_only,
                         void (*release)(void *keeper), void *keeper) {
    *out = NULL;
    int64_t stride[BT_MAX_DIMS];
    size_t need;
    bt_status st = layout_contiguous(dtype, ndim, shape, stride, &need);
    if (st) return st;
    if (need > nbytes)
        return bt_set_error(BT_ERR_ARG, "wrapped memory holds %zu bytes, the tensor needs %zu", nbytes, need);
    bt_storage *s = calloc(1, sizeof *s);
    if (!s) return bt_set_error(BT_ERR_NOMEM, "cannot allocate storage header");
    *s = (bt_storage){.refcount = 1, .kind = BT_STORAGE_BORROWED, .read_only = read_only, .device = BT_CPU,
                      .data = data, .nbytes = nbytes, .release = release, .keeper = keeper};
    *out = tensor_header(dtype, ndim, shape, stride, 0, s);
    if (!*out) { s->release = NULL; storage_release(s); return bt_set_error(BT_ERR_NOMEM, "cannot allocate tensor header"); }
    storage_release(s);
    return BT_OK;
}

void bt_tensor_free(bt_tensor *t) {
    if (!t) return;
    if (t->prepared_free) t->prepared_free(t->prepared);
    storage_release(t->storage);
    free(t);
}

/* ---- queries ----------------------------------------------------------- */

int64_t bt_tensor_numel(const bt_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

size_t bt_tensor_nbytes(const bt_tensor *t) {
    const bt_dtype_info *info = bt_dtype_get_info(t->dtype);
    return (size_t)(bt_tensor_numel(t) / info->block_size) * info->block_bytes;
}

int bt_tensor_is_contiguous(const bt_tensor *t) {
    int64_t stride[BT_MAX_DIMS];
    size_t nbytes;
    if (layout_contiguous(t->dtype, t->ndim, t->shape, stride, &nbytes)) return 0;
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] > 1 && t->stride[i] != stride[i]) return 0;
    return 1;
}

void *bt_tensor_data(const bt_tensor *t) { return (char *)t->storage->data + t->offset; }
bt_device bt_tensor_device(const bt_tensor *t) { return t->storage->device; }

int bt_tensor_same_shape(const bt_tensor *a, const bt_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

static int is_block_dtype(bt_dtype d) { return bt_dtype_get_info(d)->block_size > 1; }

/* ---- views ------------------------------------------------------------- */

bt_status bt_tensor_view(bt_tensor **out, const bt_tensor *t) {
    *out = tensor_header(t->dtype, t->ndim, t->shape, t->stride, t->offset, t->storage);
    return *out ? BT_OK : bt_set_error(BT_ERR_NOMEM, "cannot allocate tensor header");
}

bt_status bt_tensor_reshape(bt_tensor **out, const bt_tensor *t, int ndim, const int64_t *shape_in) {
    *out = NULL;
    if (!bt_tensor_is_contiguous(t)) return bt_set_error(BT_ERR_ARG, "reshape needs a contiguous tensor");
    if (ndim < 0 || ndim > BT_MAX_DIMS) return bt_set_error(BT_ERR_ARG, "reshape: rank %d out of range", ndim);
    int64_t shape[BT_MAX_DIMS], known = 1;
    int free_dim = -1;
    for (int i = 0; i < ndim; i++) {
        shape[i] = shape_in[i];
        if (shape[i] == -1 && free_dim < 0) free_dim = i;
        else if (shape[i] < 0) return bt_set_error(BT_ERR_ARG, "reshape: invalid size %" PRId64 " at dim %d", shape[i], i);
        else if (shape[i] && known > INT64_MAX / shape[i])
            return bt_set_error(BT_ERR_ARG, "reshape: the sizes' product overflows at dim %d (size %" PRId64 ")", i, shape[i]);
        else known *= shape[i];
    }
    int64_t numel = bt_tensor_numel(t);
    if (free_dim >= 0) {
        if (known == 0 || numel % known) return bt_set_error(BT_ERR_ARG, "reshape: cannot infer dim %d for %" PRId64 " elements", free_dim, numel);
        shape[free_dim] = numel / known;
        known = numel;
    }
    char a[64], b[64];
    if (known != numel)
        return bt_set_error(BT_ERR_ARG, "reshape: %s has %" PRId64 " elements, %s has %" PRId64,
                            bt_shape_string(t->ndim, t->shape, a, sizeof a), numel,
                            bt_shape_string(ndim, shape, b, sizeof b), known);
    int64_t stride[BT_MAX_DIMS];
    size_t nbytes;
    bt_status st = layout_contiguous(t->dtype, ndim, shape, stride, &nbytes);
    if (st) return st;
    *out = tensor_header(t->dtype, ndim, shape, stride, t->offset, t->storage);
    return *out ? BT_OK : bt_set_error(BT_ERR_NOMEM, "cannot allocate tensor header");
}

static bt_status check_dim(const bt_tensor *t, int dim, const char *op) {
    if (dim < 0 || dim >= t->ndim)
        return bt_set_error(BT_ERR_ARG, "%s: dim %d out of range for a %d-d tensor", op, dim, t->ndim);
    if (is_block_dtype(t->dtype) && dim == t->ndim - 1)
        return bt_set_error(BT_ERR_ARG, "%s: the last dim of a %s tensor cannot be viewed", op,
                            bt_dtype_get_info(t->dtype)->name);
    return BT_OK;
}

bt_status bt_tensor_narrow(bt_tensor **out, const bt_tensor *t, int dim, int64_t start, int64_t len) {
    *out = NULL;
    bt_status st = check_dim(t, dim, "narrow");
    if (st) return st;
    if (start < 0 || len < 0 || start > t->shape[dim] || len > t->shape[dim] - start)
        return bt_set_error(BT_ERR_ARG, "narrow: %" PRId64 " values from index %" PRId64 " are out of bounds for dim %d of size %" PRId64,
                            len, start, dim, t->shape[dim]);
    bt_tensor *v = tensor_header(t->dtype, t->ndim, t->shape, t->stride, t->offset + (size_t)(start * t->stride[dim]), t->storage);
    if (!v) return bt_set_error(BT_ERR_NOMEM, "cannot allocate tensor header");
    v->shape[dim] = len;
    *out = v;
    return BT_OK;
}

bt_status bt_tensor_select(bt_tensor **out, const bt_tensor *t, int dim, int64_t index) {
    *out = NULL;
    bt_status st = check_dim(t, dim, "select");
    if (st) return st;
    if (index < 0 || index >= t->shape[dim])
        return bt_set_error(BT_ERR_ARG, "select: index %" PRId64 " out of range for dim %d of size %" PRId64, index, dim, t->shape[dim]);
    int64_t shape[BT_MAX_DIMS], stride[BT_MAX_DIMS];
    int n = 0;
    for (int i = 0; i < t->ndim; i++)
        if (i != dim) { shape[n] = t->shape[i]; stride[n] = t->stride[i]; n++; }
    *out = tensor_header(t->dtype, n, shape, stride, t->offset + (size_t)(index * t->stride[dim]), t->storage);
    return *out ? BT_OK : bt_set_error(BT_ERR_NOMEM, "cannot allocate tensor header");
}

bt_status bt_tensor_transpose(bt_tensor **out, const bt_tensor *t, int d0, int d1) {
    *out = NULL;
    bt_status st;
    if ((st = check_dim(t, d0, "transpose")) || (st = check_dim(t, d1, "transpose"))) return st;
    bt_tensor *v = tensor_header(t->dtype, t->ndim, t->shape, t->stride, t->offset, t->storage);
    if (!v) return bt_set_error(BT_ERR_NOMEM, "cannot allocate tensor header");
    v->shape[d0] = t->shape[d1]; v->shape[d1] = t->shape[d0];
    v->stride[d0] = t->stride[d1]; v->stride[d1] = t->stride[d0];
    *out = v;
    return BT_OK;
}

/* ---- element conversion ------------------------------------------------ */

static double load_elem(bt_dtype d, const void *p) {
    switch (d) {
    case BT_F32: return *(const float *)p;
    case BT_F16: return bt_f16_to_f32(*(const uint16_t *)p);
    case BT_BF16: return bt_bf16_to_f32(*(const uint16_t *)p);
    case BT_I8: return *(const int8_t *)p;
    case BT_I32: return *(const int32_t *)p;
    case BT_U8: return *(const uint8_t *)p;
    case BT_F64: return *(const double *)p;
    default: return NAN;
    }
}

static int32_t saturate_i32(double v, double lo, double hi) {
    if (isnan(v)) return 0;
    v = nearbyint(v);
    return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

static void store_elem(bt_dtype d, void *p, double v) {
    switch (d) {
    case BT_F32: *(float *)p = (float)v; break;
    case BT_F16: *(uint16_t *)p = bt_f32_to_f16((float)v); break;
    case BT_BF16: *(uint16_t *)p = bt_f32_to_bf16((float)v); break;
    case BT_I8: *(int8_t *)p = (int8_t)saturate_i32(v, -128, 127); break;
    case BT_I32: *(int32_t *)p = saturate_i32(v, -2147483648.0, 2147483647.0); break;
    case BT_U8: *(uint8_t *)p = (uint8_t)saturate_i32(v, 0, 255); break;
    case BT_F64: *(double *)p = v; break;
    default: break;
    }
}

/* ---- element access ---------------------------------------------------- */

static bt_status element_ptr(const bt_tensor *t, const int64_t *idx, char **out, const char *op) {
    if (is_block_dtype(t->dtype))
        return bt_set_error(BT_ERR_ARG, "%s: elements of a %s tensor are not addressable", op, bt_dtype_get_info(t->dtype)->name);
    if (t->storage->device.type != BT_DEVICE_CPU)
        return bt_set_error(BT_ERR_DEVICE, "%s: tensor lives on a device; copy it to the cpu first", op);
    size_t off = t->offset;
    for (int i = 0; i < t->ndim; i++) {
        if (idx[i] < 0 || idx[i] >= t->shape[i])
            return bt_set_error(BT_ERR_ARG, "%s: index %" PRId64 " out of range for dim %d of size %" PRId64, op, idx[i], i, t->shape[i]);
        off += (size_t)(idx[i] * t->stride[i]);
    }
    *out = (char *)t->storage->data + off;
    return BT_OK;
}

bt_status bt_tensor_get(const bt_tensor *t, const int64_t *idx, double *out) {
    char *p = NULL;
    bt_status st = element_ptr(t, idx, &p, "get");
    if (st) return st;
    *out = load_elem(t->dtype, p);
    return BT_OK;
}

bt_status bt_tensor_set(bt_tensor *t, const int64_t *idx, double value) {
    if (t->storage->read_only) return bt_set_error(BT_ERR_ARG, "set: tensor is read-only (mapped from a file)");
    char *p = NULL;
    bt_status st = element_ptr(t, idx, &p, "set");
    if (st) return st;
    store_elem(t->dtype, p, value);
    return BT_OK;
}

/* ---- copies ------------------------------------------------------------ */

/* Walks every element of two same-shaped CPU tensors (plain dtypes). */
static void copy_strided(const bt_tensor *dst, const bt_tensor *src, int dim, char *pd, const char *ps) {
    if (dim == dst->ndim || dim == BT_MAX_DIMS) { store_elem(dst->dtype, pd, load_elem(src->dtype, ps)); return; }
    for (int64_t i = 0; i < dst->shape[dim]; i++)
        copy_strided(dst, src, dim + 1, pd + i * dst->stride[dim], ps + i * src->stride[dim]);
}

bt_status bt_tensor_copy(bt_tensor *dst, const bt_tensor *src) {
    char a[64], b[64];
    if (!bt_tensor_same_shape(dst, src))
        return bt_set_error(BT_ERR_ARG, "copy: shape %s does not match %s",
                            bt_shape_string(dst->ndim, dst->shape, a, sizeof a), bt_shape_string(src->ndim, src->shape, b, sizeof b));
    if (dst->storage->read_only) return bt_set_error(BT_ERR_ARG, "copy: destination is read-only");
    int same_layout = dst->dtype == src->dtype && bt_tensor_is_contiguous(dst) && bt_tensor_is_contiguous(src);
    bt_device dd = bt_tensor_device(dst), sd = bt_tensor_device(src);
    if (same_layout) return bt_device_copy(dd, bt_tensor_data(dst), sd, bt_tensor_data(src), bt_tensor_nbytes(src));
    if (is_block_dtype(dst->dtype) || is_block_dtype(src->dtype))
        return bt_set_error(BT_ERR_UNSUPPORTED, "copy: %s -> %s needs a (de)quantization kernel, not a copy",
                            bt_dtype_get_info(src->dtype)->name, bt_dtype_get_info(dst->dtype)->name);
    if (dd.type == BT_DEVICE_CPU && sd.type == BT_DEVICE_CPU) {
        copy_strided(dst, src, 0, bt_tensor_data(dst), bt_tensor_data(src));
        return BT_OK;
    }
    /* Conversion or strides across devices: stage through a CPU tensor. */
    bt_tensor *stage;
    bt_status st;
    if (sd.type != BT_DEVICE_CPU) {
        if ((st = bt_tensor_to(&stage, src, src->dtype, BT_CPU))) return st;
        st = bt_tensor_copy(dst, stage);
    } else {
        if ((st = bt_tensor_new(&stage, dst->dtype, dst->ndim, dst->shape, BT_CPU))) return st;
        if (!(st = bt_tensor_copy(stage, src))) st = bt_tensor_copy(dst, stage);
    }
    bt_tensor_free(stage);
    return st;
}

bt_status bt_tensor_to(bt_tensor **out, const bt_tensor *src, bt_dtype dtype, bt_device device) {
    *out = NULL;
    bt_tensor *t;
    bt_status st = bt_tensor_new(&t, dtype, src->ndim, src->shape, device);
    if (st) return st;
    if ((st = bt_tensor_copy(t, src))) { bt_tensor_free(t); return st; }
    *out = t;
    return BT_OK;
}

static void fill_strided(bt_tensor *t, int dim, char *p, double v) {
    if (dim == t->ndim || dim == BT_MAX_DIMS) { store_elem(t->dtype, p, v); return; }
    for (int64_t i = 0; i < t->shape[dim]; i++) fill_strided(t, dim + 1, p + i * t->stride[dim], v);
}

bt_status bt_tensor_fill(bt_tensor *t, double value) {
    if (is_block_dtype(t->dtype)) return bt_set_error(BT_ERR_ARG, "fill: not defined for %s tensors", bt_dtype_get_info(t->dtype)->name);
    if (t->storage->read_only) return bt_set_error(BT_ERR_ARG, "fill: tensor is read-only");
    if (bt_tensor_device(t).type != BT_DEVICE_CPU) {
        bt_tensor *stage;
        bt_status st = bt_tensor_new(&stage, t->dtype, t->ndim, t->shape, BT_CPU);
        if (st) return st;
        fill_strided(stage, 0, bt_tensor_data(stage), value);
        st = bt_tensor_copy(t, stage);
        bt_tensor_free(stage);
        return st;
    }
    fill_strided(t, 0, bt_tensor_data(t), value);
    return BT_OK;
}

/* ---- printing ---------------------------------------------------------- */

typedef struct { char *buf; size_t len, cap; } strbuf;

static void sb_printf(strbuf *sb, const char *fmt, ...) BT_PRINTF_FORMAT(2, 3);
static void sb_printf(strbuf *sb, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (sb->len + (size_t)n < sb->cap) { sb->len += (size_t)n; return; }
        size_t cap = (sb->cap + (size_t)n + 1) * 2;
        char *nb = realloc(sb->buf, cap);
        if (!nb) return;
        sb->buf = nb;
        sb->cap = cap;
    }
}

static void format_values(strbuf *sb, const bt_tensor *t, int dim, const char *p, int edge, int indent) {
    if (dim >= BT_MAX_DIMS) return;
    int64_t n = t->shape[dim];
    int cut = edge > 0 && n > 2 * edge;
    sb_printf(sb, "[");
    for (int64_t i = 0; i < n; i++) {
        if (cut && i == edge) {
            sb_printf(sb, dim == t->ndim - 1 ? "..., " : "...,\n%*s", dim == t->ndim - 1 ? 0 : indent + 1, "");
            i = n - edge;
        }
        const char *q = p + i * t->stride[dim];
        if (dim == t->ndim - 1) {
            double v = load_elem(t->dtype, q);
            if (bt_dtype_get_info(t->dtype)->is_float) sb_printf(sb, "%.6g", v);
            else sb_printf(sb, "%.0f", v);
        } else {
            format_values(sb, t, dim + 1, q, edge, indent + 1);
        }
        if (i + 1 < n) sb_printf(sb, dim == t->ndim - 1 ? ", " : ",\n%*s", dim == t->ndim - 1 ? 0 : indent + 1, "");
    }
    sb_printf(sb, "]");
}

char *bt_tensor_format(const bt_tensor *t, int edge) {
    strbuf sb = {malloc(256), 0, 256};
    if (!sb.buf) return NULL;
    char shape[96], dev[32];
    sb_printf(&sb, "tensor %s %s %s", bt_dtype_get_info(t->dtype)->name,
              bt_shape_string(t->ndim, t->shape, shape, sizeof shape), bt_device_name(bt_tensor_device(t), dev, sizeof dev));
    if (is_block_dtype(t->dtype)) {
        sb_printf(&sb, " (%zu bytes packed)", bt_tensor_nbytes(t));
        return sb.buf;
    }
    bt_tensor *cpu = NULL;
    const bt_tensor *src = t;
    if (bt_tensor_device(t).type != BT_DEVICE_CPU) {
        if (bt_tensor_to(&cpu, t, t->dtype, BT_CPU)) { sb_printf(&sb, " (values unavailable: %s)", bt_last_error()); return sb.buf; }
        src = cpu;
    }
    sb_printf(&sb, "\n");
    if (src->ndim == 0) sb_printf(&sb, "%.6g", load_elem(src->dtype, bt_tensor_data(src)));
    else format_values(&sb, src, 0, bt_tensor_data(src), edge, 0);
    bt_tensor_free(cpu);
    return sb.buf;
}
