// ttt_linear.cu - TTT-Linear on the GPU: the equations, state and arguments of the CPU
// kernels (kernels/cpu/ttt_linear.h), float32 state, one block per head; the inner
// learning rates (bt_ttt_eta) and forgetting (bt_ttt_linear_decay).
//
// Both forms run one kernel that walks the span in chunks of C tokens and applies the
// dual form to each chunk, with the gradient sums G of the tokens before it:
//   Z_j  = [XK_j, 1] W,  g_j = grad(LN, Z_j, XV_j - XK_j)                  (start weights)
//   ZQ_i = [XQ_i, 1] (W - s_i G) - s_i sum_{j<=i in chunk} eta_j (XQ_i . XK_j + 1) g_j
//   out_i = XQ_i + LN(ZQ_i),   then G += sum_j eta_j [XK_j, 1]^T g_j
// and, when the span ends the mini-batch, W -= s_last G and G = 0. With C = 1 this is
// the primal form, token by token (decode); with C = the span, or as much of it as
// fits shared memory, the dual form (prefill). Both compute the same function; the
// chunking changes only the order of float operations.
//
// Thread (c, part) of a block owns rows part, part + P, ... of column c of W and G:
// head_dim columns (rounded up to whole warps) times P parts, about 256 threads, so a
// pass over the state has P loads in flight per column. Products along a column are
// summed over the parts through shared memory in a fixed order; updates of W and G
// are elementwise, so no two threads ever touch the same state. The LayerNorms of a
// chunk's tokens go to one warp each, with sums in double as in the CPU kernels.
#include "launch.cuh"
#include "ptx.cuh"

#define TTT_SMEM_FLOATS 12288   // 48 KiB: [4, C, d] activations and gradients, [C, C] dots, [C] rates, partial sums
#define TTT_REG_TOKENS 8        // tokens per pass over a column of W (register accumulators)
#define TTT_MAX_HEAD_DIM 512    // at least one thread per column
#define TTT_THREADS 256         // threads per block aimed at: columns x parts
#define TTT_MAX_PARTS 8

struct ttt_args {
    float *out, *weights, *grads;
    const float *xq, *xk, *xv, *eta, *token_scale, *ln_w, *ln_b;
    int64_t row_stride;
    int first, n_tok, mini_batch, n_head, d, chunk, parts;
    float eps;
};

// Threads per column: TTT_THREADS over the columns (rounded to whole warps), 1 to TTT_MAX_PARTS.
static int parts_for(int d) {
    const int columns = (d + 31) / 32 * 32, parts = TTT_THREADS / columns;
    return parts < 1 ? 1 : parts > TTT_MAX_PARTS ? TTT_MAX_PARTS : parts;
}

// Shared floats of a chunk: [4, C, d] + [C, C] + [C], and the partial sums [parts - 1, TTT_REG_TOKENS, d].
static size_t chunk_floats(int chunk, int d, int parts) {
    return (size_t)4 * chunk * d + (size_t)chunk * chunk + chunk + (size_t)(parts - 1) * TTT_REG_TOKENS * d;
}

// Largest chunk of tokens whose shared arrays fit TTT_SMEM_FLOATS.
static int max_chunk(int d, int parts) {
    int c = 1;
    while (chunk_floats(c + 1, d, parts) <= TTT_SMEM_FLOATS) c++;
    return c;
}

