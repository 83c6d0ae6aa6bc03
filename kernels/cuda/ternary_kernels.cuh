// ternary_kernels.cuh - the launchers behind bt_cuda_ternary_matmul (ternary_matmul.cu)
// and bt_cuda_ternary_matmul_group (ternary_gemv_select.cu), and the device helpers
// the GEMV and GEMM kernels share. Arguments are checked by the caller; launchers
// only enqueue.
#ifndef BT_CUDA_TERNARY_KERNELS_CUH
#define BT_CUDA_TERNARY_KERNELS_CUH
#include "common.cuh"
#include "ternary_layout.cuh"

// Up to this many tokens the GEMV (weights read once, up to 8 tokens per pass) beats
// the tensor-core GEMM, whose 128-row tiles leave most SMs idle at small m (H200, all
// 210 matrices of the 2B4T shape: streaming GEMV / GEMM 2.7 / 5.1 ms at m = 16,
// 4.7 / 5.6 at m = 32, 8.6 / 5.6 at m = 64).
#define BT_TERN_GEMV_MAX_M 32

// The GEMV the tuning selects (bt_cuda_gemv_tuning): the streaming kernel where it
// applies (row scales, k <= BT_TERN_STREAM_MAX_K), else the tiled one.
int bt_tern_gemv(float *y /* [m, n] */, bt_cuda_q8 x, const bt_cuda_ternary *w, int m, int accumulate,
                 bt_cuda_queue q, char *err);
// The original dp4a GEMV (ternary_gemv.cu): any m, row or block scales.
int bt_tern_gemv_tiled(float *y /* [m, n] */, bt_cuda_q8 x, const bt_cuda_ternary *w, int m, int accumulate,
                       bt_cuda_queue q, char *err);
// int8 tensor-core GEMM (sm_80+, row scales only).
int bt_tern_gemm_mma(float *y /* [m, n] */, bt_cuda_q8 x, const bt_cuda_ternary *w, int m, int accumulate,
                     bt_cuda_queue q, char *err);

// ---- the streaming GEMV (ternary_gemv_stream.cu) ----------------------------------
// Matrices per launch (q, k, v share their input; so do gate and up).
#define BT_TERN_STREAM_MAX_MATS 4
// Its activations sit in shared memory, at least one token of k bytes: k up to 46 KiB.
#define BT_TERN_STREAM_MAX_K 47104

// How one launch is cut: `slices` warps share an 8-row group along k (1, 2, 4 or 8;
// 0 chooses by shape), `block_warps` warps per block (a multiple of slices, at most 8),
// `early_launch` lets the next kernel of the stream launch before this one waits.
typedef struct bt_tern_stream_plan {
    int slices, block_warps, early_launch;
} bt_tern_stream_plan;

// y[i] = W_i . x for count matrices of the same k with row scales (the caller checks).
int bt_tern_gemv_stream(float *const *y /* count x [m, n_i] */, bt_cuda_q8 x, const bt_cuda_ternary *w /* [count] */,
                        int count, int m, int accumulate, bt_tern_stream_plan plan, bt_cuda_queue q, char *err);

// 1 when bt_tern_gemv_stream can take these weights.
__host__ __device__ static inline int bt_tern_stream_fits(const bt_cuda_ternary *w) {
    return !w->block_scales && w->k <= BT_TERN_STREAM_MAX_K;
}

// ---- device helpers ---------------------------------------------------------------

// The four int8 codes of columns 4j..4j+3 of a packed word (see ternary_layout.cuh).
__device__ __forceinline__ int bt_tern_codes4(unsigned word, int j) {
    return (int)((word >> (2 * j)) & 0x03030303u);
}

// c + sum over the 4 bytes of (unsigned a_i) * (signed b_i): dp4a with unsigned a.
// With a = word & (0x03030303 << 2j) (codes shifted left by 2j, at most 128) it adds
// 4^j times the dot product of those codes, which saves the shift per word.
__device__ __forceinline__ int bt_dp4a_us(unsigned a, int b, int c) {
#if defined(__CUDA_ARCH__)
    int d;
    asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
#else
    for (int i = 0; i < 4; i++) c += (int)((a >> (8 * i)) & 0xFFu) * (int)(signed char)(b >> (8 * i));
    return c;
#endif
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
