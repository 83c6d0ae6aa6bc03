// quantize.cu - BitNet per-token int8 activation quantization, optionally fused
// with the RMSNorm in front of it. One block per token row.
//
// Per row: (optionally h = x / sqrt(mean(x^2) + eps) * norm_w), s = 127 / max(max|h|, 1e-5),
// q = clamp(round_half_even(h * s), -128, 127); also sum(q) over the row and per 256 columns.
// Without the norm the result is bit-exact against the same C expressions (a max is
// order-free, and h * s and the rounding are single IEEE operations).
#include "common.cuh"
#include "launch.cuh"
#include "ptx.cuh"

#define QUANT_THREADS 256
#define QUANT_MAX_SUM_BLOCKS 128   // k <= 32768 when block sums are asked for

// Element i (a group of 4) of row x after the optional norm.
__device__ __forceinline__ float4 quant_input(const float4 *x, const float4 *norm_w, float r, int i) {
    float4 v = x[i];
    if (norm_w) {
        float4 w = norm_w[i];
        v = make_float4(v.x * r * w.x, v.y * r * w.y, v.z * r * w.z, v.w * r * w.w);
    }
    return v;
}

__device__ __forceinline__ int quant_one(float v, float s) {
    return min(127, max(-128, __float2int_rn(v * s)));
}

__global__ void __launch_bounds__(QUANT_THREADS)
quantize_q8_kernel(int8_t *q /* [m, k] */, float *scale /* [m] */, int32_t *sum /* [m] */,
                   int32_t *block_sum /* [m, k/256] or NULL */, const float *x /* [m, k] */,
                   const float *norm_w /* [k] or NULL */, float eps, int k) {
    __shared__ float red[32];
    __shared__ int red_int[32];
    __shared__ int blk[QUANT_MAX_SUM_BLOCKS];
    bt_grid_dep_begin();
    const size_t row = blockIdx.x;
    const float4 *xr = (const float4 *)(x + row * k);
    const float4 *wr = (const float4 *)norm_w;
    const int n4 = k / 4, n_blk = k / 256;

    float r = 1.0f;
    if (norm_w) {
        float ss = 0.0f;
        for (int i = threadIdx.x; i < n4; i += blockDim.x) {
            float4 v = xr[i];
            ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
        }
        ss = bt_block_sum(ss, red);
        r = 1.0f / sqrtf(ss / (float)k + eps);
    }

    float mx = 0.0f;
    for (int i = threadIdx.x; i < n4; i += blockDim.x) {
        float4 v = quant_input(xr, wr, r, i);
        mx = fmaxf(mx, fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w))));
    }
    mx = bt_block_max(mx, red);
    const float s = 127.0f / fmaxf(mx, 1e-5f);

    if (block_sum)
        for (int i = threadIdx.x; i < n_blk; i += blockDim.x) blk[i] = 0;
    __syncthreads();

    char4 *qr = (char4 *)(q + row * k);
    int total = 0;
    for (int i = threadIdx.x; i < n4; i += blockDim.x) {
        float4 v = quant_input(xr, wr, r, i);
        int a = quant_one(v.x, s), b = quant_one(v.y, s), c = quant_one(v.z, s), d = quant_one(v.w, s);
        qr[i] = make_char4((signed char)a, (signed char)b, (signed char)c, (signed char)d);
        total += a + b + c + d;
        if (block_sum) atomicAdd(&blk[i / 64], a + b + c + d);   // 64 groups of 4 = 256 columns
    }
    total = bt_block_sum_int(total, red_int);   // its barriers also publish blk
    if (threadIdx.x == 0) {
        scale[row] = s;
        sum[row] = total;
    }
    if (block_sum)
        for (int i = threadIdx.x; i < n_blk; i += blockDim.x) block_sum[row * n_blk + i] = blk[i];
}

extern "C" int bt_cuda_quantize_q8(bt_cuda_q8 out, const float *x, const float *norm_w, float eps, int m, int k,
                                   bt_cuda_queue q, char *err) {
    if (m < 0 || k <= 0 || k % 4 != 0)
        return bt_cuda_bad_arg(err, "CUDA quantize_q8: shape [%d, %d]: k must be a positive multiple of 4", m, k);
    if (out.block_sum && (k % 256 != 0 || k / 256 > QUANT_MAX_SUM_BLOCKS))
        return bt_cuda_bad_arg(err, "CUDA quantize_q8: block sums need k %% 256 == 0 and k <= %d, k = %d",
                               256 * QUANT_MAX_SUM_BLOCKS, k);
    if (!out.q || !out.scale || !out.sum || !x)
        return bt_cuda_bad_arg(err, "CUDA quantize_q8: q, scale, sum and x must be device pointers, not NULL");
    if (((uintptr_t)x | (uintptr_t)out.q | (uintptr_t)norm_w) % 16 != 0)
        return bt_cuda_bad_arg(err, "CUDA quantize_q8: x, q and norm_w must be 16-byte aligned");
    if (m == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    return bt_cuda_launch(q, dim3((unsigned)m), dim3(QUANT_THREADS), 0, "quantize_q8", err, quantize_q8_kernel,
                          out.q, out.scale, out.sum, out.block_sum, x, norm_w, eps, k);
}
