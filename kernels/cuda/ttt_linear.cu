// ttt_linear.cu - TTT-Linear on the GPU: the equations, state and arguments of the CPU
// kernels (kernels/cpu/ttt_linear.h), float32 state, one block per head; and the
// inner learning rates (bt_ttt_eta).
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
// Thread c of a block owns column c of W and G (head_dim threads, rounded up to whole
// warps), so no two threads ever touch the same state; the LayerNorms of a chunk's
// tokens go to one warp each, with sums in double as in the CPU kernels.
#include "launch.cuh"
#include "ptx.cuh"

#define TTT_SMEM_FLOATS 12288   // 48 KiB: [4, C, d] activations and gradients, [C, C] dots, [C] rates
#define TTT_REG_TOKENS 8        // tokens per pass over a column of W (register accumulators)
#define TTT_MAX_HEAD_DIM 1024   // one thread per column

struct ttt_args {
    float *out, *weights, *grads;
    const float *xq, *xk, *xv, *eta, *token_scale, *ln_w, *ln_b;
    int64_t row_stride;
    int first, n_tok, mini_batch, n_head, d, chunk;
    float eps;
};

static size_t chunk_floats(int chunk, int d) { return (size_t)4 * chunk * d + (size_t)chunk * chunk + chunk; }

// Largest chunk of tokens whose shared arrays fit TTT_SMEM_FLOATS.
static int max_chunk(int d) {
    int c = 1;
    while (chunk_floats(c + 1, d) <= TTT_SMEM_FLOATS) c++;
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

// Column c of out[j] (+)= [a_j x_j, a_j] A for the K rows x_j of x, A [d + 1, d] (bias in
// row d); a_j = 1, or -s[j] when s is given.
__device__ void add_affine_column(float *out /* [K, d] */, const float *x /* [K, d] */, const float *A,
                                  const float *s /* [K] or NULL */, int K, int d, int c, bool accumulate) {
    for (int j0 = 0; j0 < K; j0 += TTT_REG_TOKENS) {
        float acc[TTT_REG_TOKENS], a[TTT_REG_TOKENS];
#pragma unroll
        for (int jj = 0; jj < TTT_REG_TOKENS; jj++) {
            const bool in = j0 + jj < K;
            acc[jj] = in && accumulate ? out[(j0 + jj) * d + c] : 0.0f;
            a[jj] = in && s ? -s[j0 + jj] : 1.0f;
        }
        for (int r = 0; r < d; r++) {
            const float w = A[(size_t)r * d + c];
#pragma unroll
            for (int jj = 0; jj < TTT_REG_TOKENS; jj++)
                if (j0 + jj < K) acc[jj] = fmaf(a[jj] * x[(j0 + jj) * d + r], w, acc[jj]);
        }
        const float bias = A[(size_t)d * d + c];
#pragma unroll
        for (int jj = 0; jj < TTT_REG_TOKENS; jj++)
            if (j0 + jj < K) out[(j0 + jj) * d + c] = fmaf(a[jj], bias, acc[jj]);
    }
}

__global__ void __launch_bounds__(TTT_MAX_HEAD_DIM) ttt_linear_kernel(ttt_args a) {
    extern __shared__ float ttt_smem[];
    const int d = a.d, C = a.chunk, h = blockIdx.x, c = threadIdx.x;
    const int warp = c >> 5, n_warps = blockDim.x >> 5;
    const bool owns_column = c < d;
    float *xq_s = ttt_smem, *xk_s = xq_s + C * d, *z_s = xk_s + C * d, *g_s = z_s + C * d;   // [C, d] each
    float *dots = g_s + C * d, *eta_s = dots + C * C;                                       // [C, C], [C]
    float *W = a.weights + (size_t)h * (d + 1) * d, *G = a.grads + (size_t)h * (d + 1) * d;
    const size_t col = (size_t)h * d;
    const float *ln_w = a.ln_w + col, *ln_b = a.ln_b + col;
    bt_grid_dep_begin();

    for (int c0 = 0; c0 < a.n_tok; c0 += C) {
        const int K = min(C, a.n_tok - c0);
        const float *s = a.token_scale + a.first + c0;   // [K]
        __syncthreads();   // the previous chunk is done with the shared arrays
        for (int idx = c; idx < K * d; idx += blockDim.x) {
            const int j = idx / d;
            const int64_t at = (int64_t)(c0 + j) * a.row_stride + (int64_t)col + (idx - j * d);
            xq_s[idx] = a.xq[at];
            xk_s[idx] = a.xk[at];
        }
        for (int j = c; j < K; j += blockDim.x) eta_s[j] = a.eta[(int64_t)(c0 + j) * a.n_head + h];
        __syncthreads();
        if (owns_column) add_affine_column(z_s, xk_s, W, NULL, K, d, c, false);   // Z_j
        __syncthreads();
        for (int j = warp; j < K; j += n_warps)                                   // g_j
            warp_ln_l2_grad(g_s + j * d, z_s + j * d, a.xv + (int64_t)(c0 + j) * a.row_stride + col, xk_s + j * d,
                            ln_w, ln_b, d, a.eps);
        for (int idx = c; idx < K * K; idx += blockDim.x) {                       // XQ_i . XK_j + 1, j <= i
            const int i = idx / K, j = idx - i * K;
            if (j > i) continue;
            float dot = 0.0f;
            for (int r = 0; r < d; r++) dot = fmaf(xq_s[i * d + r], xk_s[j * d + r], dot);
            dots[idx] = 1.0f + dot;
        }
        __syncthreads();
        if (owns_column) {   // ZQ_i into z_s
            add_affine_column(z_s, xq_s, W, NULL, K, d, c, false);
            if (a.first + c0 > 0) add_affine_column(z_s, xq_s, G, s, K, d, c, true);
            for (int i = 0; i < K; i++) {
                float zq = z_s[i * d + c];
                for (int j = 0; j <= i; j++) zq = fmaf(-s[i] * eta_s[j] * dots[i * K + j], g_s[j * d + c], zq);
                z_s[i * d + c] = zq;
            }
        }
        __syncthreads();
        for (int i = warp; i < K; i += n_warps) {   // out_i = XQ_i + LN(ZQ_i)
            double mean, inv_std;
            const float *zq = z_s + i * d;
            warp_moments(zq, d, a.eps, &mean, &inv_std);
            float *o = a.out + (int64_t)(c0 + i) * a.row_stride + col;
            for (int e = c & 31; e < d; e += 32)
                o[e] = xq_s[i * d + e] + (ln_w[e] * (float)((zq[e] - mean) * inv_std) + ln_b[e]);
        }
        if (owns_column) {   // G += sum_j eta_j [XK_j, 1]^T g_j
            for (int r = 0; r < d; r++) {
                float gr = G[(size_t)r * d + c];
                for (int j = 0; j < K; j++) gr = fmaf(eta_s[j] * xk_s[j * d + r], g_s[j * d + c], gr);
                G[(size_t)r * d + c] = gr;
            }
            float gb = G[(size_t)d * d + c];
            for (int j = 0; j < K; j++) gb = fmaf(eta_s[j], g_s[j * d + c], gb);
            G[(size_t)d * d + c] = gb;
        }
    }
    if (owns_column && a.first + a.n_tok == a.mini_batch) {   // commit the mini-batch's step
        const float s_last = a.token_scale[a.mini_batch - 1];
        for (int r = 0; r <= d; r++) {
            W[(size_t)r * d + c] = fmaf(-s_last, G[(size_t)r * d + c], W[(size_t)r * d + c]);
            G[(size_t)r * d + c] = 0.0f;
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
    a.chunk = primal ? 1 : min(sp->n_tok, max_chunk(d));
    const unsigned threads = (unsigned)((d + 31) / 32 * 32);
    return bt_cuda_launch(q, dim3((unsigned)n_head), dim3(threads), sizeof(float) * chunk_floats(a.chunk, d), what,
                          err, ttt_linear_kernel, a);
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
