// launch.cuh - the one way the backend launches kernels: on a queue's stream,
// with the programmatic-dependent-launch attribute when tuning enables it, the
// device is sm_90+ and the stream is a created one (not the legacy default
// stream), and with the launch error checked.
#ifndef BT_CUDA_LAUNCH_CUH
#define BT_CUDA_LAUNCH_CUH
#include "common.cuh"

// 1 when kernels on this device launch with PDL (tuning.pdl and sm_90+).
int bt_cuda_pdl_active(int dev);

// Launches kernel<<<grid, block, smem, q.stream>>>(args...); returns 0 or -1 with "CUDA <what>: ...".
template <typename... Params, typename... Args>
static int bt_cuda_launch(bt_cuda_queue q, dim3 grid, dim3 block, size_t smem, const char *what, char *err,
                          void (*kernel)(Params...), Args... args) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = (cudaStream_t)q.stream;
    cudaLaunchAttribute attr[1];
    if (q.stream && bt_cuda_pdl_active(q.dev)) {
        attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
        attr[0].val.programmaticStreamSerializationAllowed = 1;
        cfg.attrs = attr;
        cfg.numAttrs = 1;
    }
    cudaError_t e = cudaLaunchKernelEx(&cfg, kernel, ((Params)args)...);
    if (e == cudaSuccess) e = cudaGetLastError();
    if (e != cudaSuccess) return bt_cuda_fail(e, what, err);
    return 0;
}

#endif
