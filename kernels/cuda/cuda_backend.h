/* cuda_backend.h - the C face of the CUDA code (kernels/cuda/*.cu, built only
 * where nvcc exists; BT_HAVE_CUDA is then defined for the runtime).
 * Every function returns 0 on success or -1 with a message in `err`
 * (the runtime turns it into bt_set_error); nothing here aborts. */
#ifndef BT_CUDA_BACKEND_H
#define BT_CUDA_BACKEND_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif

#define BT_CUDA_ERR_CAP 256

int bt_cuda_count(int *n, char *err);
int bt_cuda_mem_info(int dev, size_t *free_bytes, size_t *total_bytes, char *err);
int bt_cuda_device_describe(int dev, char *out, size_t cap, char *err);   /* name, SM, memory */
int bt_cuda_malloc(int dev, size_t nbytes, void **out, char *err);
int bt_cuda_free(int dev, void *p, char *err);
/* kind: 0 host->device, 1 device->host, 2 device->device */
int bt_cuda_memcpy(int dev, void *dst, const void *src, size_t nbytes, int kind, char *err);
int bt_cuda_synchronize(int dev, char *err);

/* First trivial kernel: y[i] = a * x[i] + y[i] on device pointers, n elements. */
int bt_cuda_axpy_f32(int dev, float *y, const float *x, float a, size_t n, char *err);

#ifdef __cplusplus
}
#endif
#endif
