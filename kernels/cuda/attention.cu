// attention.cu - causal grouped-query attention over a KV cache of f32, f16 or
// Q8_0 rows (kernels/cpu/kv_cache.h's layouts), and the cache writes.
//
// A block handles one query row t, one kv head g (all G = n_head / n_kv query
// heads that read it, so each key is loaded once for G heads) and one split
// of the keys 0..pos[t]. Its 4 warps take keys in turn; a lane owns head_dim/32
// consecutive dims. Per key: G dot products (warp sums), then an online
// softmax update of each head's running max, sum and weighted V. Warps are
// merged through shared memory. With one split the block writes the output;
// with several (long contexts and few queries: flash-decoding) each writes a
// partial (max, sum, acc[head_dim]) and a second kernel merges the splits.
#include <cuda_fp16.h>
#include "launch.cuh"
#include "ptx.cuh"

#define ATT_WARPS 4
#define ATT_MAX_GROUP 8          // query heads per kv head
#define ATT_SPLIT_MIN_KEYS 64    // no split gets fewer keys than this (ctx / splits)
#define ATT_TARGET_BLOCKS 1024   // splits are added until m * n_head * splits reaches this

static int split_count(int m, int n_head, int ctx) {
    int64_t rows = (int64_t)m * n_head;
    int64_t by_blocks = (ATT_TARGET_BLOCKS + rows - 1) / rows;
    int64_t by_keys = (ctx + ATT_SPLIT_MIN_KEYS - 1) / ATT_SPLIT_MIN_KEYS;
    int64_t s = by_blocks < by_keys ? by_blocks : by_keys;
    return s < 1 ? 1 : (int)s;
}

template <int R>
__device__ __forceinline__ void load_dims(float (&v)[R], const float *p) {
    if (R % 4 == 0) {
#pragma unroll
        for (int i = 0; i < R; i += 4) {
            float4 f = *(const float4 *)(p + i);
            v[i] = f.x, v[i + 1] = f.y, v[i + 2] = f.z, v[i + 3] = f.w;
        }
    } else if (R == 2) {
        float2 f = *(const float2 *)p;
        v[0] = f.x, v[1] = f.y;
    } else {
#pragma unroll
        for (int i = 0; i < R; i++) v[i] = p[i];
    }
}

// Q8_0 rows: blocks of 32 values, an f16 scale then 32 int8 (kernels/cpu/kv_cache.h).
#define Q8_BLOCK 32
#define Q8_BLOCK_BYTES 34

__device__ __forceinline__ float half_at(const uint8_t *p) {
    __half_raw raw;
    raw.x = (unsigned short)(p[0] | p[1] << 8);
    return __half2float(__half(raw));
}

// A lane's R dims (lane*R ..) of cache row `row` (kv head g's position j: row g*ctx + j), as f32.
template <int R, int T>
__device__ __forceinline__ void load_row(float (&v)[R], const void *cache, size_t row, int lane) {
    constexpr int HD = 32 * R;
    if (T == BT_CUDA_KV_F32) {
        load_dims<R>(v, (const float *)cache + row * HD + lane * R);
    } else if (T == BT_CUDA_KV_F16) {
        const __half *p = (const __half *)cache + row * HD + lane * R;
#pragma unroll
        for (int i = 0; i < R; i++) v[i] = __half2float(p[i]);
    } else {
        const uint8_t *p = (const uint8_t *)cache + row * (HD / Q8_BLOCK * Q8_BLOCK_BYTES);
#pragma unroll
        for (int i = 0; i < R; i++) {
            const int d = lane * R + i;
            const uint8_t *block = p + (d / Q8_BLOCK) * Q8_BLOCK_BYTES;
            v[i] = half_at(block) * (float)(int8_t)block[2 + d % Q8_BLOCK];
        }
    }
}