__device__ __forceinline__ double warp_sum_double(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// mean and 1/sqrt(var + eps) of z [d] (biased variance, sums in double), by one warp.
__device__ void warp_moments(const float *z, int d, float eps, double *mean, double *inv_std) {
    const int lane = threadIdx.x & 31;
    double s = 0.0, ss = 0.0;
    for (int c = lane; c < d; c += 32) s += z[c];
    const double mu = warp_sum_double(s) / d;
    for (int c = lane; c < d; c += 32) ss += (z[c] - mu) * (z[c] - mu);
    *mean = mu;
    *inv_std = 1.0 / sqrt(warp_sum_double(ss) / d + (double)eps);
}

// g = d/dz 1/2 || LN(z) - (xv - xk) ||^2 (bt_ttt_ln_l2_grad), by one warp; g is not z.
__device__ void warp_ln_l2_grad(float *g /* [d] */, const float *z /* [d] */, const float *xv /* [d] */,
                                const float *xk /* [d] */, const float *w, const float *b, int d, float eps) {
    const int lane = threadIdx.x & 31;
    double mean, inv_std;
    warp_moments(z, d, eps, &mean, &inv_std);
    double sum_ge = 0.0, sum_ge_zhat = 0.0;
    for (int c = lane; c < d; c += 32) {
        const float zhat = (float)((z[c] - mean) * inv_std);
        const float ge = (w[c] * zhat + b[c] - (xv[c] - xk[c])) * w[c];
        sum_ge += ge;
        sum_ge_zhat += (double)ge * zhat;
        g[c] = ge;
    }
    sum_ge = warp_sum_double(sum_ge);
    sum_ge_zhat = warp_sum_double(sum_ge_zhat);
    const float k = (float)(inv_std / d);
    for (int c = lane; c < d; c += 32) {
        const float zhat = (float)((z[c] - mean) * inv_std);
        g[c] = k * (float)(d * (double)g[c] - sum_ge - zhat * sum_ge_zhat);
    }
}

// Where a thread works: column c (owns: c < d) and rows part, part + parts, ...
struct ttt_lane {
    int c, part, parts;
    bool owns;
};

// Column c of out[j] (+)= [a_j x_j, a_j] A for the K rows x_j of x, A [d + 1, d] (bias in
// row d); a_j = 1, or -s[j] when s is given. Every thread of the block calls it (it has
// barriers); the parts of a column add their rows through `partial` in part order.
__device__ void add_affine_column(float *out /* [K, d] */, const float *x /* [K, d] */, const float *A,
                                  const float *s /* [K] or NULL */, int K, int d, ttt_lane t, bool accumulate,
                                  float *partial /* [parts - 1, TTT_REG_TOKENS, d] */) {
    for (int j0 = 0; j0 < K; j0 += TTT_REG_TOKENS) {
        float acc[TTT_REG_TOKENS], a[TTT_REG_TOKENS];
#pragma unroll
        for (int jj = 0; jj < TTT_REG_TOKENS; jj++) {
            acc[jj] = 0.0f;
            a[jj] = j0 + jj < K && s ? -s[j0 + jj] : 1.0f;
        }
        if (t.owns) {
#pragma unroll 4
            for (int r = t.part; r < d; r += t.parts) {
                const float w = A[(size_t)r * d + t.c];
#pragma unroll
                for (int jj = 0; jj < TTT_REG_TOKENS; jj++)
                    if (j0 + jj < K) acc[jj] = fmaf(a[jj] * x[(j0 + jj) * d + r], w, acc[jj]);
            }
        }
        if (t.parts > 1) {
            if (t.owns && t.part > 0)
#pragma unroll
                for (int jj = 0; jj < TTT_REG_TOKENS; jj++)
                    partial[((t.part - 1) * TTT_REG_TOKENS + jj) * d + t.c] = acc[jj];
            __syncthreads();
            if (t.owns && t.part == 0)
                for (int p = 1; p < t.parts; p++)
#pragma unroll
                    for (int jj = 0; jj < TTT_REG_TOKENS; jj++)
                        acc[jj] += partial[((p - 1) * TTT_REG_TOKENS + jj) * d + t.c];
            __syncthreads();   // partial is free for the next tile
        }
        if (t.owns && t.part == 0) {
            const float bias = A[(size_t)d * d + t.c];
#pragma unroll
            for (int jj = 0; jj < TTT_REG_TOKENS; jj++) {
                if (j0 + jj >= K) continue;
                float *o = out + (j0 + jj) * d + t.c;
                *o = fmaf(a[jj], bias, accumulate ? *o + acc[jj] : acc[jj]);
            }
        }
    }
}

__global__ void __launch_bounds__(TTT_MAX_HEAD_DIM) ttt_linear_kernel(ttt_args a) {
    extern __shared__ float ttt_smem[];
    const int d = a.d, C = a.chunk, h = blockIdx.x, columns = blockDim.x / a.parts;
    const int warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    ttt_lane t;
    t.c = threadIdx.x % columns, t.part = threadIdx.x / columns, t.parts = a.parts, t.owns = t.c < d;
    float *xq_s = ttt_smem, *xk_s = xq_s + C * d, *z_s = xk_s + C * d, *g_s = z_s + C * d;   // [C, d] each
    float *dots = g_s + C * d, *eta_s = dots + C * C, *partial = eta_s + C;                 // [C, C], [C], partial sums
    float *W = a.weights + (size_t)h * (d + 1) * d, *G = a.grads + (size_t)h * (d + 1) * d;
    const size_t col = (size_t)h * d;
    const float *ln_w = a.ln_w + col, *ln_b = a.ln_b + col;
    bt_grid_dep_begin();

    for (int c0 = 0; c0 < a.n_tok; c0 += C) {
        const int K = min(C, a.n_tok - c0);
        const float *s = a.token_scale + a.first + c0;   // [K]
        __syncthreads();   // the previous chunk is done with the shared arrays
        for (int idx = threadIdx.x; idx < K * d; idx += blockDim.x) {
            const int j = idx / d;
            const int64_t at = (int64_t)(c0 + j) * a.row_stride + (int64_t)col + (idx - j * d);
            xq_s[idx] = a.xq[at];
            xk_s[idx] = a.xk[at];
        }
        for (int j = threadIdx.x; j < K; j += blockDim.x) eta_s[j] = a.eta[(int64_t)(c0 + j) * a.n_head + h];
        __syncthreads();
        add_affine_column(z_s, xk_s, W, NULL, K, d, t, false, partial);   // Z_j
        __syncthreads();
        for (int j = warp; j < K; j += n_warps)                          // g_j
            warp_ln_l2_grad(g_s + j * d, z_s + j * d, a.xv + (int64_t)(c0 + j) * a.row_stride + col, xk_s + j * d,
                            ln_w, ln_b, d, a.eps);
        for (int idx = threadIdx.x; idx < K * K; idx += blockDim.x) {     // XQ_i . XK_j + 1, j <= i
            const int i = idx / K, j = idx - i * K;
            if (j > i) continue;
            float dot = 0.0f;
            for (int r = 0; r < d; r++) dot = fmaf(xq_s[i * d + r], xk_s[j * d + r], dot);
            dots[idx] = 1.0f + dot;
        }
        __syncthreads();
        add_affine_column(z_s, xq_s, W, NULL, K, d, t, false, partial);   // ZQ_i into z_s
        if (a.first + c0 > 0) add_affine_column(z_s, xq_s, G, s, K, d, t, true, partial);
        if (t.owns && t.part == 0)
            for (int i = 0; i < K; i++) {
                float zq = z_s[i * d + t.c];
                for (int j = 0; j <= i; j++) zq = fmaf(-s[i] * eta_s[j] * dots[i * K + j], g_s[j * d + t.c], zq);
                z_s[i * d + t.c] = zq;
            }
        __syncthreads();
        for (int i = warp; i < K; i += n_warps) {   // out_i = XQ_i + LN(ZQ_i)
            double mean, inv_std;
            const float *zq = z_s + i * d;
            warp_moments(zq, d, a.eps, &mean, &inv_std);
            float *o = a.out + (int64_t)(c0 + i) * a.row_stride + col;
            for (int e = threadIdx.x & 31; e < d; e += 32)
                o[e] = xq_s[i * d + e] + (ln_w[e] * (float)((zq[e] - mean) * inv_std) + ln_b[e]);
        }
        if (t.owns) {   // G += sum_j eta_j [XK_j, 1]^T g_j, rows of this part
#pragma unroll 4
            for (int r = t.part; r <= d; r += t.parts) {
                float gr = G[(size_t)r * d + t.c];
                for (int j = 0; j < K; j++)
                    gr = fmaf(eta_s[j] * (r < d ? xk_s[j * d + r] : 1.0f), g_s[j * d + t.c], gr);
                G[(size_t)r * d + t.c] = gr;
            }
        }
    }
    if (t.owns && a.first + a.n_tok == a.mini_batch) {   // commit the mini-batch's step
        const float s_last = a.token_scale[a.mini_batch - 1];
#pragma unroll 4
        for (int r = t.part; r <= d; r += t.parts) {
            W[(size_t)r * d + t.c] = fmaf(-s_last, G[(size_t)r * d + t.c], W[(size_t)r * d + t.c]);
            G[(size_t)r * d + t.c] = 0.0f;
        }
    }
}

static int ttt_linear(const char *what, int primal, float *out, float *weights, float *grads,
                      const bt_cuda_ttt_span *sp, const bt_cuda_ttt_norm *nm, int n_head, int d, bt_cuda_queue q,
                      char *err) {
    if (!sp || !nm || !out || !weights || !grads || !sp->xq || !sp->xk || !sp->xv || !sp->eta || !sp->token_scale ||
        !nm->weight || !nm->bias)
        return bt_cuda_bad_arg(err, "%s: a device pointer is missing", what);
    if (n_head < 1 || d < 1 || d > TTT_MAX_HEAD_DIM)
        return bt_cuda_bad_arg(err, "%s: %d heads of dim %d (1 to %d)", what, n_head, d, TTT_MAX_HEAD_DIM);
    if (sp->first < 0 || sp->n_tok < 0 || sp->mini_batch < 1 || sp->first + sp->n_tok > sp->mini_batch)
        return bt_cuda_bad_arg(err, "%s: span of %d tokens from in-batch index %d does not fit a mini-batch of %d",
                               what, sp->n_tok, sp->first, sp->mini_batch);
    if (sp->row_stride < (int64_t)n_head * d)
        return bt_cuda_bad_arg(err, "%s: row stride %lld is below %d heads x %d", what, (long long)sp->row_stride,
                               n_head, d);
    if (sp->n_tok == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    ttt_args a;
    a.out = out, a.weights = weights, a.grads = grads;
    a.xq = sp->xq, a.xk = sp->xk, a.xv = sp->xv, a.eta = sp->eta, a.token_scale = sp->token_scale;
    a.ln_w = nm->weight, a.ln_b = nm->bias, a.eps = nm->eps;
    a.row_stride = sp->row_stride;
    a.first = sp->first, a.n_tok = sp->n_tok, a.mini_batch = sp->mini_batch, a.n_head = n_head, a.d = d;
    a.parts = parts_for(d);
    a.chunk = primal ? 1 : min(sp->n_tok, max_chunk(d, a.parts));
    const unsigned threads = (unsigned)((d + 31) / 32 * 32 * a.parts);
    return bt_cuda_launch(q, dim3((unsigned)n_head), dim3(threads), sizeof(float) * chunk_floats(a.chunk, d, a.parts),
                          what, err, ttt_linear_kernel, a);
}

extern "C" int bt_cuda_ttt_linear_primal(float *out, float *weights, float *grads, const bt_cuda_ttt_span *span,
                                         const bt_cuda_ttt_norm *norm, int n_head, int head_dim, bt_cuda_queue q,
                                         char *err) {
    return ttt_linear("CUDA ttt_linear primal", 1, out, weights, grads, span, norm, n_head, head_dim, q, err);
}

extern "C" int bt_cuda_ttt_linear_dual(float *out, float *weights, float *grads, const bt_cuda_ttt_span *span,
                                       const bt_cuda_ttt_norm *norm, int n_head, int head_dim, bt_cuda_queue q,
                                       char *err) {
    return ttt_linear("CUDA ttt_linear dual", 0, out, weights, grads, span, norm, n_head, head_dim, q, err);
}

// ---- inner learning rates ---------------------------------------------------------------

__global__ void ttt_eta_kernel(float *eta, const float *logit, const float *bias, const float *mult, float scale,
                               int64_t n_tok, int n_head) {
    bt_grid_dep_begin();
    const int64_t total = n_tok * n_head;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t j = i / n_head;
        const float m = mult ? scale * mult[j] : scale;
        eta[i] = m / (1.0f + expf(-(logit[i] + bias[i - j * n_head])));
    }
}

extern "C" int bt_cuda_ttt_eta(float *eta, const float *logit, const float *bias, const float *mult, float scale,
                               int64_t n_tok, int n_head, bt_cuda_queue q, char *err) {
    if (!eta || !logit || !bias || n_tok < 0 || n_head < 1)
        return bt_cuda_bad_arg(err, "CUDA ttt_eta: eta, logit and bias must be device pointers, n_tok %lld >= 0, "
                               "n_head %d >= 1", (long long)n_tok, n_head);
    if (n_tok == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    const int64_t total = n_tok * n_head;
    const unsigned blocks = bt_cuda_blocks(total < (1 << 22) ? total : (1 << 22), 256);
    return bt_cuda_launch(q, dim3(blocks), dim3(256), 0, "ttt_eta", err, ttt_eta_kernel, eta, logit, bias, mult,
                          scale, n_tok, n_head);
}

// ---- forgetting -----------------------------------------------------------------------------

__global__ void ttt_decay_kernel(float *weights, const float *toward, float keep, size_t n) {
    bt_grid_dep_begin();
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        weights[i] = toward[i] + keep * (weights[i] - toward[i]);
}

extern "C" int bt_cuda_ttt_decay(float *weights, const float *toward, float keep, size_t n, bt_cuda_queue q,
                                 char *err) {
    if (!weights || !toward || !(keep >= 0.0f && keep <= 1.0f))
        return bt_cuda_bad_arg(err, "CUDA ttt_decay: weights and toward must be device pointers, keep %g in 0..1",
                               (double)keep);
    if (n == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    const unsigned blocks = bt_cuda_blocks((int64_t)(n < ((size_t)1 << 22) ? n : ((size_t)1 << 22)), 256);
    return bt_cuda_launch(q, dim3(blocks), dim3(256), 0, "ttt_decay", err, ttt_decay_kernel, weights, toward, keep, n);
}
