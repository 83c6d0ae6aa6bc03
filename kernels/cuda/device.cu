// device.cu - device queries, copies and the process-wide tuning switches.
#include <atomic>
#include <stdlib.h>
#include <string.h>
#include "common.cuh"

#define BT_CUDA_MAX_DEVICES 64

int bt_cuda_arch(int dev) {
    static std::atomic<int> cache[BT_CUDA_MAX_DEVICES];   // 0: not asked yet
    if (dev < 0 || dev >= BT_CUDA_MAX_DEVICES) return 0;
    int a = cache[dev].load();
    if (a == 0) {
        int major = 0, minor = 0;
        if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
            cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess) {
            cudaGetLastError();
            return 0;
        }
        a = major * 10 + minor;
        cache[dev].store(a);
    }
    return a;
}

extern "C" int bt_cuda_count(int *n, char *err) {
    *n = 0;
    cudaError_t e = cudaGetDeviceCount(n);
    if (e != cudaSuccess) { *n = 0; return bt_cuda_fail(e, "cudaGetDeviceCount", err); }
    return 0;
}

extern "C" int bt_cuda_mem_info(int dev, size_t *free_bytes, size_t *total_bytes, char *err) {
    BT_CUDA_CHECK(cudaSetDevice(dev), "cudaSetDevice");
    BT_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
    return 0;
}

extern "C" int bt_cuda_device_describe(int dev, char *out, size_t cap, char *err) {
    cudaDeviceProp p;
    BT_CUDA_CHECK(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
    snprintf(out, cap, "%s (sm_%d%d, %.1f GiB, %d SMs, %d MiB L2)", p.name, p.major, p.minor,
             (double)p.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), p.multiProcessorCount,
             p.l2CacheSize >> 20);
    return 0;
}

static int copy_kind(int kind, cudaMemcpyKind *out, char *err) {
    static const cudaMemcpyKind kinds[3] = {cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice};
    if (kind < 0 || kind > 2) return bt_cuda_bad_arg(err, "CUDA copy: kind %d (expected 0, 1 or 2)", kind);
    *out = kinds[kind];
    return 0;
}

extern "C" int bt_cuda_memcpy(int dev, void *dst, const void *src, size_t nbytes, int kind, char *err) {
    cudaMemcpyKind k = cudaMemcpyDefault;
    if (copy_kind(kind, &k, err)) return -1;
    if (nbytes == 0) return 0;
    BT_CUDA_CHECK(cudaSetDevice(dev), "cudaSetDevice");
    BT_CUDA_CHECK(cudaMemcpy(dst, src, nbytes, k), "cudaMemcpy");
    return 0;
}

extern "C" int bt_cuda_memcpy_async(void *dst, const void *src, size_t nbytes, int kind, bt_cuda_queue q, char *err) {
    cudaMemcpyKind k = cudaMemcpyDefault;
    if (copy_kind(kind, &k, err) || bt_cuda_enter(q, err)) return -1;
    if (nbytes == 0) return 0;
    BT_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, k, (cudaStream_t)q.stream), "cudaMemcpyAsync");
    return 0;
}

extern "C" int bt_cuda_memset_async(void *dst, int byte, size_t nbytes, bt_cuda_queue q, char *err) {
    if (bt_cuda_enter(q, err)) return -1;
    if (nbytes == 0) return 0;
    BT_CUDA_CHECK(cudaMemsetAsync(dst, byte, nbytes, (cudaStream_t)q.stream), "cudaMemsetAsync");
    return 0;
}

extern "C" int bt_cuda_synchronize(int dev, char *err) {
    BT_CUDA_CHECK(cudaSetDevice(dev), "cudaSetDevice");
    BT_CUDA_CHECK(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    return 0;
}

// ---- tuning ---------------------------------------------------------------------

static int env_flag(const char *name, int fallback) {
    const char *v = getenv(name);
    if (!v || !*v) return fallback;
    return strcmp(v, "0") != 0 && strcmp(v, "off") != 0;
}

static std::atomic<int> tuning_pdl{-1}, tuning_mma{-1};   // -1: not read from the environment yet

extern "C" bt_cuda_tuning bt_cuda_tuning_get(void) {
    if (tuning_pdl.load() < 0) tuning_pdl.store(env_flag("BITTTT_CUDA_PDL", 0));
    if (tuning_mma.load() < 0) tuning_mma.store(env_flag("BITTTT_CUDA_MMA", 1));
    bt_cuda_tuning t;
    t.pdl = tuning_pdl.load();
    t.ternary_mma = tuning_mma.load();
    return t;
}

extern "C" void bt_cuda_tuning_set(bt_cuda_tuning t) {
    tuning_pdl.store(t.pdl ? 1 : 0);
    tuning_mma.store(t.ternary_mma ? 1 : 0);
}

int bt_cuda_pdl_active(int dev) {
    return bt_cuda_tuning_get().pdl && bt_cuda_arch(dev) >= 90;
}