// R = head_dim / 32 dims per lane; T: the caches' element type (BT_CUDA_KV_*).
template <int R, int T>
__global__ void __launch_bounds__(ATT_WARPS * 32)
attention_kernel(float *out /* [m, n_head*hd] */, float *partial /* [m, n_head, n_split, hd+2] */,
                 const float *qry /* [m, q_ld] */, int q_ld, const void *k_cache /* [n_kv, ctx] rows */,
                 const void *v_cache, const int32_t *pos /* [m] */, int n_head, int n_kv, int ctx, float scale,
                 int n_split, int keys_per_split) {
    constexpr int HD = 32 * R;
    __shared__ float s_m[ATT_WARPS][ATT_MAX_GROUP], s_l[ATT_WARPS][ATT_MAX_GROUP];
    __shared__ float s_acc[ATT_WARPS][ATT_MAX_GROUP][HD];
    bt_grid_dep_begin();
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int t = blockIdx.x, g = blockIdx.y, split = blockIdx.z, G = n_head / n_kv;
    int keys = pos[t] + 1;
    keys = keys < 0 ? 0 : keys > ctx ? ctx : keys;
    const int k_begin = split * keys_per_split;
    const int k_end = min(keys, k_begin + keys_per_split);

    float q[ATT_MAX_GROUP][R], acc[ATT_MAX_GROUP][R], run_max[ATT_MAX_GROUP], run_sum[ATT_MAX_GROUP];
#pragma unroll
    for (int h = 0; h < ATT_MAX_GROUP; h++) {
        if (h < G) load_dims<R>(q[h], qry + (size_t)t * q_ld + (size_t)(g * G + h) * HD + lane * R);
        run_max[h] = -INFINITY;
        run_sum[h] = 0.0f;
#pragma unroll
        for (int r = 0; r < R; r++) acc[h][r] = 0.0f;
    }
    const size_t head_row = (size_t)g * ctx;   // kv head g's first row
    // Warp w takes keys w, w+4, w+8, ...; U of them are loaded before the first is used.
    constexpr int U = R <= 4 ? 4 : 2;
    for (int j0 = k_begin + warp; j0 < k_end; j0 += U * ATT_WARPS) {
        float kv[U][R], vv[U][R];
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int j = j0 + u * ATT_WARPS;
            if (j < k_end) {
                load_row<R, T>(kv[u], k_cache, head_row + j, lane);
                load_row<R, T>(vv[u], v_cache, head_row + j, lane);
            }
        }
#pragma unroll
        for (int u = 0; u < U; u++) {
            if (j0 + u * ATT_WARPS >= k_end) break;
#pragma unroll
            for (int h = 0; h < ATT_MAX_GROUP; h++) {
                if (h >= G) break;
                float d = 0.0f;
#pragma unroll
                for (int r = 0; r < R; r++) d += q[h][r] * kv[u][r];
                d = bt_warp_sum(d) * scale;
                const float new_max = fmaxf(run_max[h], d);
                const float correction = expf(run_max[h] - new_max), p = expf(d - new_max);
                run_sum[h] = run_sum[h] * correction + p;
#pragma unroll
                for (int r = 0; r < R; r++) acc[h][r] = acc[h][r] * correction + p * vv[u][r];
                run_max[h] = new_max;
            }
        }
    }
#pragma unroll
    for (int h = 0; h < ATT_MAX_GROUP; h++) {
        if (h >= G) break;
        if (lane == 0) s_m[warp][h] = run_max[h], s_l[warp][h] = run_sum[h];
#pragma unroll
        for (int r = 0; r < R; r++) s_acc[warp][h][lane * R + r] = acc[h][r];
    }
    __syncthreads();
    for (int i = threadIdx.x; i < G * HD; i += blockDim.x) {
        const int h = i / HD, d = i % HD, head = g * G + h;
        float mx = -INFINITY, sum = 0.0f, a = 0.0f;
        for (int w = 0; w < ATT_WARPS; w++) mx = fmaxf(mx, s_m[w][h]);
        for (int w = 0; w < ATT_WARPS; w++) {
            if (s_m[w][h] == -INFINITY) continue;   // that warp saw no key
            const float f = expf(s_m[w][h] - mx);
            sum += s_l[w][h] * f;
            a += s_acc[w][h][d] * f;
        }
        if (n_split == 1) {
            out[(size_t)t * n_head * HD + (size_t)head * HD + d] = sum > 0.0f ? a / sum : 0.0f;
        } else {
            float *rec = partial + (((size_t)t * n_head + head) * n_split + split) * (HD + 2);
            if (d == 0) rec[0] = mx, rec[1] = sum;
            rec[2 + d] = a;
        }
    }
}

