// causal_conv.cu - the depthwise causal convolution over time of TTT's queries and keys
// (kernels/cpu/causal_conv.h) on the GPU: one thread per channel walks the tokens with
// its window of the last K inputs in registers, as the CPU kernel does, so the sums are
// formed in the same order.
#include "launch.cuh"
#include "ptx.cuh"
#include "kernels/cpu/causal_conv.h"

#define CONV_THREADS 128

__global__ void __launch_bounds__(CONV_THREADS)
causal_conv_kernel(float *x /* [n_tok, width] */, float *history /* [K-1, width] */, const float *w /* [K, width] */,
                   const float *bias /* [width] or NULL */, int64_t n_tok, int width, int K) {
    bt_grid_dep_begin();
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= width) return;
    float window[BT_CAUSAL_CONV_MAX_KERNEL];   // window[j]: the input at t - (K-1) + j
#pragma unroll
    for (int j = 0; j < BT_CAUSAL_CONV_MAX_KERNEL - 1; j++)
        if (j < K - 1) window[j] = history[(size_t)j * width + c];
    for (int64_t t = 0; t < n_tok; t++) {
        float *xt = x + (size_t)t * width + c;
#pragma unroll
        for (int j = 0; j < BT_CAUSAL_CONV_MAX_KERNEL; j++)
            if (j == K - 1) window[j] = *xt;
        float acc = bias ? bias[c] : 0.0f;
#pragma unroll
        for (int j = 0; j < BT_CAUSAL_CONV_MAX_KERNEL; j++)
            if (j < K) acc += w[(size_t)j * width + c] * window[j];
        *xt = acc;
#pragma unroll
        for (int j = 0; j < BT_CAUSAL_CONV_MAX_KERNEL - 1; j++)
            if (j < K - 1) window[j] = window[j + 1];
    }
#pragma unroll
    for (int j = 0; j < BT_CAUSAL_CONV_MAX_KERNEL - 1; j++)
        if (j < K - 1) history[(size_t)j * width + c] = window[j];
}

extern "C" int bt_cuda_causal_conv(float *x, float *history, const float *w, const float *bias, int64_t n_tok,
                                   int width, int kernel, bt_cuda_queue q, char *err) {
    if (!x || !w || (kernel > 1 && !history) || n_tok < 0 || width < 1 || kernel < 1 ||
        kernel > BT_CAUSAL_CONV_MAX_KERNEL)
        return bt_cuda_bad_arg(err, "CUDA causal_conv: x, w (and history when K > 1) must be device pointers, "
                               "n_tok %lld >= 0, width %d >= 1, K %d in 1..%d", (long long)n_tok, width, kernel,
                               BT_CAUSAL_CONV_MAX_KERNEL);
    if (n_tok == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    return bt_cuda_launch(q, dim3(bt_cuda_blocks(width, CONV_THREADS)), dim3(CONV_THREADS), 0, "causal_conv", err,
                          causal_conv_kernel, x, history, w, bias, n_tok, width, kernel);
}
