/* attention.c - causal GQA attention with an online softmax (see attention.h).
 *
 * A task is one query row and some query heads of one kv group. For each tile
 * of cached positions and each head, the scores go into a small stack array,
 * their exponentials are taken against the head's running maximum (rescaling
 * what was summed so far when the maximum grows) and the weighted values are
 * added into the head's output, which is divided by the sum at the end. The
 * dot products and the value accumulation have scalar, AVX2 and AVX-512
 * versions; the bookkeeping is shared.
 */
#include "attention.h"
#include "softmax.h"
#include "f16_simd.h"   /* BT_TARGET_* and bt_lanes16 */
#include "cpu_features.h"
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum {
    TILE = 128,                 /* cached positions scored at a time */
    MAX_TASK_HEADS = 8,         /* query heads that share one pass over a kv head */
    TASKS_PER_THREAD = 4,       /* enough tasks to balance the threads */
    PARALLEL_MIN = 1 << 16,     /* multiply-adds below which one thread does all */
    CONVERT_FLOATS = 4096       /* f32 values of an f16/Q8_0 tile of keys (and of values), on the stack */
};

typedef struct tile_ops {
    /* s[t] = scale * q . k[t] for t < len; k rows are head_dim floats apart */
    void (*scores)(float *s, const float *q, const float *k, int64_t len, int head_dim, float scale);
    /* out += sum_t p[t] * v[t] for t < len */
    void (*accumulate)(float *out, const float *p, const float *v, int64_t len, int head_dim);
} tile_ops;

/* ---- scalar --------------------------------------------------------------- */

static void scores_scalar(float *s, const float *q, const float *k, int64_t len, int head_dim, float scale) {
    for (int64_t t = 0; t < len; t++) {
        const float *kt = k + t * head_dim;
        float dot = 0.0f;
        for (int d = 0; d < head_dim; d++) dot += q[d] * kt[d];
        s[t] = dot * scale;
    }
}

static void accumulate_scalar(float *out, const float *p, const float *v, int64_t len, int head_dim) {
    for (int64_t t = 0; t < len; t++)
        for (int d = 0; d < head_dim; d++) out[d] += p[t] * v[t * head_dim + d];
}

/* The SIMD versions take 4 positions at a time, so each slice of q (or of
 * the output row) is loaded once for 4 keys (or values); every score and every
 * output lane still sees the same operations in the same order as one position
 * at a time would give. */

/* ---- AVX2 ----------------------------------------------------------------- */

#if BT_X86_SIMD
static inline BT_TARGET_AVX2 float reduce_add8(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

static BT_TARGET_AVX2 void scores_avx2(float *s, const float *q, const float *k, int64_t len, int head_dim,
                                       float scale) {
    const int body = head_dim / 8 * 8;
    int64_t t = 0;
    for (; t + 4 <= len; t += 4) {
        const float *kt = k + t * head_dim;
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int d = 0; d < body; d += 8) {
            const __m256 qd = _mm256_loadu_ps(q + d);
#pragma GCC unroll 4
            for (int u = 0; u < 4; u++) acc[u] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(kt + u * head_dim + d), acc[u]);
        }
        for (int u = 0; u < 4; u++) {
            float dot = reduce_add8(acc[u]);
            for (int d = body; d < head_dim; d++) dot += q[d] * kt[u * head_dim + d];
            s[t + u] = dot * scale;
        }
    }
    for (; t < len; t++) {
        const float *kt = k + t * head_dim;
        __m256 acc = _mm256_setzero_ps();
        for (int d = 0; d < body; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(kt + d), acc);
        float dot = reduce_add8(acc);
        for (int d = body; d < head_dim; d++) dot += q[d] * kt[d];
        s[t] = dot * scale;
    }
}

static BT_TARGET_AVX2 void accumulate_avx2(float *out, const float *p, const float *v, int64_t len, int head_dim) {
    const int body = head_dim / 8 * 8;
    int64_t t = 0;
    for (; t + 4 <= len; t += 4) {
        const float *vt = v + t * head_dim;
        for (int d = 0; d < body; d += 8) {
            __m256 o = _mm256_loadu_ps(out + d);
#pragma GCC unroll 4
            for (int u = 0; u < 4; u++) o = _mm256_fmadd_ps(_mm256_set1_ps(p[t + u]), _mm256_loadu_ps(vt + u * head_dim + d), o);
            _mm256_storeu_ps(out + d, o);
        }
        for (int d = body; d < head_dim; d++)
            for (int u = 0; u < 4; u++) out[d] += p[t + u] * vt[u * head_dim + d];
    }
    for (; t < len; t++) {
        const float *vt = v + t * head_dim;
        for (int d = 0; d < body; d += 8)
            _mm256_storeu_ps(out + d, _mm256_fmadd_ps(_mm256_set1_ps(p[t]), _mm256_loadu_ps(vt + d), _mm256_loadu_ps(out + d)));
        for (int d = body; d < head_dim; d++) out[d] += p[t] * vt[d];
    }
}

