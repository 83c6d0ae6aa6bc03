// rope.cu - rotary position embedding in place, one thread per rotated pair.
// The angle pos * theta^(-2i/rot_dim) / freq_factors[i] and its sine and cosine
// are computed in double, so long positions lose no precision; the rotation is f32.
#include "launch.cuh"
#include "ptx.cuh"

__global__ void rope_kernel(float *x /* [m, x_ld] */, const int32_t *pos /* [m] */, const float *freq_factors,
                            int m, int x_ld, int n_head, int head_dim, int rot_dim, double log_theta, int neox) {
    bt_grid_dep_begin();
    const int half = rot_dim / 2;
    const int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (int64_t)m * n_head * half) return;
    const int i = (int)(idx % half);
    const int h = (int)(idx / half % n_head);
    const int t = (int)(idx / ((int64_t)half * n_head));
    double inv_freq = exp(-2.0 * i / rot_dim * log_theta);
    if (freq_factors) inv_freq /= freq_factors[i];
    double s, c;
    sincos((double)pos[t] * inv_freq, &s, &c);
    float *head = x + (size_t)t * x_ld + (size_t)h * head_dim;
    const int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
    const float x0 = head[a], x1 = head[b];
    head[a] = x0 * (float)c - x1 * (float)s;
    head[b] = x1 * (float)c + x0 * (float)s;
}

extern "C" int bt_cuda_rope_f32(float *x, const int32_t *pos, const float *freq_factors, int m, int x_ld, int n_head,
                                int head_dim, int rot_dim, float theta, bt_op_rope_style style, bt_cuda_queue q, char *err) {
    if (m < 0 || n_head <= 0 || head_dim <= 0 || rot_dim <= 0 || rot_dim % 2 || rot_dim > head_dim ||
        x_ld < n_head * head_dim)
        return bt_cuda_bad_arg(err, "CUDA rope: m %d, x_ld %d, n_head %d, head_dim %d, rot_dim %d "
                               "(need even rot_dim <= head_dim and x_ld >= n_head * head_dim)",
                               m, x_ld, n_head, head_dim, rot_dim);
    int neox;
    switch (style) {
    case BT_OP_ROPE_INTERLEAVED: neox = 0; break;
    case BT_OP_ROPE_NEOX: neox = 1; break;
    default: return bt_cuda_bad_arg(err, "CUDA rope: style %d (expected interleaved 0 or NeoX 1)", (int)style);
    }
    if (!(theta > 0.0f)) return bt_cuda_bad_arg(err, "CUDA rope: theta %g must be positive", (double)theta);
    if (!x || !pos) return bt_cuda_bad_arg(err, "CUDA rope: x and pos must be device pointers");
    if (m == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    int64_t pairs = (int64_t)m * n_head * (rot_dim / 2);
    return bt_cuda_launch(q, dim3(bt_cuda_blocks(pairs, 256)), dim3(256), 0, "rope", err, rope_kernel, x, pos,
                          freq_factors, m, x_ld, n_head, head_dim, rot_dim, log((double)theta),
                          neox);
}
