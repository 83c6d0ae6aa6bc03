// ternary_gemv_select.cu - which ternary GEMV runs (the process-wide bt_cuda_gemv_tuning)
// and bt_cuda_ternary_matmul_group, several matrices that read the same activations
// in one launch.
#include <atomic>
#include <stdlib.h>
#include <string.h>
#include "ternary_kernels.cuh"

// ---- tuning -------------------------------------------------------------------------

static std::atomic<int> gemv_kernel{-1};   // -1: not read from the environment yet
static std::atomic<int> gemv_slices{0}, gemv_block_warps{0}, gemv_early_launch{1};

extern "C" bt_cuda_gemv_tuning bt_cuda_gemv_tuning_get(void) {
    if (gemv_kernel.load() < 0) {
        const char *v = getenv("BITTTT_CUDA_GEMV");
        gemv_kernel.store(v && (strcmp(v, "0") == 0 || strcmp(v, "tiled") == 0) ? BT_CUDA_GEMV_TILED
                                                                                : BT_CUDA_GEMV_STREAM);
    }
    bt_cuda_gemv_tuning t;
    t.kernel = gemv_kernel.load();
    t.slices = gemv_slices.load();
    t.block_warps = gemv_block_warps.load();
    t.early_launch = gemv_early_launch.load();
    return t;
}

extern "C" void bt_cuda_gemv_tuning_set(bt_cuda_gemv_tuning t) {
    gemv_kernel.store(t.kernel == BT_CUDA_GEMV_TILED ? BT_CUDA_GEMV_TILED : BT_CUDA_GEMV_STREAM);
    gemv_slices.store(t.slices);
    gemv_block_warps.store(t.block_warps);
    gemv_early_launch.store(t.early_launch ? 1 : 0);
}

static bt_tern_stream_plan stream_plan(bt_cuda_gemv_tuning t) {
    bt_tern_stream_plan p;
    p.slices = t.slices;
    p.block_warps = t.block_warps;
    p.early_launch = t.early_launch;
    return p;
}

int bt_tern_gemv(float *y, bt_cuda_q8 x, const bt_cuda_ternary *w, int m, int accumulate, bt_cuda_queue q,
                 char *err) {
    const bt_cuda_gemv_tuning t = bt_cuda_gemv_tuning_get();
    if (t.kernel == BT_CUDA_GEMV_STREAM && bt_tern_stream_fits(w))
        return bt_tern_gemv_stream(&y, x, w, 1, m, accumulate, stream_plan(t), q, err);
    return bt_tern_gemv_tiled(y, x, w, m, accumulate, q, err);
}

// ---- grouped matmul ---------------------------------------------------------------------

// The checks of bt_cuda_ternary_matmul, for every matrix of a group (same k).
static int check_group(float *const *y, bt_cuda_q8 x, const bt_cuda_ternary *w, int count, int m, char *err) {
    if (count < 1 || count > BT_TERN_STREAM_MAX_MATS || !y || !w)
        return bt_cuda_bad_arg(err, "CUDA ternary matmul group: %d matrices (1 to %d, with y and w arrays)", count,
                               BT_TERN_STREAM_MAX_MATS);
    for (int i = 0; i < count; i++) {
        if (!w[i].data || w[i].n <= 0 || w[i].k <= 0 || w[i].k % BT_TERN_TILE_COLS != 0 || w[i].k != w[0].k)
            return bt_cuda_bad_arg(err, "CUDA ternary matmul group: matrix %d is missing or [%d, %d] (k: a multiple "
                                   "of 64, the same for all, %d for matrix 0)", i, w[i].n, w[i].k, w[0].k);
        if (!y[i]) return bt_cuda_bad_arg(err, "CUDA ternary matmul group: y[%d] is NULL", i);
        if ((uintptr_t)w[i].data % 16 != 0)
            return bt_cuda_bad_arg(err, "CUDA ternary matmul group: matrix %d is not 16-byte aligned", i);
    }
    if (m < 0) return bt_cuda_bad_arg(err, "CUDA ternary matmul group: m = %d", m);
    if (!x.q || !x.scale || !x.sum)
        return bt_cuda_bad_arg(err, "CUDA ternary matmul group: x.q, x.scale and x.sum must be device pointers");
    if ((uintptr_t)x.q % 16 != 0) return bt_cuda_bad_arg(err, "CUDA ternary matmul group: x.q must be 16-byte aligned");
    return 0;
}

extern "C" int bt_cuda_ternary_matmul_group(float *const *y, bt_cuda_q8 x, const bt_cuda_ternary *w, int count, int m,
                                            int accumulate, bt_cuda_queue q, char *err) {
    if (check_group(y, x, w, count, m, err)) return -1;
    if (m == 0) return 0;
    const bt_cuda_gemv_tuning t = bt_cuda_gemv_tuning_get();
    int one_launch = t.kernel == BT_CUDA_GEMV_STREAM &&
                     (m <= BT_TERN_GEMV_MAX_M || !bt_cuda_tuning_get().ternary_mma || bt_cuda_arch(q.dev) < 80);
    for (int i = 0; i < count; i++) one_launch = one_launch && bt_tern_stream_fits(&w[i]);
    if (one_launch) {
        if (bt_cuda_enter(q, err)) return -1;
        return bt_tern_gemv_stream(y, x, w, count, m, accumulate, stream_plan(t), q, err);
    }
    for (int i = 0; i < count; i++)
        if (bt_cuda_ternary_matmul(y[i], x, &w[i], m, accumulate, q, err)) return -1;
    return 0;
}