/* ---- AVX-512 -------------------------------------------------------------- */

static BT_TARGET_AVX512 void scores_avx512(float *s, const float *q, const float *k, int64_t len, int head_dim,
                                           float scale) {
    int64_t t = 0;
    for (; t + 4 <= len; t += 4) {
        const float *kt = k + t * head_dim;
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (int d = 0; d < head_dim; d += 16) {
            const __mmask16 lanes = bt_lanes16(head_dim - d);
            const __m512 qd = _mm512_maskz_loadu_ps(lanes, q + d);
#pragma GCC unroll 4
            for (int u = 0; u < 4; u++)
                acc[u] = _mm512_fmadd_ps(qd, _mm512_maskz_loadu_ps(lanes, kt + u * head_dim + d), acc[u]);
        }
        for (int u = 0; u < 4; u++) s[t + u] = _mm512_reduce_add_ps(acc[u]) * scale;
    }
    for (; t < len; t++) {
        const float *kt = k + t * head_dim;
        __m512 acc = _mm512_setzero_ps();
        for (int d = 0; d < head_dim; d += 16) {
            const __mmask16 lanes = bt_lanes16(head_dim - d);
            acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanes, q + d), _mm512_maskz_loadu_ps(lanes, kt + d), acc);
        }
        s[t] = _mm512_reduce_add_ps(acc) * scale;
    }
}

static BT_TARGET_AVX512 void accumulate_avx512(float *out, const float *p, const float *v, int64_t len,
                                               int head_dim) {
    int64_t t = 0;
    for (; t + 4 <= len; t += 4) {
        const float *vt = v + t * head_dim;
        for (int d = 0; d < head_dim; d += 16) {
            const __mmask16 lanes = bt_lanes16(head_dim - d);
            __m512 o = _mm512_maskz_loadu_ps(lanes, out + d);
#pragma GCC unroll 4
            for (int u = 0; u < 4; u++)
                o = _mm512_fmadd_ps(_mm512_set1_ps(p[t + u]), _mm512_maskz_loadu_ps(lanes, vt + u * head_dim + d), o);
            _mm512_mask_storeu_ps(out + d, lanes, o);
        }
    }
    for (; t < len; t++) {
        const float *vt = v + t * head_dim;
        for (int d = 0; d < head_dim; d += 16) {
            const __mmask16 lanes = bt_lanes16(head_dim - d);
            __m512 o = _mm512_maskz_loadu_ps(lanes, out + d);
            o = _mm512_fmadd_ps(_mm512_set1_ps(p[t]), _mm512_maskz_loadu_ps(lanes, vt + d), o);
            _mm512_mask_storeu_ps(out + d, lanes, o);
        }
    }
}

#endif  /* BT_X86_SIMD */

/* ---- shared bookkeeping --------------------------------------------------- */

/* For each of n_heads query heads that share one kv head:
 * out[h] = softmax_t(scale * q[h] . k[t]) . v[t] over t < n_pos. Each tile of
 * keys and values is read from memory once and then reused by every head from
 * cache; a head's result does not depend on which heads share its call. */
