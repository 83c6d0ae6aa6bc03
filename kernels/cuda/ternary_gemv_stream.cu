// ternary_gemv_stream.cu - the streaming ternary GEMV for decoding: y_i[t, :] = W_i . x[t, :]
// for up to four row-scaled matrices that read the same activations (q, k and v; gate
// and up) in one launch.
//
// Work: a warp takes one slice of one 8-row group, a run of 64-column tiles (the
// group's tiles split evenly over `slices` warps). Each step reads 4 tiles, 512
// contiguous bytes: lane l gets row l%8 of tile l/8 (16 bytes). A lane issues the
// loads of all its steps (up to STREAM_STEPS) before it waits for the previous
// kernel (PDL), so its slice streams in while that kernel ends; with early launch the
// next kernel is let in at the same point and its weights stream while this one
// computes. After the wait the block copies the activations of up to MT tokens into
// shared memory (asynchronous 16-byte copies, all in flight at once), and every lane
// works from registers and shared memory.
//
// Decoding: the bytes of a word masked with 0x03030303 << 2j are the codes of
// columns 16q + 4j .. +3 shifted left by 2j; dp4a with unsigned a adds 4^j times
// their dot product, so the shift is saved. Each token keeps four accumulators,
// combined exactly at the end (accumulator j is a multiple of 4^j). The lanes of one
// row (l, l+8, l+16, l+24) add by shuffles, the warps of a row group through shared
// memory, and the value is ((float)(acc - x_sum) * w_scale) / x_scale as in
// bt_tern_row_value, so the result is bit-exact against that C expression.
#include <atomic>
#include "launch.cuh"
#include "ptx.cuh"
#include "ternary_kernels.cuh"

#define STREAM_STEPS 8        // 4-tile steps a lane holds in registers (32 registers)
#define STREAM_MAX_WARPS 8    // per block
#define STREAM_SMEM_MAX BT_TERN_STREAM_MAX_K   // activations of one pass, MT * k bytes

// The matrices of one launch; group_end[i]: row groups of matrices 0..i.
struct stream_mats {
    const int4 *codes[BT_TERN_STREAM_MAX_MATS];
    const float *scales[BT_TERN_STREAM_MAX_MATS];
    float *y[BT_TERN_STREAM_MAX_MATS];
    int n[BT_TERN_STREAM_MAX_MATS];
    int group_end[BT_TERN_STREAM_MAX_MATS];
    int count;
};

// Loads steps b*STREAM_STEPS .. +STREAM_STEPS-1 of this lane's slice (zeros past its end).
__device__ __forceinline__ void load_steps(int4 (&wv)[STREAM_STEPS], const int4 *w_lane, int batch, int steps,
                                           int lane_tile0, int tile_end) {
#pragma unroll
    for (int s = 0; s < STREAM_STEPS; s++) {
        const int st = batch * STREAM_STEPS + s;
        wv[s] = st < steps && lane_tile0 + 4 * st < tile_end ? __ldg(w_lane + (size_t)st * 32) : make_int4(0, 0, 0, 0);
    }
}

// Copies n 16-byte pieces of activations to shared memory, all in flight at once
// (asynchronous copies, no registers); a barrier must follow.
__device__ __forceinline__ void stage_activations(int4 *x_s, const int4 *x, int n) {
    for (int i = threadIdx.x; i < n; i += blockDim.x) bt_cp_async16(x_s + i, x + i, 1);
    bt_cp_async_commit();
    bt_cp_async_wait<0>();
}

// acc[t][j] += the codes of one 16-byte tile row (masked per j) . 64 activations of token t.
template <int MT>
__device__ __forceinline__ void tile_row_dot(int (&acc)[MT][4], const int4 &wv, const int4 *x_tile /* token 0 */,
                                             int x_vecs, int mt) {
    const unsigned w[4] = {(unsigned)wv.x, (unsigned)wv.y, (unsigned)wv.z, (unsigned)wv.w};
    unsigned mw[4][4];
#pragma unroll
    for (int q = 0; q < 4; q++)
#pragma unroll
        for (int j = 0; j < 4; j++) mw[q][j] = w[q] & (0x03030303u << (2 * j));
#pragma unroll
    for (int t = 0; t < MT; t++) {
        if (t >= mt) continue;
#pragma unroll
        for (int q = 0; q < 4; q++) {
            const int4 xv = x_tile[(size_t)t * x_vecs + q];
            acc[t][0] = bt_dp4a_us(mw[q][0], xv.x, acc[t][0]);
            acc[t][1] = bt_dp4a_us(mw[q][1], xv.y, acc[t][1]);
            acc[t][2] = bt_dp4a_us(mw[q][2], xv.z, acc[t][2]);
            acc[t][3] = bt_dp4a_us(mw[q][3], xv.w, acc[t][3]);
        }
    }
}

