/* cuda_backend.h - the C face of the CUDA code (the .cu files of kernels/cuda, built only
 * where nvcc exists; BT_HAVE_CUDA is then defined for the runtime).
 *
 * Every function returns 0 on success or -1 with a message in `err` (a buffer
 * of BT_CUDA_ERR_CAP bytes; the runtime turns it into bt_set_error); nothing
 * here aborts. Kernel wrappers take device pointers, enqueue work on a queue
 * (device + stream) and return at once: faults inside a kernel show at the next
 * synchronizing call. Shapes are written next to every array argument; all
 * arrays are contiguous, row-major, unless a row stride (`*_ld`) says otherwise.
 *
 * Sections: devices and copies, memory pool, streams/events/graphs, tuning,
 * ternary weights (repack + matmul), activation quantization, float matmul,
 * norms and softmax, RoPE, attention, elementwise, TTT.
 */
#ifndef BT_CUDA_BACKEND_H
#define BT_CUDA_BACKEND_H
#include <stddef.h>
#include <stdint.h>
#include "base/kinds.h"   /* bt_op_activation, bt_op_rope_style */
#ifdef __cplusplus
extern "C" {
#endif

#define BT_CUDA_ERR_CAP 256

/* Opaque CUDA handles, the same types as cudaStream_t / cudaEvent_t / cudaGraphExec_t. */
typedef struct CUstream_st *bt_cuda_stream;
typedef struct CUevent_st *bt_cuda_event;
typedef struct CUgraphExec_st *bt_cuda_graph;

/* Where work runs: a device ordinal and a stream on it (NULL: the default stream). */
typedef struct bt_cuda_queue {
    int dev;
    bt_cuda_stream stream;
} bt_cuda_queue;

/* ---- devices and copies ------------------------------------------------- */
int bt_cuda_count(int *n, char *err);
int bt_cuda_mem_info(int dev, size_t *free_bytes, size_t *total_bytes, char *err);
int bt_cuda_device_describe(int dev, char *out, size_t cap, char *err);   /* name, SM, memory */
/* kind: 0 host->device, 1 device->host, 2 device->device. Synchronous. */
int bt_cuda_memcpy(int dev, void *dst, const void *src, size_t nbytes, int kind, char *err);
/* The same, ordered on q.stream and returning at once (host memory must stay valid until then). */
int bt_cuda_memcpy_async(void *dst, const void *src, size_t nbytes, int kind, bt_cuda_queue q, char *err);
int bt_cuda_memset_async(void *dst, int byte, size_t nbytes, bt_cuda_queue q, char *err);
int bt_cuda_synchronize(int dev, char *err);

/* ---- memory pool ----------------------------------------------------------
 * bt_cuda_malloc/free go through one caching pool per device: a freed block
 * stays cached in a free list of its size class (8 classes per power of two,
 * so at most 12.5% is wasted) and serves the next request of that class; no
 * cudaMalloc per token. When cudaMalloc runs out of memory the device's cache
 * is released and the allocation retried once. A freed block may be handed out
 * again at once: work on OTHER streams still reading it must be finished first
 * (work on the same stream is ordered). Thread-safe. */
int bt_cuda_malloc(int dev, size_t nbytes, void **out, char *err);
int bt_cuda_free(int dev, void *p, char *err);            /* p NULL: nothing */
int bt_cuda_pool_trim(int dev, char *err);                 /* cudaFree every cached block */
/* Bytes handed out (rounded to size classes) and bytes cached in free lists. */
int bt_cuda_pool_stats(int dev, size_t *in_use, size_t *cached, char *err);

/* ---- streams, events, graphs ---------------------------------------------- */
int bt_cuda_stream_create(int dev, bt_cuda_stream *out, char *err);
int bt_cuda_stream_destroy(int dev, bt_cuda_stream s, char *err);
int bt_cuda_stream_synchronize(bt_cuda_queue q, char *err);
int bt_cuda_event_create(int dev, bt_cuda_event *out, char *err);
int bt_cuda_event_destroy(int dev, bt_cuda_event ev, char *err);
int bt_cuda_event_record(bt_cuda_event ev, bt_cuda_queue q, char *err);
/* Work queued on q after this waits for ev (recorded on another stream): fork and join. */
int bt_cuda_stream_wait_event(bt_cuda_queue q, bt_cuda_event ev, char *err);
/* Milliseconds from `start` to `stop`; waits for `stop` first. */
int bt_cuda_event_elapsed_ms(float *ms, bt_cuda_event start, bt_cuda_event stop, char *err);
/* Stream capture: calls between begin and end on q.stream are recorded, not run;
 * end instantiates them as a graph that bt_cuda_graph_launch replays on a queue. */
int bt_cuda_graph_begin(bt_cuda_queue q, char *err);
int bt_cuda_graph_end(bt_cuda_graph *out, bt_cuda_queue q, char *err);
int bt_cuda_graph_launch(bt_cuda_graph g, bt_cuda_queue q, char *err);
int bt_cuda_graph_destroy(bt_cuda_graph g, char *err);
/* An empty kernel of `blocks` x `threads` that takes part in the launch chain like the
 * others (with PDL it waits for the previous kernel and lets the next one start): what a
 * dependent launch costs by itself, for benchmarks. */
int bt_cuda_launch_probe(int blocks, int threads, bt_cuda_queue q, char *err);

/* ---- tuning (process-wide) -------------------------------------------------- */
typedef struct bt_cuda_tuning {
    /* Programmatic dependent launch on sm_90+, for work on created streams (not the
     * default stream): each kernel may start while the previous one ends, and the
     * ternary matmuls load their weights before waiting for it (so ternary weights must
     * come from copies, not from the kernel just before). Default: env BITTTT_CUDA_PDL
     * (off when unset). */
    int pdl;
    /* Ternary matmul with m > 32 on int8 tensor cores (sm_80+); 0 forces the dp4a path.
     * Default: env BITTTT_CUDA_MMA (on when unset). */
    int ternary_mma;
} bt_cuda_tuning;
bt_cuda_tuning bt_cuda_tuning_get(void);
void bt_cuda_tuning_set(bt_cuda_tuning t);

/* The ternary GEMV (bt_cuda_ternary_matmul with m <= 32, and larger m when the tensor
 * cores are off), process-wide.
 * kernel: BT_CUDA_GEMV_STREAM, the streaming kernel for row-scaled weights (block-scaled
 *   ones keep the tiled kernel), or BT_CUDA_GEMV_TILED, the original kernel for all.
 *   Default: env BITTTT_CUDA_GEMV (0 or "tiled": tiled; else streaming).
 * slices: warps that share one 8-row group along k (1, 2, 4 or 8; 0 chooses by shape).
 * block_warps: warps per block (1 to 8, rounded to a multiple of slices; 0: 4).
 * early_launch: with PDL, the streaming kernel lets the next kernel of the stream launch
 *   as soon as it has asked for its weights, before it waits for the previous one, so
 *   the weights of several matrices stream at once (default 1). Then no kernel still in
 *   flight on the stream may write the ternary weights (they come from copies). */
enum { BT_CUDA_GEMV_TILED = 0, BT_CUDA_GEMV_STREAM = 1 };
typedef struct bt_cuda_gemv_tuning {
    int kernel, slices, block_warps, early_launch;
} bt_cuda_gemv_tuning;
bt_cuda_gemv_tuning bt_cuda_gemv_tuning_get(void);
void bt_cuda_gemv_tuning_set(bt_cuda_gemv_tuning t);

/* ---- ternary weights ------------------------------------------------------
 * W [n, k] with values in {-1, 0, +1} times a scale, stored on the GPU in the
 * backend's own layout (kernels/cuda/ternary_layout.cuh): 2-bit codes in tiles
 * of 8 rows x 64 columns (128 bytes, so a warp reads whole 512-byte lines), rows
 * padded to a multiple of 8, then f32 scales, one per row or, when a TQ2_0
 * tensor's block scales differ within a row, one per row and 256 columns.
 * k must be a multiple of 64 (256 for TQ2_0). */
typedef struct bt_cuda_ternary {
    void *data;          /* device, bt_cuda_ternary_bytes(n, k, block_scales) bytes */
    int n, k;
    int block_scales;    /* 0: scale f32 [n_pad]; 1: scale f32 [n_pad, k/256] */
} bt_cuda_ternary;

size_t bt_cuda_ternary_bytes(int n, int k, int block_scales);

/* Host-side repacking (no GPU needed). Sources are the GGUF bytes:
 *   TQ2_0: n*k/256 blocks of 66 bytes (qs[64], fp16 d), value (code-1)*d;
 *   I2_S : n*k/4 packed bytes then one f32 per-tensor scale (bitnet.cpp).
 * The source rows become rows [row0, row0+n) of a packed buffer of dst_rows rows
 * (row0 % 8 == 0), so several matrices with the same k (q, k, v) can share one
 * buffer and one launch; rows from row0+n up to the next multiple of 8 become zero
 * padding. dst holds bt_cuda_ternary_bytes(dst_rows, k, block_scales). */
/* 1 in *block_scales when some row's TQ2_0 blocks have different nonzero scales. */
int bt_cuda_tq2_0_needs_block_scales(int *block_scales, const void *src, int n, int k, char *err);
int bt_cuda_ternary_pack_tq2_0(void *dst, int dst_rows, int row0, int block_scales,
                               const void *src, int n, int k, char *err);
int bt_cuda_ternary_pack_i2_s(void *dst, int dst_rows, int row0, int block_scales,
                              const void *src, int n, int k, char *err);
/* Packs on the host and copies to a pool allocation on q.dev (synchronous). */
int bt_cuda_ternary_upload_tq2_0(bt_cuda_ternary *out, const void *src, int n, int k, bt_cuda_queue q, char *err);
int bt_cuda_ternary_upload_i2_s(bt_cuda_ternary *out, const void *src, int n, int k, bt_cuda_queue q, char *err);
/* Copies an already packed host buffer (bt_cuda_ternary_bytes of it) to the device. */
int bt_cuda_ternary_upload_packed(bt_cuda_ternary *out, const void *packed, int n, int k, int block_scales,
                                  bt_cuda_queue q, char *err);
int bt_cuda_ternary_free(bt_cuda_ternary *w, int dev, char *err);

/* ---- activation quantization (BitNet per-token int8) -----------------------
 * Per row t of x: s = 127 / max(max|x|, 1e-5), q = clamp(round_half_even(x*s), -128, 127).
 * The matmul then gives y = acc * w_scale / s. With norm_w, x is first replaced
 * by rmsnorm(x) * norm_w (eps inside the root), fusing the norm that precedes
 * every BitLinear. */
typedef struct bt_cuda_q8 {
    int8_t *q;            /* [m, k] */
    float *scale;         /* [m]  s */
    int32_t *sum;         /* [m]  sum of q over the row */
    int32_t *block_sum;   /* [m, k/256] sums of q per 256 columns, or NULL (needed only by block-scaled weights) */
} bt_cuda_q8;

int bt_cuda_quantize_q8(bt_cuda_q8 out, const float *x /* [m, k] */, const float *norm_w /* [k] or NULL */,
                        float eps, int m, int k, bt_cuda_queue q, char *err);

/* y = W . x for ternary W: y[t, i] = (sum_j W[i, j] q[t, j]) * w_scale[i] / s[t] (per-row scales;
 * computed as ((float)acc * w_scale) / s, so bit-exact against that C expression).
 * accumulate: 0 stores, 1 adds into y (residual connections).
 * m <= 32: GEMV (dp4a, up to 8 tokens per pass); larger m: int8 tensor cores (sm_80+)
 * when tuning allows, else the GEMV. */
int bt_cuda_ternary_matmul(float *y /* [m, n] */, bt_cuda_q8 x /* [m, k] */, const bt_cuda_ternary *w /* [n, k] */,
                           int m, int accumulate, bt_cuda_queue q, char *err);
/* y[i] = W_i . x for count (1 to 4) matrices of the same k that read the same activations
 * (q, k and v; gate and up), with the results of bt_cuda_ternary_matmul for each; one
 * launch of the streaming GEMV when it applies (row scales, m <= 32 or no tensor cores),
 * else one bt_cuda_ternary_matmul per matrix. */
int bt_cuda_ternary_matmul_group(float *const *y /* [count] -> [m, n_i] */, bt_cuda_q8 x /* [m, k] */,
                                 const bt_cuda_ternary *w /* [count], [n_i, k] */, int count, int m, int accumulate,
                                 bt_cuda_queue q, char *err);

/* ---- float matmul ------------------------------------------------------------
 * y[t, i] = sum_j W[i, j] x[t, j], f32 accumulation; W is f16 (IEEE half bits) or f32.
 * m <= 8: one pass over W (bandwidth-bound GEMV for the output head); larger m:
 * tiled FMA GEMM. */
int bt_cuda_matmul_f16(float *y /* [m, n] */, const float *x /* [m, k] */, const uint16_t *w /* [n, k] */,
                       int m, int n, int k, int accumulate, bt_cuda_queue q, char *err);
int bt_cuda_matmul_f32(float *y /* [m, n] */, const float *x /* [m, k] */, const float *w /* [n, k] */,
                       int m, int n, int k, int accumulate, bt_cuda_queue q, char *err);

/* ---- norms and softmax ------------------------------------------------------ */
/* out = x / sqrt(mean(x^2) + eps) * w; w NULL means ones; out may be x. */
int bt_cuda_rmsnorm_f32(float *out /* [m, n] */, const float *x /* [m, n] */, const float *w /* [n] or NULL */,
                        int m, int n, float eps, bt_cuda_queue q, char *err);
/* out = (x - mean) / sqrt(var + eps) * w + b per row; w, b NULL mean ones, zeros; out may be x. */
int bt_cuda_layernorm_f32(float *out /* [m, n] */, const float *x /* [m, n] */, const float *w /* [n] or NULL */,
                          const float *b /* [n] or NULL */, int m, int n, float eps, bt_cuda_queue q, char *err);
/* out = softmax(x * scale) per row; out may be x. */
int bt_cuda_softmax_f32(float *out /* [m, n] */, const float *x /* [m, n] */, float scale, int m, int n,
                        bt_cuda_queue q, char *err);

/* ---- RoPE (in place) ----------------------------------------------------------
 * Row t of x holds n_head heads of head_dim values at x[t*x_ld + h*head_dim].
 * The first rot_dim dims of each head rotate by angle pos[t] * theta^(-2i/rot_dim)
 * / freq_factors[i] (i < rot_dim/2; freq_factors NULL means ones, Llama 3's
 * rope_freqs otherwise); angle, sine and cosine in double, the rotation in f32.
 * Pairs: interleaved (2i, 2i+1) or NeoX (i, i + rot_dim/2). */
int bt_cuda_rope_f32(float *x /* [m, x_ld] */, const int32_t *pos /* [m] */, const float *freq_factors,
                     int m, int x_ld, int n_head, int head_dim, int rot_dim, float theta, bt_op_rope_style style,
                     bt_cuda_queue q, char *err);

/* ---- attention (causal, grouped-query) -----------------------------------------
 * KV cache per layer: k_cache, v_cache [n_kv, ctx] rows of head_dim values, stored as
 * f32, f16 or Q8_0 (kv_type; the layouts of kernels/cpu/kv_cache.h; Q8_0 needs
 * head_dim a multiple of 32). The _f32 entry points are the f32 case.
 * kv_store writes row t of k and v (n_kv heads of head_dim each) at cache position pos[t];
 * positions outside [0, ctx) are skipped (the caller checks them on the host). */
int bt_cuda_kv_store_f32(float *k_cache /* [n_kv, ctx, hd] */, float *v_cache /* [n_kv, ctx, hd] */,
                         const float *k /* [m, k_ld] */, int k_ld, const float *v /* [m, v_ld] */, int v_ld,
                         const int32_t *pos /* [m] */, int m, int n_kv, int head_dim, int ctx,
                         bt_cuda_queue q, char *err);
enum { BT_CUDA_KV_F32 = 0, BT_CUDA_KV_F16 = 1, BT_CUDA_KV_Q8_0 = 2 };
int bt_cuda_kv_store(void *k_cache, void *v_cache, int kv_type, const float *k /* [m, k_ld] */, int k_ld,
                     const float *v /* [m, v_ld] */, int v_ld, const int32_t *pos /* [m] */, int m, int n_kv,
                     int head_dim, int ctx, bt_cuda_queue q, char *err);
/* Query t, head h attends to cache rows 0..pos[t] of kv head h / (n_head / n_kv):
 * out = softmax(scale * q.K^T) . V. head_dim: a multiple of 32, at most 256.
 * work: optional device scratch of bt_cuda_attention_work_bytes(m, n_head, head_dim, ctx)
 * bytes; with it long contexts are split over many blocks (flash-decoding), without
 * it (NULL) each (query, kv head) is one block. */
size_t bt_cuda_attention_work_bytes(int m, int n_head, int head_dim, int ctx);
int bt_cuda_attention(float *out /* [m, n_head*hd] */, const float *qry /* [m, q_ld] */, int q_ld,
                      const void *k_cache, const void *v_cache, int kv_type, const int32_t *pos /* [m] */,
                      int m, int n_head, int n_kv, int head_dim, int ctx, float scale,
                      void *work, size_t work_bytes, bt_cuda_queue q, char *err);
int bt_cuda_attention_f32(float *out /* [m, n_head*hd] */, const float *qry /* [m, q_ld] */, int q_ld,
                          const float *k_cache, const float *v_cache, const int32_t *pos /* [m] */,
                          int m, int n_head, int n_kv, int head_dim, int ctx, float scale,
                          void *work, size_t work_bytes, bt_cuda_queue q, char *err);

/* ---- elementwise and gathers ---------------------------------------------------
 * Activations are bt_op_activation values (base/kinds.h). */
int bt_cuda_activate_f32(float *out /* [n] */, const float *x /* [n] */, int64_t n, bt_op_activation act,
                         bt_cuda_queue q, char *err);
/* out = act(gate) * up */
int bt_cuda_gated_f32(float *out /* [n] */, const float *gate /* [n] */, const float *up /* [n] */, int64_t n,
                      bt_op_activation act, bt_cuda_queue q, char *err);
int bt_cuda_add_f32(float *out /* [n] */, const float *a /* [n] */, const float *b /* [n] */, int64_t n,
                    bt_cuda_queue q, char *err);
/* out[i] = a[i] * b[i % b_n]: b_n == n multiplies, b_n == row length scales every row. */
int bt_cuda_mul_f32(float *out /* [n] */, const float *a /* [n] */, const float *b /* [b_n] */, int64_t n,
                    int64_t b_n, bt_cuda_queue q, char *err);
/* out[t] = table[ids[t]] as f32. An id outside [0, vocab) gives a row of NaN
 * (the caller checks ids on the host; the kernel cannot report). */
int bt_cuda_embed_f16(float *out /* [m, d] */, const uint16_t *table /* [vocab, d] */, const int32_t *ids /* [m] */,
                      int m, int d, int vocab, bt_cuda_queue q, char *err);
int bt_cuda_embed_f32(float *out /* [m, d] */, const float *table /* [vocab, d] */, const int32_t *ids /* [m] */,
                      int m, int d, int vocab, bt_cuda_queue q, char *err);
/* y[i] = a * x[i] + y[i] on the default stream of dev. */
int bt_cuda_axpy_f32(int dev, float *y /* [n] */, const float *x /* [n] */, float a, size_t n, char *err);

/* ---- TTT (kernels/cpu/ttt_linear.h, kernels/cpu/ttt_fastweight.h) ---------------------
 * The CPU kernels' equations, float32 state and arguments, with device pointers in the
 * structs (the structs themselves are read on the host at the call); no scratch.
 * TTT-Linear: weights and grads [n_head, head_dim + 1, head_dim] (bias in the last row),
 * head_dim 1 to 512; one block per head. primal walks the span token by token (decode),
 * dual takes it in chunks as large as shared memory allows (prefill); both update grads
 * and, when the span ends the mini-batch, commit the step into weights. Results agree
 * with the CPU kernels to float rounding (sums in other orders). */
typedef struct bt_cuda_ttt_span {
    const float *xq, *xk, *xv;   /* [n_tok, row_stride] each; head h at columns h*d .. h*d + d - 1 */
    const float *eta;            /* [n_tok, n_head] inner learning rates */
    const float *token_scale;    /* [mini_batch] s_i of every in-batch index */
    int64_t row_stride;          /* floats between rows of xq, xk, xv and out (>= n_head * d) */
    int first, n_tok, mini_batch;
} bt_cuda_ttt_span;
typedef struct bt_cuda_ttt_norm {
    const float *weight, *bias;  /* [n_head, d] each */
    float eps;
} bt_cuda_ttt_norm;
int bt_cuda_ttt_linear_primal(float *out /* [n_tok, row_stride] */, float *weights /* [n_head, d + 1, d] */,
                              float *grads /* [n_head, d + 1, d] */, const bt_cuda_ttt_span *span,
                              const bt_cuda_ttt_norm *norm, int n_head, int head_dim, bt_cuda_queue q, char *err);
int bt_cuda_ttt_linear_dual(float *out /* [n_tok, row_stride] */, float *weights /* [n_head, d + 1, d] */,
                            float *grads /* [n_head, d + 1, d] */, const bt_cuda_ttt_span *span,
                            const bt_cuda_ttt_norm *norm, int n_head, int head_dim, bt_cuda_queue q, char *err);
/* eta[j, h] = scale * mult[j] * sigmoid(logit[j, h] + bias[h]) (bt_ttt_eta); eta may be logit,
 * mult NULL means ones. */
int bt_cuda_ttt_eta(float *eta /* [n_tok, n_head] */, const float *logit /* [n_tok, n_head] */,
                    const float *bias /* [n_head] */, const float *mult /* [n_tok] or NULL */, float scale,
                    int64_t n_tok, int n_head, bt_cuda_queue q, char *err);
/* bt_ttt_linear_decay: weights = toward + keep * (weights - toward), n floats. */
int bt_cuda_ttt_decay(float *weights /* [n] */, const float *toward /* [n] */, float keep, size_t n, bt_cuda_queue q,
                      char *err);
/* bt_causal_conv in place: x[t, c] = bias[c] + sum_j w[j, c] * (input j - (K-1) steps before t),
 * the inputs before x's first row taken from history [K-1, width] (oldest first), which
 * then holds the last K-1 inputs; kernel K from 1 to 16 (K = 1: history unused, may be NULL). */
int bt_cuda_causal_conv(float *x /* [n_tok, width] */, float *history /* [K-1, width] */, const float *w /* [K, width] */,
                        const float *bias /* [width] or NULL */, int64_t n_tok, int width, int kernel, bt_cuda_queue q,
                        char *err);
/* bt_fastweight_forward: normalizes k in place, writes p, updates W (d up to 12288). */
int bt_cuda_fastweight_forward(float *p /* [n_tok, d] */, float *W /* [d, d] */, float *k /* [n_tok, d] */,
                               const float *eta /* [n_tok] */, int64_t n_tok, int d, bt_cuda_queue q, char *err);

#ifdef __cplusplus
}
#endif
#endif
