// ternary_gemv.cu - the original (tiled) ternary GEMV, y[t, :] = W . x[t, :] for a
// few tokens at a time (dp4a). It serves block-scaled weights and, when the tuning
// asks for it, every GEMV (ternary_gemv_select.cu); ternary_gemv_stream.cu has the
// faster kernel for row-scaled weights.
//
// One block of 4 warps per row group (8 rows). The columns form super-chunks of
// 256 (four 64-column tiles); warp w takes super-chunks w, w+4, ... and within a
// super-chunk lane l reads row l%8 of tile l/8: 16 bytes per lane, 512 contiguous
// bytes per warp. Each lane keeps its weight words in registers (loaded before
// waiting on the previous kernel, so with PDL the weight stream starts early),
// then for MT tokens at a time unpacks them once and runs 16 dp4a per token
// against the 64 matching int8 activations (more tokens: further passes, the
// weights staying in registers when k <= 8192). Lanes sum by shuffles over the
// lanes of one row, warps through shared memory.
#include <type_traits>
#include "launch.cuh"
#include "ptx.cuh"
#include "ternary_kernels.cuh"

#define GEMV_WARPS 4
#define GEMV_BATCH 8   // super-chunks per lane held in registers at once (k <= 8192 in one batch)

__device__ __forceinline__ int int4_part(const int4 &v, int i) {
    return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// sum over the 64 columns of one tile row: codes . x
__device__ __forceinline__ int tile_dot(const int4 &wv, const int4 (&xv)[4]) {
    int acc = 0;
#pragma unroll
    for (int qw = 0; qw < 4; qw++) {
        unsigned word = (unsigned)int4_part(wv, qw);
#pragma unroll
        for (int j = 0; j < 4; j++) acc = __dp4a(bt_tern_codes4(word, j), int4_part(xv[qw], j), acc);
    }
    return acc;
}

// Loads this lane's weight tiles for super-chunks jb, jb+4, ... (GEMV_BATCH of them).
__device__ __forceinline__ void load_weight_batch(int4 (&wv)[GEMV_BATCH], const int4 *group_codes, int jb,
                                                  int n_tiles, int lane) {
#pragma unroll
    for (int u = 0; u < GEMV_BATCH; u++) {
        int tile = 4 * (jb + GEMV_WARPS * u) + (lane >> 3);
        wv[u] = tile < n_tiles ? __ldg(group_codes + (size_t)tile * 8 + (lane & 7)) : make_int4(0, 0, 0, 0);
    }
}

// MT: tokens per pass (1, 2 or 4). BLOCK_SCALES: per-256-column scales (float partials).
template <int MT, bool BLOCK_SCALES>
__global__ void __launch_bounds__(GEMV_WARPS * 32)
tern_gemv_kernel(float *y /* [m, n] */, const int8_t *xq /* [m, k] */, const float *x_scale /* [m] */,
                 const int32_t *x_sum /* [m] */, const int32_t *x_block_sum /* [m, k/256] */,
                 const uint8_t *w_codes, const float *w_scales, int n, int k, int m, int accumulate) {
    typedef typename std::conditional<BLOCK_SCALES, float, int>::type acc_t;
    __shared__ acc_t partial[GEMV_WARPS][8][MT];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int group = blockIdx.x;
    const int n_tiles = k / BT_TERN_TILE_COLS, n_super = (n_tiles + 3) / 4;
    const int row = group * 8 + (lane & 7);
    const int4 *group_codes = (const int4 *)(w_codes + (size_t)group * n_tiles * BT_TERN_TILE_BYTES);

    int4 wv[GEMV_BATCH];
    int loaded = warp;   // the batch in wv (k <= 8192 fits one: then weights are read once for all tokens)
    load_weight_batch(wv, group_codes, loaded, n_tiles, lane);
    bt_grid_dep_begin();

    for (int t0 = 0; t0 < m; t0 += MT) {
        acc_t acc[MT];
#pragma unroll
        for (int t = 0; t < MT; t++) acc[t] = 0;
        for (int jb = warp; jb < n_super; jb += GEMV_WARPS * GEMV_BATCH) {
            if (jb != loaded) {
                loaded = jb;
                load_weight_batch(wv, group_codes, loaded, n_tiles, lane);
            }
#pragma unroll
            for (int u = 0; u < GEMV_BATCH; u++) {
                const int sc = jb + GEMV_WARPS * u, tile = 4 * sc + (lane >> 3);
                if (tile >= n_tiles) continue;
#pragma unroll
                for (int t = 0; t < MT; t++) {
                    if (t0 + t >= m) continue;
                    const int4 *xt = (const int4 *)(xq + (size_t)(t0 + t) * k + (size_t)tile * 64);
                    int4 xv[4] = {xt[0], xt[1], xt[2], xt[3]};
                    int dot = tile_dot(wv[u], xv);
                    if (BLOCK_SCALES) {
                        // tile 0 of the super-chunk also takes the x-sum correction of its 256 columns
                        if ((lane >> 3) == 0) dot -= x_block_sum[(size_t)(t0 + t) * n_super + sc];
                        acc[t] += w_scales[(size_t)row * n_super + sc] * (float)dot;
                    } else {
                        acc[t] += dot;
                    }
                }
            }
        }
        // lanes l, l+8, l+16, l+24 hold the same row
#pragma unroll
        for (int t = 0; t < MT; t++) {
            acc[t] += __shfl_xor_sync(0xffffffffu, acc[t], 8);
            acc[t] += __shfl_xor_sync(0xffffffffu, acc[t], 16);
        }
        __syncthreads();   // the previous pass may still read `partial`
        if (lane < 8)
#pragma unroll
            for (int t = 0; t < MT; t++) partial[warp][lane][t] = acc[t];
        __syncthreads();
        if (threadIdx.x < 8 * MT) {
            const int r = threadIdx.x & 7, t = threadIdx.x >> 3, out_row = group * 8 + r, tok = t0 + t;
            if (out_row < n && tok < m) {
                acc_t total = 0;
#pragma unroll
                for (int w = 0; w < GEMV_WARPS; w++) total += partial[w][r][t];
                float v;
                if (BLOCK_SCALES) v = (float)total / x_scale[tok];
                else v = bt_tern_row_value((int)total, x_sum[tok], w_scales[out_row], x_scale[tok]);
                bt_tern_store(y + (size_t)tok * n + out_row, v, accumulate);
            }
        }
    }
}

template <int MT, bool BLOCK_SCALES>
static int launch_gemv(float *y, bt_cuda_q8 x, const bt_cuda_ternary *w, int m, int accumulate, bt_cuda_queue q,
                       char *err) {
    const uint8_t *codes = (const uint8_t *)w->data;
    const float *scales = (const float *)(codes + bt_tern_scale_offset(w->n, w->k));
    unsigned groups = (unsigned)(bt_tern_rows_padded(w->n) / 8);
    return bt_cuda_launch(q, dim3(groups), dim3(GEMV_WARPS * 32), 0, "ternary gemv", err,
                          tern_gemv_kernel<MT, BLOCK_SCALES>, y, (const int8_t *)x.q, (const float *)x.scale,
                          (const int32_t *)x.sum, (const int32_t *)x.block_sum, codes, scales, w->n, w->k, m,
                          accumulate);
}

int bt_tern_gemv_tiled(float *y, bt_cuda_q8 x, const bt_cuda_ternary *w, int m, int accumulate, bt_cuda_queue q,
                       char *err) {
    if (w->block_scales) {
        if (m == 1) return launch_gemv<1, true>(y, x, w, m, accumulate, q, err);
        if (m == 2) return launch_gemv<2, true>(y, x, w, m, accumulate, q, err);
        return launch_gemv<4, true>(y, x, w, m, accumulate, q, err);
    }
    if (m == 1) return launch_gemv<1, false>(y, x, w, m, accumulate, q, err);
    if (m == 2) return launch_gemv<2, false>(y, x, w, m, accumulate, q, err);
    return launch_gemv<4, false>(y, x, w, m, accumulate, q, err);
}