// MT: tokens per pass (1, 2, 4 or 8).
template <int MT>
__global__ void __launch_bounds__(STREAM_MAX_WARPS * 32)
tern_gemv_stream_kernel(stream_mats mats, const int8_t *xq /* [m, k] */, const float *x_scale /* [m] */,
                        const int32_t *x_sum /* [m] */, int k, int m, int slices, int accumulate, int early_launch) {
    extern __shared__ int4 x_s[];                      // [MT, k/16] this pass's activations
    __shared__ int partial[STREAM_MAX_WARPS][8][MT];   // per-warp row sums when slices > 1
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int groups_per_block = (int)(blockDim.x >> 5) / slices;
    const int group = blockIdx.x * groups_per_block + warp / slices, slice = warp % slices;
    const int n_tiles = k >> 6, x_vecs = k >> 4;

    int mat = 0;
    while (mat + 1 < mats.count && group >= mats.group_end[mat]) mat++;
    const bool active = group < mats.group_end[mats.count - 1];
    const int local_group = group - (mat ? mats.group_end[mat - 1] : 0);
    const int row = local_group * 8 + (lane & 7);
    const bool writes = active && slice == 0 && lane < 8 && row < mats.n[mat];
    const int per_slice = (n_tiles + slices - 1) / slices;
    const int tile_begin = min(n_tiles, slice * per_slice);
    const int tile_end = active ? min(n_tiles, tile_begin + per_slice) : tile_begin;
    const int steps = (tile_end - tile_begin + 3) >> 2;
    const int lane_tile0 = tile_begin + (lane >> 3);
    const int4 *w_lane = mats.codes[mat] + ((size_t)local_group * n_tiles + lane_tile0) * 8 + (lane & 7);

    // Constant data first: the weights of the slice and this row's scale.
    int4 wv[STREAM_STEPS];
    load_steps(wv, w_lane, 0, steps, lane_tile0, tile_end);
    const float w_scale = writes ? __ldg(mats.scales[mat] + row) : 0.0f;
    if (early_launch) bt_grid_dep_launch();
    bt_grid_dep_wait();
    if (!early_launch) bt_grid_dep_launch();

    int loaded = 0;   // the batch of steps in wv
    for (int t0 = 0; t0 < m; t0 += MT) {
        const int mt = min(MT, m - t0);
        if (t0 > 0) __syncthreads();   // the previous pass is done with x_s and partial
        stage_activations(x_s, (const int4 *)(xq + (size_t)t0 * k), mt * x_vecs);
        __syncthreads();

        int acc[MT][4];
#pragma unroll
        for (int t = 0; t < MT; t++)
#pragma unroll
            for (int j = 0; j < 4; j++) acc[t][j] = 0;
        for (int batch = 0; batch * STREAM_STEPS < steps; batch++) {
            if (batch != loaded) {
                load_steps(wv, w_lane, batch, steps, lane_tile0, tile_end);
                loaded = batch;
            }
#pragma unroll
            for (int s = 0; s < STREAM_STEPS; s++) {
                const int tile = lane_tile0 + 4 * (batch * STREAM_STEPS + s);
                if (batch * STREAM_STEPS + s < steps && tile < tile_end)
                    tile_row_dot<MT>(acc, wv[s], x_s + (size_t)tile * 4, x_vecs, mt);
            }
        }

        int dot[MT];
#pragma unroll
        for (int t = 0; t < MT; t++) {
            dot[t] = acc[t][0] + (acc[t][1] >> 2) + (acc[t][2] >> 4) + (acc[t][3] >> 6);
            dot[t] += __shfl_xor_sync(0xffffffffu, dot[t], 8);
            dot[t] += __shfl_xor_sync(0xffffffffu, dot[t], 16);
        }
        if (slices > 1) {
            if (lane < 8)
#pragma unroll
                for (int t = 0; t < MT; t++) partial[warp][lane][t] = dot[t];
            __syncthreads();
            if (slice == 0 && lane < 8)
                for (int s = 1; s < slices; s++)
#pragma unroll
                    for (int t = 0; t < MT; t++) dot[t] += partial[warp + s][lane][t];
        }
        if (writes)
#pragma unroll
            for (int t = 0; t < MT; t++) {
                if (t >= mt) continue;
                const int tok = t0 + t;
                const float v = bt_tern_row_value(dot[t], x_sum[tok], w_scale, x_scale[tok]);
                bt_tern_store(mats.y[mat] + (size_t)tok * mats.n[mat] + row, v, accumulate);
            }
    }
}

