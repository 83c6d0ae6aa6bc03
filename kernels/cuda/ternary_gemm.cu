// ternary_gemm.cu - ternary GEMM for prompt batches on int8 tensor cores
// (mma.sync m16n8k32, sm_80+), y[t, :] = W . x[t, :] with per-row scales.
//
// A block computes 128 weight rows x 64 tokens with 4 warps (each 64 rows x 32
// tokens: 4 x 4 mma tiles). Along k it walks 64-column tiles through a 4-stage
// cp.async pipeline: per stage 128 rows x 16 bytes of 2-bit codes (copied as
// stored) and 64 tokens x 64 int8 activations. The mma's k order is permuted the
// same way on both sides: lane t's fragments for k-step s cover columns
// 16t + 8s .. 16t + 8s + 7 of the tile, which is word t of a weight row (shifts
// 4s and 4s+2) and bytes 16t .. 16t+15 of an activation row (one 16-byte load).
// The weights' A fragments therefore need one shift-and-mask per register.
#include "launch.cuh"
#include "ptx.cuh"
#include "ternary_kernels.cuh"

#define GEMM_BM 128
#define GEMM_BN 64
#define GEMM_STAGES 4
#define GEMM_THREADS 128

// Stage loads: thread tid copies weight row tid (16 bytes) and two 16-byte pieces of activations.
__device__ __forceinline__ void gemm_load_w(uint32_t *s_w, const uint8_t *w_row, const uint8_t *w_any, int valid,
                                            int tile) {
    bt_cp_async16(s_w + threadIdx.x * 4, valid ? w_row + (size_t)tile * BT_TERN_TILE_BYTES : w_any, valid);
}

__device__ __forceinline__ void gemm_load_x(uint32_t *s_x, const int8_t *xq, int m0, int m, int k, int tile) {
#pragma unroll
    for (int i = 0; i < GEMM_BN * 4 / GEMM_THREADS; i++) {
        int idx = threadIdx.x + GEMM_THREADS * i, tok = idx >> 2, part = idx & 3;
        int valid = m0 + tok < m;
        const int8_t *src = valid ? xq + (size_t)(m0 + tok) * k + (size_t)tile * 64 + part * 16 : xq;
        bt_cp_async16(s_x + tok * 16 + part * 4, src, valid);
    }
}

__global__ void __launch_bounds__(GEMM_THREADS)
tern_gemm_mma_kernel(float *y /* [m, n] */, const int8_t *xq /* [m, k] */, const float *x_scale /* [m] */,
                     const int32_t *x_sum /* [m] */, const uint8_t *w_codes, const float *w_scales,
                     int n, int k, int m, int accumulate) {
    __shared__ __align__(16) uint32_t s_w[GEMM_STAGES][GEMM_BM * 4];    // [row][4 words]
    __shared__ __align__(16) uint32_t s_x[GEMM_STAGES][GEMM_BN * 16];   // [token][16 words]
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int warp_rows = (warp & 1) * 64, warp_toks = (warp >> 1) * 32;
    const int n0 = blockIdx.x * GEMM_BM, m0 = blockIdx.y * GEMM_BN;
    const int n_tiles = k / BT_TERN_TILE_COLS;

    const int load_row = n0 + threadIdx.x;
    const int w_valid = load_row < bt_tern_rows_padded(n);
    const uint8_t *w_row = w_codes + (w_valid ? bt_tern_row_chunk_offset(load_row, 0, k) : 0);

    // Weights are constant: start them before waiting on the previous kernel.
    for (int s = 0; s < GEMM_STAGES - 1; s++)
        if (s < n_tiles) gemm_load_w(s_w[s], w_row, w_codes, w_valid, s);
    bt_grid_dep_begin();
    for (int s = 0; s < GEMM_STAGES - 1; s++) {
        if (s < n_tiles) gemm_load_x(s_x[s], xq, m0, m, k, s);
        bt_cp_async_commit();
    }

    int acc[4][4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int r = 0; r < 4; r++) acc[i][j][r] = 0;

    for (int tile = 0; tile < n_tiles; tile++) {
        bt_cp_async_wait<GEMM_STAGES - 2>();
        __syncthreads();   // this tile has landed everywhere, and the stage refilled below is no longer read
        const int next = tile + GEMM_STAGES - 1;
        if (next < n_tiles) {
            gemm_load_w(s_w[next % GEMM_STAGES], w_row, w_codes, w_valid, next);
            gemm_load_x(s_x[next % GEMM_STAGES], xq, m0, m, k, next);
        }
        bt_cp_async_commit();

        const uint32_t *sw = s_w[tile % GEMM_STAGES], *sx = s_x[tile % GEMM_STAGES];
        unsigned w_lo[4], w_hi[4];   // word t of rows g and g+8 of each 16-row tile
#pragma unroll
        for (int mt = 0; mt < 4; mt++) {
            int row = warp_rows + mt * 16 + g;
            w_lo[mt] = sw[row * 4 + t];
            w_hi[mt] = sw[(row + 8) * 4 + t];
        }
        uint4 xv[4];   // bytes 16t..16t+15 of token g of each 8-token tile
#pragma unroll
        for (int nt = 0; nt < 4; nt++) xv[nt] = *(const uint4 *)(sx + (warp_toks + nt * 8 + g) * 16 + t * 4);
#pragma unroll
        for (int s = 0; s < 2; s++) {
#pragma unroll
            for (int mt = 0; mt < 4; mt++) {
                const unsigned a[4] = {(unsigned)bt_tern_codes4(w_lo[mt], 2 * s), (unsigned)bt_tern_codes4(w_hi[mt], 2 * s),
                                       (unsigned)bt_tern_codes4(w_lo[mt], 2 * s + 1),
                                       (unsigned)bt_tern_codes4(w_hi[mt], 2 * s + 1)};
#pragma unroll
                for (int nt = 0; nt < 4; nt++)
                    bt_mma_s8_16x8x32(acc[mt][nt], a, s == 0 ? xv[nt].x : xv[nt].z, s == 0 ? xv[nt].y : xv[nt].w);
            }
        }
    }
    bt_cp_async_wait<0>();

#pragma unroll
    for (int mt = 0; mt < 4; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int row = n0 + warp_rows + mt * 16 + g + (r >= 2 ? 8 : 0);
                const int tok = m0 + warp_toks + nt * 8 + 2 * t + (r & 1);
                if (row < n && tok < m) {
                    float v = bt_tern_row_value(acc[mt][nt][r], x_sum[tok], w_scales[row], x_scale[tok]);
                    bt_tern_store(y + (size_t)tok * n + row, v, accumulate);
                }
            }
}

int bt_tern_gemm_mma(float *y, bt_cuda_q8 x, const bt_cuda_ternary *w, int m, int accumulate, bt_cuda_queue q,
                     char *err) {
    const uint8_t *codes = (const uint8_t *)w->data;
    const float *scales = (const float *)(codes + bt_tern_scale_offset(w->n, w->k));
    dim3 grid((unsigned)((bt_tern_rows_padded(w->n) + GEMM_BM - 1) / GEMM_BM), (unsigned)((m + GEMM_BN - 1) / GEMM_BN));
    return bt_cuda_launch(q, grid, dim3(GEMM_THREADS), 0, "ternary gemm (mma)", err, tern_gemm_mma_kernel, y,
                          (const int8_t *)x.q, (const float *)x.scale, (const int32_t *)x.sum, codes, scales, w->n,
                          w->k, m, accumulate);
}