// Merges the splits of one (query row, head): block of head_dim threads.
__global__ void attention_merge_kernel(float *out /* [m, n_head*hd] */, const float *partial, int n_head, int hd,
                                       int n_split) {
    bt_grid_dep_begin();
    const int t = blockIdx.x, head = blockIdx.y, d = threadIdx.x;
    const float *rec = partial + ((size_t)t * n_head + head) * n_split * (hd + 2);
    float mx = -INFINITY;
    for (int s = 0; s < n_split; s++) mx = fmaxf(mx, rec[(size_t)s * (hd + 2)]);
    float sum = 0.0f, a = 0.0f;
    for (int s = 0; s < n_split; s++) {
        const float *r = rec + (size_t)s * (hd + 2);
        if (r[0] == -INFINITY) continue;
        const float f = expf(r[0] - mx);
        sum += r[1] * f;
        a += r[2 + d] * f;
    }
    out[(size_t)t * n_head * hd + (size_t)head * hd + d] = sum > 0.0f ? a / sum : 0.0f;
}

// f32/f16: a thread per value. Q8_0: a thread per block of 32 values (max |x| / 127 as
// the f16 scale, values rounded to nearest even as the CPU's lrintf does).
template <int T>
__global__ void kv_store_kernel(void *k_cache, void *v_cache, const float *k, int k_ld, const float *v, int v_ld,
                                const int32_t *pos, int m, int n_kv, int hd, int ctx) {
    bt_grid_dep_begin();
    const int per_row = T == BT_CUDA_KV_Q8_0 ? hd / Q8_BLOCK : hd;   // threads per (row, kv head)
    const int64_t idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (int64_t)m * n_kv * per_row) return;
    const int e = (int)(idx % per_row), g = (int)(idx / per_row % n_kv), t = (int)(idx / ((int64_t)per_row * n_kv));
    const int p = pos[t];
    if (p < 0 || p >= ctx) return;   // documented: the caller checks positions on the host
    const size_t row = (size_t)g * ctx + p;
    const float *ks = k + (size_t)t * k_ld + (size_t)g * hd, *vs = v + (size_t)t * v_ld + (size_t)g * hd;
    if (T == BT_CUDA_KV_F32) {
        ((float *)k_cache)[row * hd + e] = ks[e];
        ((float *)v_cache)[row * hd + e] = vs[e];
    } else if (T == BT_CUDA_KV_F16) {
        ((__half *)k_cache)[row * hd + e] = __float2half_rn(ks[e]);
        ((__half *)v_cache)[row * hd + e] = __float2half_rn(vs[e]);
    } else {
        const size_t at = row * (hd / Q8_BLOCK * Q8_BLOCK_BYTES) + (size_t)e * Q8_BLOCK_BYTES;
        for (int c = 0; c < 2; c++) {
            const float *x = (c ? vs : ks) + e * Q8_BLOCK;
            uint8_t *block = (uint8_t *)(c ? v_cache : k_cache) + at;
            float amax = 0.0f;
            for (int i = 0; i < Q8_BLOCK; i++) amax = fmaxf(amax, fabsf(x[i]));
            const float d = amax / 127.0f, inv = d > 0.0f ? 1.0f / d : 0.0f;
            const __half_raw h = __half_raw(__float2half_rn(d));
            block[0] = (uint8_t)(h.x & 0xff);
            block[1] = (uint8_t)(h.x >> 8);
            for (int i = 0; i < Q8_BLOCK; i++) block[2 + i] = (uint8_t)(int8_t)__float2int_rn(x[i] * inv);
        }
    }
}

static int kv_type_ok(int kv_type, int head_dim) {
    return kv_type == BT_CUDA_KV_F32 || kv_type == BT_CUDA_KV_F16 ||
           (kv_type == BT_CUDA_KV_Q8_0 && head_dim % Q8_BLOCK == 0);
}

