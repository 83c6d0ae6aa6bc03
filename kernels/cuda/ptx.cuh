// ptx.cuh - every inline-PTX helper of the backend in one place: programmatic
// dependent launch (sm_90), int8 tensor-core mma (sm_80) and asynchronous
// global->shared copies (sm_80). On older targets each helper compiles to a
// plain equivalent or to nothing (the host never launches those paths there).
#ifndef BT_CUDA_PTX_CUH
#define BT_CUDA_PTX_CUH
#include <cuda_runtime.h>

// Programmatic dependent launch. A kernel launched with the PDL attribute may start
// while the previous kernel of its stream still runs; it must call bt_grid_dep_wait()
// before it reads anything an earlier kernel wrote and before it writes anything.
// Loads of read-only data (weights) may come first. Without PDL both are no-ops.
__device__ __forceinline__ void bt_grid_dep_wait(void) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// Lets the next PDL-launched kernel of the stream start. Called right after the wait,
// so at most one kernel runs ahead (its own wait still blocks until this one ends).
__device__ __forceinline__ void bt_grid_dep_launch(void) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Both, for kernels that read only data of earlier kernels.
__device__ __forceinline__ void bt_grid_dep_begin(void) {
    bt_grid_dep_wait();
    bt_grid_dep_launch();
}

// D[16x8] += A[16x32] . B[32x8], int8 in, int32 accumulate (mma.sync m16n8k32).
// Lane l (g = l/4, t = l%4) holds: a0 = A[g][4t..4t+3], a1 = A[g+8][4t..], a2 = A[g][16+4t..],
// a3 = A[g+8][16+4t..]; b0 = B[4t..4t+3][g], b1 = B[16+4t..][g];
// d0,d1 = D[g][2t], D[g][2t+1]; d2,d3 = D[g+8][2t], D[g+8][2t+1].
__device__ __forceinline__ void bt_mma_s8_16x8x32(int (&d)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
                 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
    (void)d; (void)a; (void)b0; (void)b1;
#endif
}

// 16-byte global->shared copy; when `valid` is 0 the 16 shared bytes are zero-filled
// and nothing is read (gmem must still be a mapped address).
__device__ __forceinline__ void bt_cp_async16(void *smem, const void *gmem, int valid) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    int src_bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(s), "l"(gmem), "r"(src_bytes) : "memory");
#else
    *(int4 *)smem = valid ? *(const int4 *)gmem : make_int4(0, 0, 0, 0);
#endif
}

__device__ __forceinline__ void bt_cp_async_commit(void) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.commit_group;" ::: "memory");
#endif
}

// Waits until at most N committed groups are still in flight.
template <int N>
__device__ __forceinline__ void bt_cp_async_wait(void) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
#endif
}

#endif
