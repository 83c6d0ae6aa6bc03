/* tensor.h - n-dimensional tensors over refcounted storage.
 *
 * A bt_tensor is a view: dtype, up to 4 dims (numpy order: shape[0] outermost),
 * byte strides, a byte offset into a bt_storage. Storage is heap memory, a
 * read-only mapped file region (zero copy; the mapping stays alive while any
 * tensor uses it), or device memory. Views (reshape, narrow, select,
 * transpose) share storage; bt_tensor_free drops one reference.
 *
 * Block-quantized dtypes (tq2_0, q8_0 ...) must be contiguous along the last
 * dimension, whose length is a multiple of the block size; only their outer
 * dimensions can be viewed.
 */
#ifndef BT_TENSOR_H
#define BT_TENSOR_H
#include <stdint.h>
#include <stdio.h>
#include "device.h"
#include "base/dtype.h"
#include "base/error.h"

#define BT_MAX_DIMS 4

typedef enum bt_storage_kind {
    BT_STORAGE_HEAP,      /* owned CPU memory */
    BT_STORAGE_DEVICE,    /* owned device memory */
    BT_STORAGE_BORROWED   /* someone else's memory (a mapped file); `keeper` keeps it alive */
} bt_storage_kind;

typedef struct bt_storage {
    int refcount;
    bt_storage_kind kind;
    int read_only;
    bt_device device;
    void *data;
    size_t nbytes;
    /* BORROWED: called with `keeper` when the last reference goes. */
    void (*release)(void *keeper);
    void *keeper;
} bt_storage;

typedef struct bt_tensor {
    bt_dtype dtype;
    int ndim;                      /* 0..4; 0 is a scalar */
    int64_t shape[BT_MAX_DIMS];
    int64_t stride[BT_MAX_DIMS];   /* in bytes; for block dtypes the last dim is contiguous blocks */
    size_t offset;                 /* bytes from storage->data */
    bt_storage *storage;
    /* Per-tensor data a kernel derives once and reuses (e.g. a ternary matrix's
     * validated layout); owned by this handle, not shared with its views. */
    void *prepared;
    void (*prepared_free)(void *prepared);
} bt_tensor;

/* Creation. New tensors are contiguous and zero-filled. */
bt_status bt_tensor_new(bt_tensor **out, bt_dtype dtype, int ndim, const int64_t *shape, bt_device device);
/* Wrap memory that outlives nothing of ours unless `release(keeper)` is given:
 * the tensor calls it when the last view goes. */
bt_status bt_tensor_wrap(bt_tensor **out, bt_dtype dtype, int ndim, const int64_t *shape,
                         void *data, size_t nbytes, int read_only,
                         void (*release)(void *keeper), void *keeper);
void bt_tensor_free(bt_tensor *t);   /* NULL is fine */

/* Views (share storage). */
bt_status bt_tensor_view(bt_tensor **out, const bt_tensor *t);   /* same shape, new handle */
bt_status bt_tensor_reshape(bt_tensor **out, const bt_tensor *t, int ndim, const int64_t *shape);  /* needs contiguous; one dim may be -1 */
bt_status bt_tensor_narrow(bt_tensor **out, const bt_tensor *t, int dim, int64_t start, int64_t len);
bt_status bt_tensor_select(bt_tensor **out, const bt_tensor *t, int dim, int64_t index);   /* drops dim */
bt_status bt_tensor_transpose(bt_tensor **out, const bt_tensor *t, int dim0, int dim1);

/* Copies. Plain dtypes convert (f32/f16/bf16/f64/i8/i32/u8); block dtypes copy only to the same dtype.
 * Either side may live on any device; strided CPU copies are supported. */
bt_status bt_tensor_copy(bt_tensor *dst, const bt_tensor *src);   /* same shape */
bt_status bt_tensor_to(bt_tensor **out, const bt_tensor *src, bt_dtype dtype, bt_device device);  /* new contiguous copy */
bt_status bt_tensor_fill(bt_tensor *t, double value);             /* CPU, plain dtypes */

/* Element access (CPU, plain dtypes). idx has t->ndim entries, 0-based. */
bt_status bt_tensor_get(const bt_tensor *t, const int64_t *idx, double *out);
bt_status bt_tensor_set(bt_tensor *t, const int64_t *idx, double value);

/* Queries. */
int64_t bt_tensor_numel(const bt_tensor *t);
size_t bt_tensor_nbytes(const bt_tensor *t);        /* bytes the elements occupy when contiguous */
int bt_tensor_is_contiguous(const bt_tensor *t);
void *bt_tensor_data(const bt_tensor *t);           /* first element (any device) */
bt_device bt_tensor_device(const bt_tensor *t);
int bt_tensor_same_shape(const bt_tensor *a, const bt_tensor *b);
/* "[2, 3]" into buf. */
const char *bt_shape_string(int ndim, const int64_t *shape, char *buf, size_t cap);

/* Human-readable text: a header "tensor f32 [2, 3] cpu" and an excerpt of values
 * (at most `edge` items at each end of every dim; 0 = all). Returns a malloc'd string. */
char *bt_tensor_format(const bt_tensor *t, int edge);

/* Bytes of tensor storage currently allocated by this process (heap and device),
 * so bindings can nudge their garbage collector. */
size_t bt_tensor_bytes_allocated(void);

#endif