extern "C" int bt_cuda_kv_store(void *k_cache, void *v_cache, int kv_type, const float *k, int k_ld, const float *v,
                                int v_ld, const int32_t *pos, int m, int n_kv, int head_dim, int ctx, bt_cuda_queue q,
                                char *err) {
    if (m < 0 || n_kv <= 0 || head_dim <= 0 || ctx <= 0 || k_ld < n_kv * head_dim || v_ld < n_kv * head_dim)
        return bt_cuda_bad_arg(err, "CUDA kv_store: m %d, n_kv %d, head_dim %d, ctx %d, k_ld %d, v_ld %d", m, n_kv,
                               head_dim, ctx, k_ld, v_ld);
    if (!kv_type_ok(kv_type, head_dim))
        return bt_cuda_bad_arg(err, "CUDA kv_store: cache type %d with head_dim %d (q8_0 needs a multiple of 32)",
                               kv_type, head_dim);
    if (!k_cache || !v_cache || !k || !v || !pos) return bt_cuda_bad_arg(err, "CUDA kv_store: NULL pointer");
    if (m == 0) return 0;
    if (bt_cuda_enter(q, err)) return -1;
    const int per_row = kv_type == BT_CUDA_KV_Q8_0 ? head_dim / Q8_BLOCK : head_dim;
    int64_t total = (int64_t)m * n_kv * per_row;
    dim3 grid(bt_cuda_blocks(total, 256)), block(256);
    switch (kv_type) {
    case BT_CUDA_KV_F16:
        return bt_cuda_launch(q, grid, block, 0, "kv_store", err, kv_store_kernel<BT_CUDA_KV_F16>, k_cache, v_cache, k,
                              k_ld, v, v_ld, pos, m, n_kv, head_dim, ctx);
    case BT_CUDA_KV_Q8_0:
        return bt_cuda_launch(q, grid, block, 0, "kv_store", err, kv_store_kernel<BT_CUDA_KV_Q8_0>, k_cache, v_cache, k,
                              k_ld, v, v_ld, pos, m, n_kv, head_dim, ctx);
    default:
        return bt_cuda_launch(q, grid, block, 0, "kv_store", err, kv_store_kernel<BT_CUDA_KV_F32>, k_cache, v_cache, k,
                              k_ld, v, v_ld, pos, m, n_kv, head_dim, ctx);
    }
}

extern "C" int bt_cuda_kv_store_f32(float *k_cache, float *v_cache, const float *k, int k_ld, const float *v, int v_ld,
                                    const int32_t *pos, int m, int n_kv, int head_dim, int ctx, bt_cuda_queue q,
                                    char *err) {
    return bt_cuda_kv_store(k_cache, v_cache, BT_CUDA_KV_F32, k, k_ld, v, v_ld, pos, m, n_kv, head_dim, ctx, q, err);
}

extern "C" size_t bt_cuda_attention_work_bytes(int m, int n_head, int head_dim, int ctx) {
    if (m <= 0 || n_head <= 0 || head_dim <= 0 || ctx <= 0) return 0;
    int splits = split_count(m, n_head, ctx);
    return splits > 1 ? (size_t)m * n_head * splits * (head_dim + 2) * sizeof(float) : 0;
}

template <int R, int T>
static int launch_attention(float *out, float *partial, const float *qry, int q_ld, const void *k_cache,
                            const void *v_cache, const int32_t *pos, int m, int n_head, int n_kv, int ctx,
                            float scale, int n_split, bt_cuda_queue q, char *err) {
    int keys_per_split = (ctx + n_split - 1) / n_split;
    dim3 grid((unsigned)m, (unsigned)n_kv, (unsigned)n_split);
    if (bt_cuda_launch(q, grid, dim3(ATT_WARPS * 32), 0, "attention", err, attention_kernel<R, T>, out, partial, qry,
                       q_ld, k_cache, v_cache, pos, n_head, n_kv, ctx, scale, n_split, keys_per_split))
        return -1;
    if (n_split == 1) return 0;
    return bt_cuda_launch(q, dim3((unsigned)m, (unsigned)n_head), dim3(32 * R), 0, "attention merge", err,
                          attention_merge_kernel, out, (const float *)partial, n_head, 32 * R, n_split);
}

template <int T>
static int launch_for_head_dim(int r, float *out, float *partial, const float *qry, int q_ld, const void *k_cache,
                               const void *v_cache, const int32_t *pos, int m, int n_head, int n_kv, int ctx,
                               float scale, int n_split, bt_cuda_queue q, char *err) {
    switch (r) {
        case 1: return launch_attention<1, T>(out, partial, qry, q_ld, k_cache, v_cache, pos, m, n_head, n_kv, ctx, scale, n_split, q, err);
        case 2: return launch_attention<2, T>(out, partial, qry, q_ld, k_cache, v_cache, pos, m, n_head, n_kv, ctx, scale, n_split, q, err);
        case 3: return launch_attention<3, T>(out, partial, qry, q_ld, k_cache, v_cache, pos, m, n_head, n_kv, ctx, scale, n_split, q, err);
        case 4: return launch_attention<4, T>(out, partial, qry, q_ld, k_cache, v_cache, pos, m, n_head, n_kv, ctx, scale, n_split, q, err);
        default: return launch_attention<8, T>(out, partial, qry, q_ld, k_cache, v_cache, pos, m, n_head, n_kv, ctx, scale, n_split, q, err);
    }
}

