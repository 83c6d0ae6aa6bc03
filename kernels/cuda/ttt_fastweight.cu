// ttt_fastweight.cu - the Bit-TTT `fastweight` rule on the GPU (kernels/cpu/ttt_fastweight.h):
//   k_j = f_j / (||f_j|| + 1e-6),  p_j = W k_j,  W <- W - eta_j (p_j - k_j) k_j^T
// for the tokens j in order. A first kernel normalizes the rows of k in place (one
// block per token, the sum of squares in double as on the CPU); then, since row r of
// W only meets row r of each update, one warp per row walks all tokens with its row
// in shared memory: a warp-wide dot product, then the row update.
#include "launch.cuh"
#include "ptx.cuh"

#define FW_NORM_THREADS 256
#define FW_ROW_FLOATS 12288   // shared memory for the rows of one block (48 KiB)
#define FW_NORM_EPS 1e-6f     // BT_FASTWEIGHT_NORM_EPS

__global__ void __launch_bounds__(FW_NORM_THREADS) fastweight_normalize_kernel(float *k /* [n_tok, d] */, int d) {
    __shared__ double partial[FW_NORM_THREADS / 32];
    float *kj = k + (int64_t)blockIdx.x * d;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    bt_grid_dep_begin();
    double ss = 0.0;
    for (int c = threadIdx.x; c < d; c += blockDim.x) ss += (double)kj[c] * kj[c];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
    if (lane == 0) partial[warp] = ss;
    __syncthreads();
    ss = 0.0;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++) ss += partial[w];
    const float inv = 1.0f / ((float)sqrt(ss) + FW_NORM_EPS);
    for (int c = threadIdx.x; c < d; c += blockDim.x) kj[c] *= inv;
}

__global__ void fastweight_rows_kernel(float *p /* [n_tok, d] */, float *W /* [d, d] */, const float *k /* [n_tok, d] */,
                                       const float *eta /* [n_tok] */, int64_t n_tok, int d) {
    extern __shared__ float fw_rows[];   // [warps, d]
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int r = blockIdx.x * (blockDim.x >> 5) + warp;
    float *row = fw_rows + (size_t)warp * d;
    bt_grid_dep_begin();
    if (r >= d) return;
    float *wr = W + (int64_t)r * d;
#pragma unroll 4
    for (int c = lane; c < d; c += 32) row[c] = wr[c];
    __syncwarp();
    for (int64_t j = 0; j < n_tok; j++) {
        const float *kj = k + j * d;
        float dot = 0.0f;
        for (int c = lane; c < d; c += 32) dot = fmaf(row[c], kj[c], dot);
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, o);
        if (lane == 0) p[j * d + r] = dot;
        const float a = -eta[j] * (dot - kj[r]);
        for (int c = lane; c < d; c += 32) row[c] = fmaf(a, kj[c], row[c]);
    }
    __syncwarp();
    for (int c = lane; c < d; c += 32) wr[c] = row[c];
}

extern "C" int bt_cuda_fastweight_forward(float *p, float *W, float *k, const float *eta, int64_t n_tok, int d,
                                          bt_cuda_queue q, char *err) {
    if (!p || !W || !k || !eta || n_tok < 0 || d < 1 || d > FW_ROW_FLOATS)
        return bt_cuda_bad_arg(err, "CUDA fastweight: p, W, k and eta must be device pointers, n_tok %lld >= 0, "
                               "d %d in 1..%d", (long long)n_tok, d, FW_ROW_FLOATS);
    if (n_tok == 0) return 0;
    if (n_tok > 0x7fffffff) return bt_cuda_bad_arg(err, "CUDA fastweight: %lld tokens in one call", (long long)n_tok);
    if (bt_cuda_enter(q, err)) return -1;
    if (bt_cuda_launch(q, dim3((unsigned)n_tok), dim3(FW_NORM_THREADS), 0, "fastweight normalize", err,
                       fastweight_normalize_kernel, k, d))
        return -1;
    int warps = FW_ROW_FLOATS / d;
    warps = warps > 8 ? 8 : warps;
    return bt_cuda_launch(q, dim3((unsigned)((d + warps - 1) / warps)), dim3((unsigned)warps * 32),
                          sizeof(float) * (size_t)warps * d, "fastweight rows", err, fastweight_rows_kernel, p, W,
                          (const float *)k, eta, n_tok, d);
}