static void attend_heads(float *out /* [n_heads, head_dim] */, const float *q /* [n_heads, head_dim] */,
                         const void *k /* [n_pos, head_dim] */, const void *v /* [n_pos, head_dim] */,
                         bt_kv_type type, int64_t n_pos, int n_heads, int head_dim, float scale, const tile_ops *ops) {
    float s[TILE], max[MAX_TASK_HEADS], sum[MAX_TASK_HEADS];
    float k_f32[CONVERT_FLOATS], v_f32[CONVERT_FLOATS];   /* a tile of f16/Q8_0 rows as f32 */
    const size_t row_bytes = bt_kv_row_bytes(type, head_dim);
    const int64_t tile = type == BT_KV_F32 ? TILE : bt_attention_kv_tile(head_dim);
    for (int h = 0; h < n_heads; h++) max[h] = -INFINITY, sum[h] = 0.0f;
    for (int64_t d = 0; d < (int64_t)n_heads * head_dim; d++) out[d] = 0.0f;
    for (int64_t t0 = 0; t0 < n_pos; t0 += tile) {
        const int64_t len = n_pos - t0 < tile ? n_pos - t0 : tile;
        const float *kt = (const float *)((const char *)k + (size_t)t0 * row_bytes);
        const float *vt = (const float *)((const char *)v + (size_t)t0 * row_bytes);
        if (type != BT_KV_F32) {
            bt_kv_load_rows(type, k_f32, kt, len, head_dim);
            bt_kv_load_rows(type, v_f32, vt, len, head_dim);
            kt = k_f32, vt = v_f32;
        }
        for (int h = 0; h < n_heads; h++) {
            float *out_h = out + (int64_t)h * head_dim;
            ops->scores(s, q + (int64_t)h * head_dim, kt, len, head_dim, scale);
            float tile_max = s[0];
            for (int64_t t = 1; t < len; t++) tile_max = s[t] > tile_max ? s[t] : tile_max;
            if (tile_max > max[h]) {   /* earlier terms were taken against a smaller maximum */
                const float shrink = expf(max[h] - tile_max);
                sum[h] *= shrink;
                for (int d = 0; d < head_dim; d++) out_h[d] *= shrink;
                max[h] = tile_max;
            }
            sum[h] += bt_exp_shifted_sum(s, len, max[h]);
            ops->accumulate(out_h, s, vt, len, head_dim);
        }
    }
    for (int h = 0; h < n_heads; h++) {
        const float inv = 1.0f / sum[h];
        for (int d = 0; d < head_dim; d++) out[(int64_t)h * head_dim + d] *= inv;
    }
}

int64_t bt_attention_kv_tile(int head_dim) {
    const int64_t rows = head_dim > 0 ? CONVERT_FLOATS / head_dim : 0;
    return rows < TILE ? rows : TILE;
}

static const tile_ops *pick_ops(void) {
    static const tile_ops scalar = {scores_scalar, accumulate_scalar};
#if BT_X86_SIMD
    static const tile_ops avx2 = {scores_avx2, accumulate_avx2};
    static const tile_ops avx512 = {scores_avx512, accumulate_avx512};
#endif
    switch (bt_simd_level_get()) {
#if BT_X86_SIMD
    case BT_SIMD_AVX512: return &avx512;
    case BT_SIMD_AVX2: return &avx2;
#endif
    default: return &scalar;
    }
}

/* Query heads per task: all of a kv head's group (up to MAX_TASK_HEADS), unless
 * that leaves fewer than TASKS_PER_THREAD tasks per thread (decoding with few
 * kv heads), in which case groups are split. */
static int heads_per_task(int64_t m, int n_kv_head, int group) {
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    int64_t per_task = m * n_kv_head * group / ((int64_t)TASKS_PER_THREAD * threads);
    if (per_task > group) per_task = group;
    if (per_task > MAX_TASK_HEADS) per_task = MAX_TASK_HEADS;
    return per_task < 1 ? 1 : (int)per_task;
}

void bt_attention_kv(float *out, const float *q, const void *k_cache, const void *v_cache, bt_kv_type type, int64_t m,
                     int64_t pos0, int n_head, int n_kv_head, int head_dim, int64_t ctx, float scale) {
    const tile_ops *ops = pick_ops();
    const int group = n_head / n_kv_head;
    const int per_task = heads_per_task(m, n_kv_head, group);
    const int chunks = (group + per_task - 1) / per_task;   /* tasks per kv head and row */
    const int64_t width = (int64_t)n_head * head_dim;
    const size_t head_bytes = (size_t)ctx * bt_kv_row_bytes(type, head_dim);   /* one kv head's rows */
    const int64_t tasks = m * n_kv_head * chunks;
#pragma omp parallel for schedule(dynamic, 1) if (tasks > 1 && m * n_head * (pos0 + m) * head_dim >= PARALLEL_MIN)
    for (int64_t task = 0; task < tasks; task++) {
        const int64_t r = task / ((int64_t)n_kv_head * chunks);
        const int g = (int)(task / chunks % n_kv_head), c = (int)(task % chunks);
        const int h0 = g * group + c * per_task;
        const int n_heads = group - c * per_task < per_task ? group - c * per_task : per_task;
        const int64_t q_offset = r * width + (int64_t)h0 * head_dim;
        attend_heads(out + q_offset, q + q_offset, (const char *)k_cache + g * head_bytes,
                     (const char *)v_cache + g * head_bytes, type, pos0 + r + 1, n_heads, head_dim, scale, ops);
    }
}

void bt_attention(float *out, const float *q, const float *k_cache, const float *v_cache, int64_t m, int64_t pos0,
                  int n_head, int n_kv_head, int head_dim, int64_t ctx, float scale) {
    bt_attention_kv(out, q, k_cache, v_cache, BT_KV_F32, m, pos0, n_head, n_kv_head, head_dim, ctx, scale);
}