// Multiprocessors of a device (cached; 1 when the query fails).
static int sm_count(int dev) {
    static std::atomic<int> cache[64];
    if (dev < 0 || dev >= 64) return 1;
    int n = cache[dev].load();
    if (n == 0) {
        if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess || n < 1) {
            cudaGetLastError();
            n = 1;
        }
        cache[dev].store(n);
    }
    return n;
}

// Warps per row group: enough that a slice's loads fit STREAM_STEPS, then more while the
// launch has fewer than 4 warps per SM and slices keep at least 4 tiles (one full step).
static int auto_slices(int n_tiles, int groups, int sms) {
    int s = 1;
    while (s < 8 && (n_tiles + s - 1) / s > 4 * STREAM_STEPS) s *= 2;
    while (s < 8 && (int64_t)groups * s < 4 * (int64_t)sms && n_tiles / (2 * s) >= 4) s *= 2;
    return s;
}

// Tokens per pass: all of m up to 8 (rounded up to 1, 2, 4, 8) while MT * k fits shared memory.
static int tokens_per_pass(int m, int k) {
    int mt = m <= 1 ? 1 : m == 2 ? 2 : m <= 4 ? 4 : 8;
    while (mt > 1 && mt * k > STREAM_SMEM_MAX) mt /= 2;
    return mt;
}

template <int MT>
static int launch_stream(const stream_mats &mats, bt_cuda_q8 x, int k, int m, int slices, int block_warps,
                         int accumulate, int early_launch, bt_cuda_queue q, char *err) {
    const int groups = mats.group_end[mats.count - 1], groups_per_block = block_warps / slices;
    const unsigned blocks = (unsigned)((groups + groups_per_block - 1) / groups_per_block);
    return bt_cuda_launch(q, dim3(blocks), dim3((unsigned)block_warps * 32), (size_t)MT * k, "ternary gemv (stream)",
                          err, tern_gemv_stream_kernel<MT>, mats, (const int8_t *)x.q, (const float *)x.scale,
                          (const int32_t *)x.sum, k, m, slices, accumulate, early_launch);
}

int bt_tern_gemv_stream(float *const *y, bt_cuda_q8 x, const bt_cuda_ternary *w, int count, int m, int accumulate,
                        bt_tern_stream_plan plan, bt_cuda_queue q, char *err) {
    stream_mats mats = {};
    int groups = 0;
    for (int i = 0; i < count; i++) {
        const uint8_t *codes = (const uint8_t *)w[i].data;
        mats.codes[i] = (const int4 *)codes;
        mats.scales[i] = (const float *)(codes + bt_tern_scale_offset(w[i].n, w[i].k));
        mats.y[i] = y[i];
        mats.n[i] = w[i].n;
        groups += bt_tern_rows_padded(w[i].n) / 8;
        mats.group_end[i] = groups;
    }
    mats.count = count;
    const int k = w[0].k;
    int slices = plan.slices;
    if (slices != 1 && slices != 2 && slices != 4 && slices != 8) slices = auto_slices(k / 64, groups, sm_count(q.dev));
    int block_warps = plan.block_warps > 0 ? plan.block_warps : 4;
    block_warps = block_warps > STREAM_MAX_WARPS ? STREAM_MAX_WARPS : block_warps < slices ? slices : block_warps;
    block_warps -= block_warps % slices;
    switch (tokens_per_pass(m, k)) {
        case 1: return launch_stream<1>(mats, x, k, m, slices, block_warps, accumulate, plan.early_launch, q, err);
        case 2: return launch_stream<2>(mats, x, k, m, slices, block_warps, accumulate, plan.early_launch, q, err);
        case 4: return launch_stream<4>(mats, x, k, m, slices, block_warps, accumulate, plan.early_launch, q, err);
        default: return launch_stream<8>(mats, x, k, m, slices, block_warps, accumulate, plan.early_launch, q, err);
    }
}
