// common.cuh - what every CUDA source of the backend shares: error reporting
// into the caller's `err` buffer, the CHECK macros, device selection, and small
// warp/block reductions. Kernels never abort; host wrappers return 0 or -1.
#ifndef BT_CUDA_COMMON_CUH
#define BT_CUDA_COMMON_CUH
#include <cuda_runtime.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include "cuda_backend.h"

// Writes "CUDA <what>: <reason>" into err and clears the (non-sticky) error state.
static inline int bt_cuda_fail(cudaError_t e, const char *what, char *err) {
    if (err) snprintf(err, BT_CUDA_ERR_CAP, "CUDA %s: %s", what, cudaGetErrorString(e));
    cudaGetLastError();
    return -1;
}

// printf-style argument error (bad shape, bad pointer).
static inline int bt_cuda_bad_arg(char *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, BT_CUDA_ERR_CAP, fmt, ap);
        va_end(ap);
    }
    return -1;
}

// Return -1 with a message from the enclosing function when a CUDA call fails.
#define BT_CUDA_CHECK(call, what)                                   \
    do {                                                            \
        cudaError_t bt_e_ = (call);                                 \
        if (bt_e_ != cudaSuccess) return bt_cuda_fail(bt_e_, what, err); \
    } while (0)

// After a launch: configuration errors show at once (asynchronous faults show at the next sync).
#define BT_CUDA_CHECK_LAUNCH(what) BT_CUDA_CHECK(cudaGetLastError(), what " launch")

// Compute capability of a device as major*10+minor (cached; 0 when the query fails).
int bt_cuda_arch(int dev);

// Makes q.dev current and checks the queue; every kernel wrapper starts with it.
static inline int bt_cuda_enter(bt_cuda_queue q, char *err) {
    if (q.dev < 0) return bt_cuda_bad_arg(err, "CUDA: device %d is not a CUDA ordinal", q.dev);
    BT_CUDA_CHECK(cudaSetDevice(q.dev), "cudaSetDevice");
    return 0;
}

static inline unsigned bt_cuda_blocks(int64_t n, int per_block) {
    return (unsigned)((n + per_block - 1) / per_block);
}

// ---- device-side reductions ----------------------------------------------------

__device__ __forceinline__ float bt_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float bt_warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ int bt_warp_sum_int(int v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Block-wide reductions for blocks of whole warps (blockDim.x % 32 == 0, at most 1024).
// Every thread gets the result. `scratch` holds 32 values; callers may reuse it after.
__device__ __forceinline__ float bt_block_sum(float v, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = bt_warp_sum(v);
    __syncthreads();                    // scratch may still be read from a previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0.0f;
    return bt_warp_sum(v);
}

__device__ __forceinline__ float bt_block_max(float v, float *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = bt_warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : -INFINITY;
    return bt_warp_max(v);
}

__device__ __forceinline__ int bt_block_sum_int(int v, int *scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = bt_warp_sum_int(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < nwarps ? scratch[lane] : 0;
    return bt_warp_sum_int(v);
}

#endif
