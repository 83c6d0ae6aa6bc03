// float_matmul.cu - y[t, i] = sum_j W[i, j] x[t, j] for f16 or f32 weights and
// f32 activations, f32 accumulation.
//
// m <= 8 (decoding, the output head): a warp per weight row streams the row
// once in 16-byte pieces (8 halves or 4 floats per lane, several in flight) and
// multiplies each piece with up to 8 token rows; lanes sum by shuffles. This
// is bandwidth-bound: the 128256 x 2560 f16 head is 656 MB per token.
// m > 8: a plain tiled GEMM, 64 rows x 64 tokens per block, each thread 4 x 4
// outputs from shared-memory tiles of 32 columns.
#include <cuda_fp16.h>
#include "launch.cuh"
#include "ptx.cuh"

#define GEMV_ROWS_PER_BLOCK 8   // one warp per row
#define GEMV_UNROLL 4           // 16-byte pieces per lane in flight

// Eight weights of a 16-byte piece as floats.
__device__ __forceinline__ void piece_to_float(float (&w)[8], const uint16_t *base, size_t piece) {
    int4 raw = __ldg((const int4 *)base + piece);
    const __half2 *h = (const __half2 *)&raw;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        float2 f = __half22float2(h[i]);
        w[2 * i] = f.x;
        w[2 * i + 1] = f.y;
    }
}

__device__ __forceinline__ void piece_to_float(float (&w)[8], const float *base, size_t piece) {
    float4 a = __ldg((const float4 *)base + 2 * piece), b = __ldg((const float4 *)base + 2 * piece + 1);
    w[0] = a.x, w[1] = a.y, w[2] = a.z, w[3] = a.w, w[4] = b.x, w[5] = b.y, w[6] = b.z, w[7] = b.w;
}

__device__ __forceinline__ float weight_at(const uint16_t *w, size_t i) {
    __half_raw raw;
    raw.x = w[i];
    return __half2float(__half(raw));
}
__device__ __forceinline__ float weight_at(const float *w, size_t i) { return w[i]; }

// VEC: rows start 16-byte aligned and k % 8 == 0, so pieces of 8 weights are used.
template <typename W, int MT, bool VEC>
__global__ void __launch_bounds__(GEMV_ROWS_PER_BLOCK * 32)
float_gemv_kernel(float *y /* [m, n] */, const float *x /* [m, k] */, const W *w /* [n, k] */, int m, int n, int k,
                  int accumulate) {
    bt_grid_dep_begin();
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * GEMV_ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (row >= n) return;
    const W *wr = w + (size_t)row * k;
    float acc[MT];
#pragma unroll
    for (int t = 0; t < MT; t++) acc[t] = 0.0f;
    if (VEC) {
        const int pieces = k / 8;
        for (int p0 = lane; p0 < pieces; p0 += 32 * GEMV_UNROLL) {
            float wv[GEMV_UNROLL][8];
#pragma unroll
            for (int u = 0; u < GEMV_UNROLL; u++)
                if (p0 + 32 * u < pieces) piece_to_float(wv[u], wr, p0 + 32 * u);
#pragma unroll
            for (int u = 0; u < GEMV_UNROLL; u++) {
                const int p = p0 + 32 * u;
                if (p >= pieces) break;
#pragma unroll
                for (int t = 0; t < MT; t++) {
                    if (t >= m) break;
                    const float4 *xt = (const float4 *)(x + (size_t)t * k) + 2 * p;
                    float4 a = xt[0], b = xt[1];
                    acc[t] += wv[u][0] * a.x + wv[u][1] * a.y + wv[u][2] * a.z + wv[u][3] * a.w +
                              wv[u][4] * b.x + wv[u][5] * b.y + wv[u][6] * b.z + wv[u][7] * b.w;
                }
            }
        }
    } else {
        for (int j = lane; j < k; j += 32) {
            float wj = weight_at(wr, j);
#pragma unroll
            for (int t = 0; t < MT; t++)
                if (t < m) acc[t] += wj * x[(size_t)t * k + j];
        }
    }
#pragma unroll
    for (int t = 0; t < MT; t++) acc[t] = bt_warp_sum(acc[t]);
    if (lane < MT && lane < m) {
        float v = acc[0];
#pragma unroll
        for (int t = 1; t < MT; t++)
            if (lane == t) v = acc[t];
        float *dst = y + (size_t)lane * n + row;
        *dst = accumulate ? *dst + v : v;
    }
}

#define GEMM_TILE 64
#define GEMM_K 32

