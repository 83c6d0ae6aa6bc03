// ternary_kernels.cuh - the launchers behind bt_cuda_ternary_matmul (ternary_matmul.cu),
// and the device helpers the GEMV and GEMM kernels share. Arguments are checked
// by the caller; launchers only enqueue.
#ifndef BT_CUDA_TERNARY_KERNELS_CUH
#define BT_CUDA_TERNARY_KERNELS_CUH
#include "common.cuh"
#include "ternary_layout.cuh"

// Up to this many tokens the GEMV (weights read once, 4 tokens per pass) beats the
// tensor-core GEMM, whose 128-row tiles leave most SMs idle at small m.
#define BT_TERN_GEMV_MAX_M 8

// dp4a GEMV over m tokens (any m; weights stay in registers across passes when k <= 8192).
int bt_tern_gemv(float *y /* [m, n] */, bt_cuda_q8 x, const bt_cuda_ternary *w, int m, int accumulate,
                 bt_cuda_queue q, char *err);
// int8 tensor-core GEMM (sm_80+, row scales only).
int bt_tern_gemm_mma(float *y /* [m, n] */, bt_cuda_q8 x, const bt_cuda_ternary *w, int m, int accumulate,
                     bt_cuda_queue q, char *err);

// The four int8 codes of columns 4j..4j+3 of a packed word (see ternary_layout.cuh).
__device__ __forceinline__ int bt_tern_codes4(unsigned word, int j) {
    return (int)((word >> (2 * j)) & 0x03030303u);
}

// Final value of one output: per-row scale and activation scale, in the documented order.
__device__ __forceinline__ float bt_tern_row_value(int acc, int x_sum, float w_scale, float x_scale) {
    return ((float)(acc - x_sum) * w_scale) / x_scale;
}

__device__ __forceinline__ void bt_tern_store(float *y, float v, int accumulate) {
    if (accumulate) *y += v;
    else *y = v;
}

#endif