extern "C" int bt_cuda_attention(float *out, const float *qry, int q_ld, const void *k_cache, const void *v_cache,
                                 int kv_type, const int32_t *pos, int m, int n_head, int n_kv, int head_dim, int ctx,
                                 float scale, void *work, size_t work_bytes, bt_cuda_queue q, char *err) {
    if (m < 0 || n_head <= 0 || n_kv <= 0 || n_head % n_kv || n_head / n_kv > ATT_MAX_GROUP || ctx <= 0)
        return bt_cuda_bad_arg(err, "CUDA attention: m %d, n_head %d, n_kv %d, ctx %d (n_kv must divide n_head, "
                               "at most %d query heads per kv head)", m, n_head, n_kv, ctx, ATT_MAX_GROUP);
    const int r = head_dim / 32;
    if (head_dim % 32 || !(r == 1 || r == 2 || r == 3 || r == 4 || r == 8))
        return bt_cuda_bad_arg(err, "CUDA attention: head_dim %d (supported: 32, 64, 96, 128, 256)", head_dim);
    if (!kv_type_ok(kv_type, head_dim)) return bt_cuda_bad_arg(err, "CUDA attention: cache type %d", kv_type);
    if (q_ld < n_head * head_dim) return bt_cuda_bad_arg(err, "CUDA attention: q_ld %d < n_head * head_dim", q_ld);
    if (!out || !qry || !k_cache || !v_cache || !pos) return bt_cuda_bad_arg(err, "CUDA attention: NULL pointer");
    if (((uintptr_t)qry | (uintptr_t)k_cache | (uintptr_t)v_cache) % 16 || (q_ld * 4) % 16)
        return bt_cuda_bad_arg(err, "CUDA attention: q, the caches and q_ld must be 16-byte aligned");
    if (n_kv > 65535 || ctx / ATT_SPLIT_MIN_KEYS > 65535)
        return bt_cuda_bad_arg(err, "CUDA attention: n_kv %d or ctx %d too large", n_kv, ctx);
    if (m == 0) return 0;
    int n_split = 1;
    if (work) {
        n_split = split_count(m, n_head, ctx);
        size_t need = bt_cuda_attention_work_bytes(m, n_head, head_dim, ctx);
        if (work_bytes < need)
            return bt_cuda_bad_arg(err, "CUDA attention: work has %zu bytes, needs %zu", work_bytes, need);
    }
    if (bt_cuda_enter(q, err)) return -1;
    float *partial = (float *)work;
    switch (kv_type) {
    case BT_CUDA_KV_F16:
        return launch_for_head_dim<BT_CUDA_KV_F16>(r, out, partial, qry, q_ld, k_cache, v_cache, pos, m, n_head, n_kv, ctx, scale, n_split, q, err);
    case BT_CUDA_KV_Q8_0:
        return launch_for_head_dim<BT_CUDA_KV_Q8_0>(r, out, partial, qry, q_ld, k_cache, v_cache, pos, m, n_head, n_kv, ctx, scale, n_split, q, err);
    default:
        return launch_for_head_dim<BT_CUDA_KV_F32>(r, out, partial, qry, q_ld, k_cache, v_cache, pos, m, n_head, n_kv, ctx, scale, n_split, q, err);
    }
}

extern "C" int bt_cuda_attention_f32(float *out, const float *qry, int q_ld, const float *k_cache,
                                     const float *v_cache, const int32_t *pos, int m, int n_head, int n_kv,
                                     int head_dim, int ctx, float scale, void *work, size_t work_bytes,
                                     bt_cuda_queue q, char *err) {
    return bt_cuda_attention(out, qry, q_ld, k_cache, v_cache, BT_CUDA_KV_F32, pos, m, n_head, n_kv, head_dim, ctx,
                             scale, work, work_bytes, q, err);
}