template <typename W>
__global__ void __launch_bounds__(256)
float_gemm_kernel(float *y /* [m, n] */, const float *x /* [m, k] */, const W *w /* [n, k] */, int m, int n, int k,
                  int accumulate) {
    __shared__ float s_w[GEMM_K][GEMM_TILE + 1];   // [column][row], padded against bank conflicts
    __shared__ float s_x[GEMM_K][GEMM_TILE + 1];   // [column][token]
    bt_grid_dep_begin();
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;   // tx: 4 rows each, ty: 4 tokens each
    const int n0 = blockIdx.x * GEMM_TILE, m0 = blockIdx.y * GEMM_TILE;
    float acc[4][4] = {};
    for (int k0 = 0; k0 < k; k0 += GEMM_K) {
        for (int i = threadIdx.x; i < GEMM_TILE * GEMM_K; i += 256) {
            const int r = i / GEMM_K, c = i % GEMM_K, col = k0 + c;
            s_w[c][r] = (n0 + r < n && col < k) ? weight_at(w, (size_t)(n0 + r) * k + col) : 0.0f;
            s_x[c][r] = (m0 + r < m && col < k) ? x[(size_t)(m0 + r) * k + col] : 0.0f;
        }
        __syncthreads();
#pragma unroll 8
        for (int c = 0; c < GEMM_K; c++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = s_w[c][4 * tx + i], b[i] = s_x[c][4 * ty + i];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int j = 0; j < 4; j++) {
        const int tok = m0 + 4 * ty + j;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int row = n0 + 4 * tx + i;
            if (tok < m && row < n) {
                float *dst = y + (size_t)tok * n + row;
                *dst = accumulate ? *dst + acc[i][j] : acc[i][j];
            }
        }
    }
}

template <typename W, int MT>
static int launch_gemv(float *y, const float *x, const W *w, int m, int n, int k, int accumulate, bt_cuda_queue q,
                       char *err) {
    const bool vec = k % 8 == 0 && (uintptr_t)w % 16 == 0 && (uintptr_t)x % 16 == 0;
    dim3 grid(bt_cuda_blocks(n, GEMV_ROWS_PER_BLOCK)), block(GEMV_ROWS_PER_BLOCK * 32);
    if (vec) return bt_cuda_launch(q, grid, block, 0, "float gemv", err, float_gemv_kernel<W, MT, true>, y, x, w, m, n, k, accumulate);
    return bt_cuda_launch(q, grid, block, 0, "float gemv", err, float_gemv_kernel<W, MT, false>, y, x, w, m, n, k, accumulate);
}

template <typename W>
static int float_matmul(float *y, const float *x, const W *w, int m, int n, int k, int accumulate, bt_cuda_queue q,
                        char *err) {
    if (m < 0 || n < 0 || k <= 0) return bt_cuda_bad_arg(err, "CUDA matmul: m = %d, n = %d, k = %d", m, n, k);
    if (!y || !x || !w) return bt_cuda_bad_arg(err, "CUDA matmul: y, x and w must be device pointers");
    if (m == 0 || n == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    if (m == 1) return launch_gemv<W, 1>(y, x, w, m, n, k, accumulate, q, err);
    if (m == 2) return launch_gemv<W, 2>(y, x, w, m, n, k, accumulate, q, err);
    if (m <= 4) return launch_gemv<W, 4>(y, x, w, m, n, k, accumulate, q, err);
    if (m <= 8) return launch_gemv<W, 8>(y, x, w, m, n, k, accumulate, q, err);
    dim3 grid(bt_cuda_blocks(n, GEMM_TILE), bt_cuda_blocks(m, GEMM_TILE));
    if (grid.y > 65535) return bt_cuda_bad_arg(err, "CUDA matmul: m = %d too large", m);
    return bt_cuda_launch(q, grid, dim3(256), 0, "float gemm", err, float_gemm_kernel<W>, y, x, w, m, n, k, accumulate);
}

extern "C" int bt_cuda_matmul_f16(float *y, const float *x, const uint16_t *w, int m, int n, int k, int accumulate,
                                  bt_cuda_queue q, char *err) {
    return float_matmul(y, x, w, m, n, k, accumulate, q, err);
}

extern "C" int bt_cuda_matmul_f32(float *y, const float *x, const float *w, int m, int n, int k, int accumulate,
                                  bt_cuda_queue q, char *err) {
    return float_matmul(y, x, w, m, n, k, accumulate, q, err);
}
