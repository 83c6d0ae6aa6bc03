// elementwise.cu - element-by-element kernels (activations, gated products,
// add, broadcast multiply, axpy) and embedding-row gathers. Grid-stride loops.
#include <cuda_fp16.h>
#include "launch.cuh"
#include "ptx.cuh"

#define EW_THREADS 256
#define EW_MAX_BLOCKS 65535u

// act was checked on the host (check_act): SiLU or ReLU^2.
__device__ __forceinline__ float activate(float v, bt_op_activation act) {
    if (act == BT_OP_SILU) return v / (1.0f + expf(-v));
    float r = fmaxf(v, 0.0f);
    return r * r;
}

#define GRID_STRIDE(i, n) \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

__global__ void activate_kernel(float *out, const float *x, int64_t n, bt_op_activation act) {
    bt_grid_dep_begin();
    GRID_STRIDE(i, n) out[i] = activate(x[i], act);
}

__global__ void gated_kernel(float *out, const float *gate, const float *up, int64_t n, bt_op_activation act) {
    bt_grid_dep_begin();
    GRID_STRIDE(i, n) out[i] = activate(gate[i], act) * up[i];
}

__global__ void add_kernel(float *out, const float *a, const float *b, int64_t n) {
    bt_grid_dep_begin();
    GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}

__global__ void mul_kernel(float *out, const float *a, const float *b, int64_t n, int64_t b_n) {
    bt_grid_dep_begin();
    GRID_STRIDE(i, n) out[i] = a[i] * b[b_n == n ? i : i % b_n];
}

__global__ void axpy_kernel(float *y, const float *x, float a, int64_t n) {
    bt_grid_dep_begin();
    GRID_STRIDE(i, n) y[i] += a * x[i];
}

__device__ __forceinline__ float table_value(const uint16_t *t, size_t i) {
    __half_raw raw;
    raw.x = t[i];
    return __half2float(__half(raw));
}
__device__ __forceinline__ float table_value(const float *t, size_t i) { return t[i]; }

template <typename T>
__global__ void embed_kernel(float *out /* [m, d] */, const T *table /* [vocab, d] */, const int32_t *ids, int m,
                             int d, int vocab) {
    bt_grid_dep_begin();
    GRID_STRIDE(i, (int64_t)m * d) {
        const int64_t t = i / d, col = i % d;
        const int32_t id = ids[t];
        out[i] = id >= 0 && id < vocab ? table_value(table, (size_t)id * d + col) : NAN;
    }
}

static dim3 ew_grid(int64_t n) {
    unsigned blocks = bt_cuda_blocks(n, EW_THREADS);
    return dim3(blocks < EW_MAX_BLOCKS ? blocks : EW_MAX_BLOCKS);
}

// Shared checks; returns 1 when there is nothing to do, -1 on error.
static int ew_enter(const char *what, int64_t n, int pointers_ok, bt_cuda_queue q, char *err) {
    if (n < 0) return bt_cuda_bad_arg(err, "CUDA %s: n = %lld", what, (long long)n);
    if (!pointers_ok) return bt_cuda_bad_arg(err, "CUDA %s: arrays must be device pointers, not NULL", what);
    if (n == 0) return 1;
    return bt_cuda_enter(q, err);
}

static int check_act(bt_op_activation act, char *err) {
    switch (act) {
    case BT_OP_SILU:
    case BT_OP_RELU2: return 0;
    }
    return bt_cuda_bad_arg(err, "CUDA activation: %d (expected SiLU 0 or ReLU^2 1)", (int)act);
}

extern "C" int bt_cuda_activate_f32(float *out, const float *x, int64_t n, bt_op_activation act, bt_cuda_queue q, char *err) {
    if (check_act(act, err)) return -1;
    int rc = ew_enter("activate", n, out && x, q, err);
    if (rc) return rc < 0 ? -1 : 0;
    return bt_cuda_launch(q, ew_grid(n), dim3(EW_THREADS), 0, "activate", err, activate_kernel, out, x, n, act);
}

extern "C" int bt_cuda_gated_f32(float *out, const float *gate, const float *up, int64_t n, bt_op_activation act, bt_cuda_queue q,
                                 char *err) {
    if (check_act(act, err)) return -1;
    int rc = ew_enter("gated", n, out && gate && up, q, err);
    if (rc) return rc < 0 ? -1 : 0;
    return bt_cuda_launch(q, ew_grid(n), dim3(EW_THREADS), 0, "gated", err, gated_kernel, out, gate, up, n, act);
}

extern "C" int bt_cuda_add_f32(float *out, const float *a, const float *b, int64_t n, bt_cuda_queue q, char *err) {
    int rc = ew_enter("add", n, out && a && b, q, err);
    if (rc) return rc < 0 ? -1 : 0;
    return bt_cuda_launch(q, ew_grid(n), dim3(EW_THREADS), 0, "add", err, add_kernel, out, a, b, n);
}

extern "C" int bt_cuda_mul_f32(float *out, const float *a, const float *b, int64_t n, int64_t b_n, bt_cuda_queue q,
                               char *err) {
    if (b_n <= 0 || (n > 0 && n % b_n != 0))
        return bt_cuda_bad_arg(err, "CUDA mul: b has %lld values, which must divide n = %lld", (long long)b_n,
                               (long long)n);
    int rc = ew_enter("mul", n, out && a && b, q, err);
    if (rc) return rc < 0 ? -1 : 0;
    return bt_cuda_launch(q, ew_grid(n), dim3(EW_THREADS), 0, "mul", err, mul_kernel, out, a, b, n, b_n);
}

extern "C" int bt_cuda_axpy_f32(int dev, float *y, const float *x, float a, size_t n, char *err) {
    bt_cuda_queue q = {dev, NULL};
    int rc = ew_enter("axpy", (int64_t)n, y && x, q, err);
    if (rc) return rc < 0 ? -1 : 0;
    return bt_cuda_launch(q, ew_grid((int64_t)n), dim3(EW_THREADS), 0, "axpy", err, axpy_kernel, y, x, a, (int64_t)n);
}

template <typename T>
static int embed(float *out, const T *table, const int32_t *ids, int m, int d, int vocab, bt_cuda_queue q, char *err) {
    if (m < 0 || d <= 0 || vocab <= 0)
        return bt_cuda_bad_arg(err, "CUDA embed: m %d, d %d, vocab %d", m, d, vocab);
    int rc = ew_enter("embed", (int64_t)m * d, out && table && ids, q, err);
    if (rc) return rc < 0 ? -1 : 0;
    return bt_cuda_launch(q, ew_grid((int64_t)m * d), dim3(EW_THREADS), 0, "embed", err, embed_kernel<T>, out, table,
                          ids, m, d, vocab);
}

extern "C" int bt_cuda_embed_f16(float *out, const uint16_t *table, const int32_t *ids, int m, int d, int vocab,
                                 bt_cuda_queue q, char *err) {
    return embed(out, table, ids, m, d, vocab, q, err);
}

extern "C" int bt_cuda_embed_f32(float *out, const float *table, const int32_t *ids, int m, int d, int vocab,
                                 bt_cuda_queue q, char *err) {
    return embed(out, table, ids, m, d, vocab, q, err);
}
