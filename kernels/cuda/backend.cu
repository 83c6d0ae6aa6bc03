// backend.cu - device query, memory and copies for the CUDA backend, plus the
// first trivial kernel (axpy) that keeps the CUDA build exercised.
#include "cuda_backend.h"
#include <cuda_runtime.h>
#include <stdio.h>

static int fail(cudaError_t e, const char *what, char *err) {
    snprintf(err, BT_CUDA_ERR_CAP, "CUDA %s: %s", what, cudaGetErrorString(e));
    cudaGetLastError();  // clear the sticky-free error state
    return -1;
}

#define CHECK(call, what) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) return fail(e_, what, err); } while (0)

extern "C" int bt_cuda_count(int *n, char *err) {
    *n = 0;
    cudaError_t e = cudaGetDeviceCount(n);
    if (e != cudaSuccess) { *n = 0; return fail(e, "cudaGetDeviceCount", err); }
    return 0;
}

extern "C" int bt_cuda_mem_info(int dev, size_t *free_bytes, size_t *total_bytes, char *err) {
    CHECK(cudaSetDevice(dev), "cudaSetDevice");
    CHECK(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
    return 0;
}

extern "C" int bt_cuda_device_describe(int dev, char *out, size_t cap, char *err) {
    cudaDeviceProp p;
    CHECK(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
    snprintf(out, cap, "%s (sm_%d%d, %.1f GiB, %d SMs)", p.name, p.major, p.minor,
             (double)p.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), p.multiProcessorCount);
    return 0;
}

extern "C" int bt_cuda_malloc(int dev, size_t nbytes, void **out, char *err) {
    *out = NULL;
    CHECK(cudaSetDevice(dev), "cudaSetDevice");
    CHECK(cudaMalloc(out, nbytes ? nbytes : 1), "cudaMalloc");
    return 0;
}

extern "C" int bt_cuda_free(int dev, void *p, char *err) {
    CHECK(cudaSetDevice(dev), "cudaSetDevice");
    CHECK(cudaFree(p), "cudaFree");
    return 0;
}

extern "C" int bt_cuda_memcpy(int dev, void *dst, const void *src, size_t nbytes, int kind, char *err) {
    static const cudaMemcpyKind kinds[3] = {cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice};
    if (kind < 0 || kind > 2) { snprintf(err, BT_CUDA_ERR_CAP, "bad copy kind %d", kind); return -1; }
    CHECK(cudaSetDevice(dev), "cudaSetDevice");
    CHECK(cudaMemcpy(dst, src, nbytes, kinds[kind]), "cudaMemcpy");
    return 0;
}

extern "C" int bt_cuda_synchronize(int dev, char *err) {
    CHECK(cudaSetDevice(dev), "cudaSetDevice");
    CHECK(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    return 0;
}

__global__ static void axpy_f32(float *y, const float *x, float a, size_t n) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] += a * x[i];
}

extern "C" int bt_cuda_axpy_f32(int dev, float *y, const float *x, float a, size_t n, char *err) {
    if (n == 0) return 0;
    CHECK(cudaSetDevice(dev), "cudaSetDevice");
    unsigned blocks = (unsigned)((n + 255) / 256);
    axpy_f32<<<blocks, 256>>>(y, x, a, n);
    CHECK(cudaGetLastError(), "axpy launch");
    return 0;
}
