// norm.cu - row-wise RMSNorm, LayerNorm and softmax, one block per row.
#include "launch.cuh"
#include "ptx.cuh"

#define NORM_THREADS 256

// out = x / sqrt(mean(x^2) + eps) * w (w NULL: ones). out may be x.
__global__ void __launch_bounds__(NORM_THREADS)
rmsnorm_kernel(float *out /* [m, n] */, const float *x /* [m, n] */, const float *w /* [n] or NULL */, int n,
               float eps) {
    __shared__ float red[32];
    bt_grid_dep_begin();
    const size_t row = blockIdx.x;
    const float *xr = x + row * n;
    float *orow = out + row * n;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) ss += xr[i] * xr[i];
    ss = bt_block_sum(ss, red);
    const float r = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) orow[i] = w ? xr[i] * r * w[i] : xr[i] * r;
}

// out = (x - mean) / sqrt(var + eps) * w + b (w, b NULL: ones, zeros). out may be x.
__global__ void __launch_bounds__(NORM_THREADS)
layernorm_kernel(float *out /* [m, n] */, const float *x /* [m, n] */, const float *w /* [n] or NULL */,
                 const float *b /* [n] or NULL */, int n, float eps) {
    __shared__ float red[32];
    bt_grid_dep_begin();
    const size_t row = blockIdx.x;
    const float *xr = x + row * n;
    float *orow = out + row * n;
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) sum += xr[i];
    const float mean = bt_block_sum(sum, red) / (float)n;
    float ss = 0.0f;   // the second pass keeps the variance exact when the mean is large
    for (int i = threadIdx.x; i < n; i += blockDim.x) ss += (xr[i] - mean) * (xr[i] - mean);
    const float r = 1.0f / sqrtf(bt_block_sum(ss, red) / (float)n + eps);
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = (xr[i] - mean) * r;
        if (w) v *= w[i];
        orow[i] = b ? v + b[i] : v;
    }
}

// out = softmax(x * scale). out may be x.
__global__ void __launch_bounds__(NORM_THREADS)
softmax_kernel(float *out /* [m, n] */, const float *x /* [m, n] */, float scale, int n) {
    __shared__ float red[32];
    bt_grid_dep_begin();
    const size_t row = blockIdx.x;
    const float *xr = x + row * n;
    float *orow = out + row * n;
    float mx = -INFINITY;
    for (int i = threadIdx.x; i < n; i += blockDim.x) mx = fmaxf(mx, xr[i] * scale);
    mx = bt_block_max(mx, red);
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) sum += expf(xr[i] * scale - mx);
    sum = bt_block_sum(sum, red);
    const float inv = 1.0f / sum;
    for (int i = threadIdx.x; i < n; i += blockDim.x) orow[i] = expf(xr[i] * scale - mx) * inv;
}

static int check_rows(const char *what, const void *out, const void *x, int m, int n, char *err) {
    if (m < 0 || n <= 0) return bt_cuda_bad_arg(err, "CUDA %s: shape [%d, %d]", what, m, n);
    if (!out || !x) return bt_cuda_bad_arg(err, "CUDA %s: out and x must be device pointers", what);
    return 0;
}

extern "C" int bt_cuda_rmsnorm_f32(float *out, const float *x, const float *w, int m, int n, float eps,
                                   bt_cuda_queue q, char *err) {
    if (check_rows("rmsnorm", out, x, m, n, err)) return -1;
    if (m == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    return bt_cuda_launch(q, dim3((unsigned)m), dim3(NORM_THREADS), 0, "rmsnorm", err, rmsnorm_kernel, out, x, w, n, eps);
}

extern "C" int bt_cuda_layernorm_f32(float *out, const float *x, const float *w, const float *b, int m, int n,
                                     float eps, bt_cuda_queue q, char *err) {
    if (check_rows("layernorm", out, x, m, n, err)) return -1;
    if (m == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    return bt_cuda_launch(q, dim3((unsigned)m), dim3(NORM_THREADS), 0, "layernorm", err, layernorm_kernel, out, x, w, b,
                          n, eps);
}

extern "C" int bt_cuda_softmax_f32(float *out, const float *x, float scale, int m, int n, bt_cuda_queue q, char *err) {
    if (check_rows("softmax", out, x, m, n, err)) return -1;
    if (m == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    return bt_cuda_launch(q, dim3((unsigned)m), dim3(NORM_THREADS), 0, "softmax", err, softmax_kernel, out, x, scale, n);
}
