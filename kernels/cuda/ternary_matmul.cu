// ternary_matmul.cu - bt_cuda_ternary_matmul: checks the arguments once and picks
// the kernel (dp4a GEMV for m <= 8, tensor-core GEMM for larger m when possible).
#include "ternary_kernels.cuh"

extern "C" int bt_cuda_ternary_matmul(float *y, bt_cuda_q8 x, const bt_cuda_ternary *w, int m, int accumulate,
                                      bt_cuda_queue q, char *err) {
    if (!w || !w->data || w->n <= 0 || w->k <= 0 || w->k % BT_TERN_TILE_COLS != 0)
        return bt_cuda_bad_arg(err, "CUDA ternary matmul: weights missing or shape [%d, %d] (k must be a multiple of 64)",
                               w ? w->n : 0, w ? w->k : 0);
    if (w->block_scales && (w->k % BT_TERN_SCALE_COLS != 0 || !x.block_sum))
        return bt_cuda_bad_arg(err, "CUDA ternary matmul: block-scaled weights need k %% 256 == 0 (k = %d) "
                               "and activations quantized with block sums", w->k);
    if (m < 0) return bt_cuda_bad_arg(err, "CUDA ternary matmul: m = %d", m);
    if (!y || !x.q || !x.scale || !x.sum)
        return bt_cuda_bad_arg(err, "CUDA ternary matmul: y, x.q, x.scale and x.sum must be device pointers");
    if ((uintptr_t)x.q % 16 != 0 || (uintptr_t)w->data % 16 != 0)
        return bt_cuda_bad_arg(err, "CUDA ternary matmul: x.q and the weights must be 16-byte aligned");
    if (m == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    if (m > BT_TERN_GEMV_MAX_M && !w->block_scales && bt_cuda_tuning_get().ternary_mma && bt_cuda_arch(q.dev) >= 80)
        return bt_tern_gemm_mma(y, x, w, m, accumulate, q, err);
    return bt_tern_gemv(y, x, w, m, accumulate, q, err);
}
