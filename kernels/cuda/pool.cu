// pool.cu - the device memory allocator: one caching pool per device.
//
// A request is rounded up to its size class (8 classes per power of two, at least
// 512 bytes); a freed block goes to its class's free list and serves the next
// request of that class without cudaMalloc. On out-of-memory the device's cached
// blocks are released and cudaMalloc is tried once more.
#include <mutex>
#include <unordered_map>
#include <vector>
#include "common.cuh"

#define BT_CUDA_POOL_DEVICES 64

namespace {

struct Pool {
    std::mutex lock;
    std::unordered_map<size_t, std::vector<void *>> free_lists;   // class bytes -> cached blocks
    std::unordered_map<void *, size_t> live;                      // block -> class bytes
    size_t in_use = 0, cached = 0;
};

Pool pools[BT_CUDA_POOL_DEVICES];

size_t size_class(size_t nbytes) {
    if (nbytes <= 512) return 512;
    int e = 63 - __builtin_clzll((unsigned long long)nbytes);   // 2^e <= nbytes < 2^(e+1)
    size_t step = (size_t)1 << (e - 3);
    return (nbytes + step - 1) / step * step;
}

// Frees every cached block of a pool whose lock is held.
cudaError_t release_cached(Pool &p) {
    cudaError_t first = cudaSuccess;
    for (auto &entry : p.free_lists) {
        for (void *block : entry.second) {
            cudaError_t e = cudaFree(block);
            if (e != cudaSuccess && first == cudaSuccess) first = e;
        }
    }
    p.free_lists.clear();
    p.cached = 0;
    return first;
}

int check_device(int dev, char *err) {
    if (dev < 0 || dev >= BT_CUDA_POOL_DEVICES)
        return bt_cuda_bad_arg(err, "CUDA pool: device %d out of range 0..%d", dev, BT_CUDA_POOL_DEVICES - 1);
    return 0;
}

}  // namespace

extern "C" int bt_cuda_malloc(int dev, size_t nbytes, void **out, char *err) {
    *out = NULL;
    if (check_device(dev, err)) return -1;
    BT_CUDA_CHECK(cudaSetDevice(dev), "cudaSetDevice");
    Pool &p = pools[dev];
    size_t cls = size_class(nbytes);
    std::lock_guard<std::mutex> guard(p.lock);
    auto it = p.free_lists.find(cls);
    if (it != p.free_lists.end() && !it->second.empty()) {
        *out = it->second.back();
        it->second.pop_back();
        p.cached -= cls;
    } else {
        cudaError_t e = cudaMalloc(out, cls);
        if (e == cudaErrorMemoryAllocation && p.cached > 0) {
            cudaGetLastError();
            release_cached(p);
            e = cudaMalloc(out, cls);
        }
        if (e != cudaSuccess) {
            *out = NULL;
            char what[96];
            snprintf(what, sizeof what, "cudaMalloc(%zu bytes) on device %d", cls, dev);
            return bt_cuda_fail(e, what, err);
        }
    }
    p.live[*out] = cls;
    p.in_use += cls;
    return 0;
}

extern "C" int bt_cuda_free(int dev, void *ptr, char *err) {
    if (!ptr) return 0;
    if (check_device(dev, err)) return -1;
    Pool &p = pools[dev];
    std::lock_guard<std::mutex> guard(p.lock);
    auto it = p.live.find(ptr);
    if (it == p.live.end())
        return bt_cuda_bad_arg(err, "CUDA pool: %p was not allocated on device %d (or was freed twice)", ptr, dev);
    size_t cls = it->second;
    p.live.erase(it);
    p.in_use -= cls;
    p.free_lists[cls].push_back(ptr);
    p.cached += cls;
    return 0;
}

extern "C" int bt_cuda_pool_trim(int dev, char *err) {
    if (check_device(dev, err)) return -1;
    BT_CUDA_CHECK(cudaSetDevice(dev), "cudaSetDevice");
    Pool &p = pools[dev];
    std::lock_guard<std::mutex> guard(p.lock);
    BT_CUDA_CHECK(release_cached(p), "cudaFree (pool trim)");
    return 0;
}

extern "C" int bt_cuda_pool_stats(int dev, size_t *in_use, size_t *cached, char *err) {
    *in_use = *cached = 0;
    if (check_device(dev, err)) return -1;
    Pool &p = pools[dev];
    std::lock_guard<std::mutex> guard(p.lock);
    *in_use = p.in_use;
    *cached = p.cached;
    return 0;
}
