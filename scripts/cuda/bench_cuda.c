/* bench_cuda.c - throughput of the CUDA backend's hot kernels on a BitNet b1.58
 * 2B4T-shaped model, printed as a table.
 *
 *   bench_cuda [--quick]
 *
 * Rows: device-to-device copy bandwidth (the ceiling, bytes read + written);
 * what a dependent launch costs by itself (an empty kernel x 120, of 132 or 1056
 * blocks, with and without PDL); the grouped GEMV rotation dealt round-robin to 2 and
 * 4 streams forked from one (chains that do not wait for each other: the kernel's
 * bandwidth without the latency of one long chain of dependent launches);
 * the ternary GEMV over a rotation through all 30 layers' 7 matrices (so the
 * L2 cannot hold them), for the original tiled kernel and the streaming one:
 * launched per matrix (210 launches) with and without PDL, from a stream and
 * replayed as a CUDA graph, with the streaming kernel's launch plans (slices,
 * block size, early launch), with q/k/v and gate/up in one launch each
 * (bt_cuda_ternary_matmul_group, 120 launches) and fused into one matrix each;
 * the f16 output-head GEMV (128256 x 2560); the ternary GEMM at batch 16 to 512
 * (tensor cores, and the dp4a GEMVs up to 64); decoding attention
 * over 30 layers' f32 KV caches at context 4096; TTT-Linear (decode and a
 * 16-token prefill) and the fastweight rule over 30 layers. Times are medians
 * of several runs measured with CUDA events. Weights are random codes: the
 * kernels' speed does not depend on the values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/cuda/cuda_backend.h"

#define N_LAYERS 30
#define MAX_TOKENS 512
#define MAX_MATS 7

typedef struct shape { int n, k; } shape;
/* per layer: q, k, v, o, gate, up, down; fused: qkv, o, gate+up, down */
static const shape plain_shapes[7] = {{2560, 2560}, {640, 2560}, {640, 2560}, {2560, 2560},
                                      {6912, 2560}, {6912, 2560}, {2560, 6912}};
static const shape fused_shapes[4] = {{3840, 2560}, {2560, 2560}, {13824, 2560}, {2560, 6912}};

static char err[BT_CUDA_ERR_CAP];
static bt_cuda_queue queue;
static bt_cuda_event ev_start, ev_stop;
static int reps = 7;

#define CK(call)                                                                     \
    do {                                                                             \
        if ((call) != 0) {                                                           \
            fprintf(stderr, "bench_cuda: %s:%d: %s\n", __FILE__, __LINE__, err);     \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

/* ---- the model's weights and activations ---------------------------------------- */

typedef struct model {
    int n_mats;
    const shape *shapes;
    bt_cuda_ternary w[N_LAYERS][MAX_MATS];
    size_t bytes;   /* all packed weights */
} model;

typedef struct acts {
    bt_cuda_q8 x2560, x6912;   /* [MAX_TOKENS, k] */
    float *y[MAX_MATS];         /* [MAX_TOKENS, n] outputs */
} acts;

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A packed buffer of random codes (0..2) with scale 0.05 per row. */
static void *random_packed(int n, int k) {
    size_t bytes = bt_cuda_ternary_bytes(n, k, 0), codes = (size_t)((n + 7) / 8 * 8) * k / 4;
    uint8_t valid[81];
    for (int i = 0; i < 81; i++) valid[i] = (uint8_t)(i % 3 | (i / 3 % 3) << 2 | (i / 9 % 3) << 4 | (i / 27) << 6);
    uint8_t *p = malloc(bytes);
    if (!p) { fprintf(stderr, "bench_cuda: out of host memory\n"); exit(1); }
    memset(p, 0, bytes);
    for (size_t i = 0; i < codes; i++) p[i] = valid[rng() % 81];
    float *scales = (float *)(p + ((codes + 255) & ~(size_t)255));
    for (int i = 0; i < (n + 7) / 8 * 8; i++) scales[i] = 0.05f;
    return p;
}

/* Uploads one random matrix per shape and copies it to every layer (distinct addresses). */
static void model_make(model *m, const shape *shapes, int n_mats) {
    m->n_mats = n_mats;
    m->shapes = shapes;
    m->bytes = 0;
    for (int j = 0; j < n_mats; j++) {
        void *host = random_packed(shapes[j].n, shapes[j].k);
        size_t bytes = bt_cuda_ternary_bytes(shapes[j].n, shapes[j].k, 0);
        for (int l = 0; l < N_LAYERS; l++) {
            CK(bt_cuda_ternary_upload_packed(&m->w[l][j], host, shapes[j].n, shapes[j].k, 0, queue, err));
            m->bytes += bytes;
        }
        free(host);
    }
}

static void model_free(model *m) {
    for (int l = 0; l < N_LAYERS; l++)
        for (int j = 0; j < m->n_mats; j++) CK(bt_cuda_ternary_free(&m->w[l][j], queue.dev, err));
}

static void quantize_random(bt_cuda_q8 *q8, int k) {
    size_t n = (size_t)MAX_TOKENS * k;
    float *host = malloc(sizeof(float) * n), *dev;
    for (size_t i = 0; i < n; i++) host[i] = (float)((int)(rng() % 2001) - 1000) / 1000.0f;
    CK(bt_cuda_malloc(queue.dev, sizeof(float) * n, (void **)&dev, err));
    CK(bt_cuda_memcpy(queue.dev, dev, host, sizeof(float) * n, 0, err));
    CK(bt_cuda_malloc(queue.dev, n, (void **)&q8->q, err));
    CK(bt_cuda_malloc(queue.dev, sizeof(float) * MAX_TOKENS, (void **)&q8->scale, err));
    CK(bt_cuda_malloc(queue.dev, sizeof(int32_t) * MAX_TOKENS, (void **)&q8->sum, err));
    q8->block_sum = NULL;
    CK(bt_cuda_quantize_q8(*q8, dev, NULL, 0.0f, MAX_TOKENS, k, queue, err));
    CK(bt_cuda_stream_synchronize(queue, err));
    CK(bt_cuda_free(queue.dev, dev, err));
    free(host);
}

/* One pass over every layer's matrices for m tokens; grouped: q/k/v and gate/up of the
 * 7-matrix model in one bt_cuda_ternary_matmul_group each. 0 or -1 (err). */
static int rotation(const model *md, const acts *a, int m, int grouped) {
    static const int groups[4][2] = {{0, 3}, {3, 1}, {4, 2}, {6, 1}};   /* first matrix, count */
    for (int l = 0; l < N_LAYERS; l++) {
        if (grouped && md->n_mats == 7) {
            for (int g = 0; g < 4; g++) {
                const int j = groups[g][0];
                const bt_cuda_q8 *x = md->shapes[j].k == 2560 ? &a->x2560 : &a->x6912;
                if (bt_cuda_ternary_matmul_group(a->y + j, *x, &md->w[l][j], groups[g][1], m, 0, queue, err)) return -1;
            }
            continue;
        }
        for (int j = 0; j < md->n_mats; j++) {
            const bt_cuda_q8 *x = md->shapes[j].k == 2560 ? &a->x2560 : &a->x6912;
            if (bt_cuda_ternary_matmul(a->y[j], *x, &md->w[l][j], m, 0, queue, err)) return -1;
        }
    }
    return 0;
}

/* ---- timing and the table ------------------------------------------------------------ */

static char table[96][400];   /* printed at the end, after the progress messages */
static int rows;
#define ROW(...) snprintf(table[rows++], sizeof table[0], __VA_ARGS__)

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef void (*bench_fn)(void *ctx);

/* Median milliseconds of reps runs after one warm-up, each between two events. */
static double median_ms(bench_fn fn, void *ctx) {
    double t[64];
    fn(ctx);
    CK(bt_cuda_stream_synchronize(queue, err));
    for (int i = 0; i < reps; i++) {
        float ms;
        CK(bt_cuda_event_record(ev_start, queue, err));
        fn(ctx);
        CK(bt_cuda_event_record(ev_stop, queue, err));
        CK(bt_cuda_event_elapsed_ms(&ms, ev_start, ev_stop, err));
        t[i] = ms;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    return t[reps / 2];
}

typedef struct copy_ctx { void *dst, *src; size_t bytes; } copy_ctx;
static void run_copy(void *p) {
    copy_ctx *c = p;
    CK(bt_cuda_memcpy_async(c->dst, c->src, c->bytes, 2, queue, err));
}

typedef struct rot_ctx { const model *md; const acts *a; int m, grouped; bt_cuda_graph graph; } rot_ctx;
static void run_rotation(void *p) {
    rot_ctx *c = p;
    if (c->graph) CK(bt_cuda_graph_launch(c->graph, queue, err));
    else CK(rotation(c->md, c->a, c->m, c->grouped));
}

/* Decoding attention at a full context: one query row per layer, 30 layers' caches. */
#define ATT_CTX 4096
#define ATT_HEADS 20
#define ATT_KV 5
#define ATT_HD 128
typedef struct att_ctx {
    float *out, *q, *k[N_LAYERS], *v[N_LAYERS];
    int32_t *pos;
    void *work;
    size_t work_bytes;
} att_ctx;
static void run_attention(void *p) {
    att_ctx *c = p;
    for (int l = 0; l < N_LAYERS; l++)
        CK(bt_cuda_attention_f32(c->out, c->q, ATT_HEADS * ATT_HD, c->k[l], c->v[l], c->pos, 1, ATT_HEADS, ATT_KV,
                                 ATT_HD, ATT_CTX, 0.0884f, c->work, c->work_bytes, queue, err));
}

static void attention_row(double copy_gbs) {
    att_ctx c;
    size_t cache = sizeof(float) * ATT_KV * ATT_CTX * ATT_HD;
    float *host = malloc(cache);
    for (size_t i = 0; i < cache / sizeof(float); i++) host[i] = (float)((int)(rng() % 2001) - 1000) / 1000.0f;
    for (int l = 0; l < N_LAYERS; l++) {
        CK(bt_cuda_malloc(0, cache, (void **)&c.k[l], err));
        CK(bt_cuda_malloc(0, cache, (void **)&c.v[l], err));
        CK(bt_cuda_memcpy(0, c.k[l], host, cache, 0, err));
        CK(bt_cuda_memcpy(0, c.v[l], host, cache, 0, err));
    }
    int32_t last = ATT_CTX - 1;
    CK(bt_cuda_malloc(0, sizeof(float) * ATT_HEADS * ATT_HD, (void **)&c.q, err));
    CK(bt_cuda_memcpy(0, c.q, host, sizeof(float) * ATT_HEADS * ATT_HD, 0, err));
    CK(bt_cuda_malloc(0, sizeof(float) * ATT_HEADS * ATT_HD, (void **)&c.out, err));
    CK(bt_cuda_malloc(0, sizeof last, (void **)&c.pos, err));
    CK(bt_cuda_memcpy(0, c.pos, &last, sizeof last, 0, err));
    c.work_bytes = bt_cuda_attention_work_bytes(1, ATT_HEADS, ATT_HD, ATT_CTX);
    c.work = NULL;
    if (c.work_bytes) CK(bt_cuda_malloc(0, c.work_bytes, &c.work, err));
    free(host);
    double ms = median_ms(run_attention, &c);
    double gbs = 2.0 * cache * N_LAYERS / (ms * 1e6);
    ROW("| %-48s | %9.1f us | %7.1f GB/s, %5.1f%% of copy |", "attention decode ctx 4096, 30 layers, 20/5 x 128", ms * 1e3,
        gbs, 100.0 * gbs / copy_gbs);
    for (int l = 0; l < N_LAYERS; l++) {
        CK(bt_cuda_free(0, c.k[l], err));
        CK(bt_cuda_free(0, c.v[l], err));
    }
    CK(bt_cuda_free(0, c.q, err));
    CK(bt_cuda_free(0, c.out, err));
    CK(bt_cuda_free(0, c.pos, err));
    CK(bt_cuda_free(0, c.work, err));
}

typedef struct head_ctx { float *y; const float *x; const uint16_t *w; } head_ctx;
static void run_head(void *p) {
    head_ctx *c = p;
    CK(bt_cuda_matmul_f16(c->y, c->x, c->w, 1, 128256, 2560, 0, queue, err));
}

/* ---- the rows ------------------------------------------------------------------------ */


static void set_tuning(int pdl, int mma) {
    bt_cuda_tuning t = {pdl, mma};
    bt_cuda_tuning_set(t);
}

/* GEMV kernel and launch plan: tiled, or streaming with slices / block warps (0: automatic) and early launch. */
static void set_gemv(int kernel, int slices, int block_warps, int early_launch) {
    bt_cuda_gemv_tuning t = {kernel, slices, block_warps, early_launch};
    bt_cuda_gemv_tuning_set(t);
}

/* Times a GEMV rotation of m tokens launched from the stream or replayed as a graph. */
static void gemv_row(const char *label, const model *md, const acts *a, int m, int grouped, int pdl, int graph,
                     double copy_gbs) {
    set_tuning(pdl, 1);
    rot_ctx c = {md, a, m, grouped, NULL};
    if (graph) {
        if (bt_cuda_graph_begin(queue, err) == 0) {
            char capture_err[BT_CUDA_ERR_CAP] = "";
            if (rotation(md, a, m, grouped) != 0) memcpy(capture_err, err, sizeof capture_err);
            if (bt_cuda_graph_end(&c.graph, queue, err) != 0 || capture_err[0]) {
                if (capture_err[0]) memcpy(err, capture_err, sizeof capture_err);
                if (c.graph) CK(bt_cuda_graph_destroy(c.graph, err));
                c.graph = NULL;
            }
        }
        if (!c.graph) {
            ROW("| %-48s | %12s | %s |", label, "n/a", err);
            return;
        }
    }
    double ms = median_ms(run_rotation, &c);
    double gbs = md->bytes / (ms * 1e6);
    ROW("| %-48s | %9.1f us | %7.1f GB/s, %5.1f%% of copy |", label, ms * 1e3, gbs, 100.0 * gbs / copy_gbs);
    if (c.graph) CK(bt_cuda_graph_destroy(c.graph, err));
}

/* ---- what the chain of dependent launches costs, and the GEMV without it ------------- */

typedef struct graph_ctx { bt_cuda_graph graph; } graph_ctx;
static void run_graph(void *p) { CK(bt_cuda_graph_launch(((graph_ctx *)p)->graph, queue, err)); }

/* Median milliseconds of `body` (which enqueues on `queue`) captured once as a graph. */
static double graph_median_ms(bench_fn body, void *ctx) {
    graph_ctx g;
    CK(bt_cuda_graph_begin(queue, err));
    body(ctx);
    CK(bt_cuda_graph_end(&g.graph, queue, err));
    double ms = median_ms(run_graph, &g);
    CK(bt_cuda_graph_destroy(g.graph, err));
    return ms;
}

#define PROBE_LAUNCHES 120   /* the grouped rotation's launches */
static void probe_chain(void *p) {
    const int blocks = *(const int *)p;
    for (int i = 0; i < PROBE_LAUNCHES; i++) CK(bt_cuda_launch_probe(blocks, 128, queue, err));
}

/* The grouped rotation's launches dealt round-robin to `n` streams forked from `queue` and
 * joined back: n chains that do not wait for each other (each with its own outputs), so
 * the GEMV runs without the latency of one long chain of dependent launches. */
#define MAX_FORKS 4
static bt_cuda_queue forks[MAX_FORKS];
static bt_cuda_event fork_ev, join_ev[MAX_FORKS];
typedef struct fork_ctx { const model *md; const acts *a; int n; } fork_ctx;
static void rotation_forked(void *p) {
    static const int groups[4][2] = {{0, 3}, {3, 1}, {4, 2}, {6, 1}};   /* as rotation() */
    const fork_ctx *c = p;
    CK(bt_cuda_event_record(fork_ev, queue, err));
    for (int f = 0; f < c->n; f++) CK(bt_cuda_stream_wait_event(forks[f], fork_ev, err));
    for (int l = 0, i = 0; l < N_LAYERS; l++)
        for (int g = 0; g < 4; g++, i++) {
            const int j = groups[g][0], f = i % c->n;
            float *y[3];
            for (int t = 0; t < groups[g][1]; t++) y[t] = c->a->y[j + t] + (size_t)f * 13824;
            const bt_cuda_q8 *x = c->md->shapes[j].k == 2560 ? &c->a->x2560 : &c->a->x6912;
            CK(bt_cuda_ternary_matmul_group(y, *x, &c->md->w[l][j], groups[g][1], 1, 0, forks[f], err));
        }
    for (int f = 0; f < c->n; f++) {
        CK(bt_cuda_event_record(join_ev[f], forks[f], err));
        CK(bt_cuda_stream_wait_event(queue, join_ev[f], err));
    }
}

static void chain_rows(const model *plain, const acts *a, double copy_gbs) {
    set_tuning(1, 1);
    for (int blocks = 132; blocks <= 1056; blocks *= 8) {
        double ms = graph_median_ms(probe_chain, &blocks);
        ROW("| %-48s | %9.1f us | %7.2f us per launch |", blocks == 132 ? "empty kernel x 120, graph+PDL, 132 blocks"
                                                                    : "empty kernel x 120, graph+PDL, 1056 blocks",
            ms * 1e3, ms * 1e3 / PROBE_LAUNCHES);
    }
    set_tuning(0, 1);
    int blocks = 132;
    double ms = graph_median_ms(probe_chain, &blocks);
    ROW("| %-48s | %9.1f us | %7.2f us per launch |", "empty kernel x 120, graph, 132 blocks", ms * 1e3,
        ms * 1e3 / PROBE_LAUNCHES);
    set_tuning(1, 1);
    CK(bt_cuda_event_create(0, &fork_ev, err));
    for (int f = 0; f < MAX_FORKS; f++) {
        forks[f].dev = 0;
        CK(bt_cuda_stream_create(0, &forks[f].stream, err));
        CK(bt_cuda_event_create(0, &join_ev[f], err));
    }
    set_gemv(BT_CUDA_GEMV_STREAM, 0, 0, 1);
    for (int n = 2; n <= MAX_FORKS; n *= 2) {
        fork_ctx c = {plain, a, n};
        ms = graph_median_ms(rotation_forked, &c);
        double gbs = plain->bytes / (ms * 1e6);
        char label[64];
        snprintf(label, sizeof label, "stream GEMV m=1, grouped, %d streams, graph+PDL", n);
        ROW("| %-48s | %9.1f us | %7.1f GB/s, %5.1f%% of copy |", label, ms * 1e3, gbs, 100.0 * gbs / copy_gbs);
    }
    for (int f = 0; f < MAX_FORKS; f++) {
        CK(bt_cuda_stream_destroy(0, forks[f].stream, err));
        CK(bt_cuda_event_destroy(0, join_ev[f], err));
    }
    CK(bt_cuda_event_destroy(0, fork_ev, err));
}

/* The GEMV rows: each kernel from the stream and as a graph, with and without PDL, then the
 * streaming kernel's launch plans and grouped launches (graph + PDL, the decoding setup). */
static void gemv_rows(const model *plain, const acts *a, int quick, double copy_gbs) {
    static const char *mode[4] = {"stream", "stream + PDL", "graph", "graph + PDL"};
    char label[64];
    for (int kernel = BT_CUDA_GEMV_TILED; kernel <= BT_CUDA_GEMV_STREAM; kernel++)
        for (int i = 0; i < 4; i++) {
            set_gemv(kernel, 0, 0, 1);
            snprintf(label, sizeof label, "%s GEMV m=1, 210 launches, %s", kernel ? "stream" : "tiled", mode[i]);
            gemv_row(label, plain, a, 1, 0, i & 1, i >> 1, copy_gbs);
        }
    set_gemv(BT_CUDA_GEMV_STREAM, 0, 0, 1);
    gemv_row("stream GEMV m=1, grouped qkv/gate-up, graph", plain, a, 1, 1, 0, 1, copy_gbs);
    gemv_row("stream GEMV m=1, grouped qkv/gate-up, graph+PDL", plain, a, 1, 1, 1, 1, copy_gbs);
    if (quick) return;
    set_gemv(BT_CUDA_GEMV_STREAM, 0, 0, 0);
    gemv_row("stream GEMV m=1, 210, graph+PDL, late launch", plain, a, 1, 0, 1, 1, copy_gbs);
    gemv_row("stream GEMV m=1, grouped, graph+PDL, late launch", plain, a, 1, 1, 1, 1, copy_gbs);
    for (int slices = 1; slices <= 8; slices *= 2) {
        set_gemv(BT_CUDA_GEMV_STREAM, slices, 0, 1);
        snprintf(label, sizeof label, "stream GEMV m=1, grouped, graph+PDL, slices %d", slices);
        gemv_row(label, plain, a, 1, 1, 1, 1, copy_gbs);
    }
    for (int warps = 2; warps <= 8; warps *= 2) {
        set_gemv(BT_CUDA_GEMV_STREAM, 0, warps, 1);
        snprintf(label, sizeof label, "stream GEMV m=1, grouped, graph+PDL, %d-warp blocks", warps);
        gemv_row(label, plain, a, 1, 1, 1, 1, copy_gbs);
    }
    set_gemv(BT_CUDA_GEMV_STREAM, 0, 0, 1);
    for (int m = 2; m <= 8; m *= 2) {
        snprintf(label, sizeof label, "stream GEMV m=%d, grouped, graph+PDL", m);
        gemv_row(label, plain, a, m, 1, 1, 1, copy_gbs);
    }
    set_gemv(BT_CUDA_GEMV_TILED, 0, 0, 1);
    gemv_row("tiled GEMV m=4, 210 launches, graph+PDL", plain, a, 4, 0, 1, 1, copy_gbs);
    set_gemv(BT_CUDA_GEMV_STREAM, 0, 0, 1);
}

static void gemm_row(const char *label, const model *md, const acts *a, int m, int mma, int gemv_kernel) {
    set_tuning(0, mma);
    set_gemv(gemv_kernel, 0, 0, 1);
    rot_ctx c = {md, a, m, 0, NULL};
    double ops = 0.0;
    for (int j = 0; j < md->n_mats; j++) ops += 2.0 * md->shapes[j].n * md->shapes[j].k * m * N_LAYERS;
    double ms = median_ms(run_rotation, &c);
    ROW("| %-48s | %9.2f ms | %7.1f TOP/s |", label, ms, ops / (ms * 1e9));
    set_gemv(BT_CUDA_GEMV_STREAM, 0, 0, 1);
}

/* ---- TTT ----------------------------------------------------------------------------- */

#define TTT_HEADS 32
#define TTT_DIM 64
#define TTT_MINI_BATCH 16
#define FW_DIM 640

/* A device array of n uniform values in [lo, hi]. */
static float *device_random(size_t n, float lo, float hi) {
    float *host = malloc(sizeof(float) * n), *dev;
    for (size_t i = 0; i < n; i++) host[i] = lo + (hi - lo) * (float)(rng() % 100001) / 100000.0f;
    CK(bt_cuda_malloc(0, sizeof(float) * n, (void **)&dev, err));
    CK(bt_cuda_memcpy(0, dev, host, sizeof(float) * n, 0, err));
    free(host);
    return dev;
}

typedef struct ttt_ctx {
    float *out, *x, *eta, *scale, *ln_w, *ln_b, *weights[N_LAYERS], *grads[N_LAYERS], *fw[N_LAYERS], *k, *p;
    int n_tok, dual;
} ttt_ctx;

static void run_ttt(void *p) {
    ttt_ctx *c = p;
    const int64_t width = TTT_HEADS * TTT_DIM;
    bt_cuda_ttt_span span = {c->x, c->x + TTT_MINI_BATCH * width, c->x + 2 * TTT_MINI_BATCH * width, c->eta, c->scale,
                             width, c->dual ? 0 : 3, c->n_tok, TTT_MINI_BATCH};
    bt_cuda_ttt_norm norm = {c->ln_w, c->ln_b, 1e-6f};
    for (int l = 0; l < N_LAYERS; l++)
        CK((c->dual ? bt_cuda_ttt_linear_dual : bt_cuda_ttt_linear_primal)(c->out, c->weights[l], c->grads[l], &span,
                                                                             &norm, TTT_HEADS, TTT_DIM, queue, err));
}

static void run_fastweight(void *p) {
    ttt_ctx *c = p;
    for (int l = 0; l < N_LAYERS; l++) CK(bt_cuda_fastweight_forward(c->p, c->fw[l], c->k, c->eta, 1, FW_DIM, queue, err));
}

/* TTT-Linear decode (one token, no commit) and a full mini-batch of prefill, and the
 * fastweight rule for one token, each over 30 layers' states. */
static void ttt_rows(void) {
    ttt_ctx c;
    const size_t width = TTT_HEADS * TTT_DIM, state = (size_t)TTT_HEADS * (TTT_DIM + 1) * TTT_DIM;
    set_tuning(0, 1);
    c.x = device_random(3 * TTT_MINI_BATCH * width, -1.0f, 1.0f);
    c.eta = device_random(TTT_MINI_BATCH * TTT_HEADS, 0.001f, 0.01f);
    c.scale = device_random(TTT_MINI_BATCH, 0.05f, 0.1f);
    c.ln_w = device_random(width, 0.9f, 1.1f);
    c.ln_b = device_random(width, -0.1f, 0.1f);
    c.k = device_random(FW_DIM, -1.0f, 1.0f);
    CK(bt_cuda_malloc(0, sizeof(float) * TTT_MINI_BATCH * width, (void **)&c.out, err));
    CK(bt_cuda_malloc(0, sizeof(float) * FW_DIM, (void **)&c.p, err));
    for (int l = 0; l < N_LAYERS; l++) {
        c.weights[l] = device_random(state, -0.01f, 0.01f);
        c.grads[l] = device_random(state, -0.001f, 0.001f);
        c.fw[l] = device_random((size_t)FW_DIM * FW_DIM, -0.01f, 0.01f);
    }
    c.n_tok = 1, c.dual = 0;
    double ms = median_ms(run_ttt, &c);
    ROW("| %-48s | %9.1f us | %7.1f MB state/layer |", "TTT-Linear decode, 30 layers x 32 heads x 64", ms * 1e3,
        2.0 * state * sizeof(float) / 1e6);
    c.n_tok = TTT_MINI_BATCH, c.dual = 1;
    ms = median_ms(run_ttt, &c);
    ROW("| %-48s | %9.1f us | %7.1f us per token |", "TTT-Linear prefill 16 tokens (dual), 30 layers", ms * 1e3,
        ms * 1e3 / TTT_MINI_BATCH);
    ms = median_ms(run_fastweight, &c);
    ROW("| %-48s | %9.1f us | %7.1f GB/s (W read + written) |", "fastweight d=640, 1 token, 30 layers", ms * 1e3,
        2.0 * FW_DIM * FW_DIM * sizeof(float) * N_LAYERS / (ms * 1e6));
    float *bufs[] = {c.x, c.eta, c.scale, c.ln_w, c.ln_b, c.k, c.out, c.p};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) CK(bt_cuda_free(0, bufs[i], err));
    for (int l = 0; l < N_LAYERS; l++) {
        CK(bt_cuda_free(0, c.weights[l], err));
        CK(bt_cuda_free(0, c.grads[l], err));
        CK(bt_cuda_free(0, c.fw[l], err));
    }
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (quick) reps = 3;
    int n_dev = 0;
    if (bt_cuda_count(&n_dev, err) != 0 || n_dev == 0) {
        fprintf(stderr, "bench_cuda: no CUDA device (%s)\n", n_dev == 0 ? "count 0" : err);
        return 1;
    }
    char name[256];
    CK(bt_cuda_device_describe(0, name, sizeof name, err));
    queue.dev = 0;
    CK(bt_cuda_stream_create(0, &queue.stream, err));
    CK(bt_cuda_event_create(0, &ev_start, err));
    CK(bt_cuda_event_create(0, &ev_stop, err));
    fprintf(stderr, "bench_cuda: %s\n", name);

    /* copy ceiling: 1 GiB device to device, bytes read + written */
    copy_ctx cp = {NULL, NULL, (size_t)1 << 30};
    CK(bt_cuda_malloc(0, cp.bytes, &cp.src, err));
    CK(bt_cuda_malloc(0, cp.bytes, &cp.dst, err));
    CK(bt_cuda_memset_async(cp.src, 1, cp.bytes, queue, err));
    double copy_ms = median_ms(run_copy, &cp);
    double copy_gbs = 2.0 * cp.bytes / (copy_ms * 1e6);
    CK(bt_cuda_free(0, cp.src, err));
    CK(bt_cuda_free(0, cp.dst, err));
    ROW("| %-48s | %12s | %s |", "benchmark (median of runs)", "time", "rate");
    ROW("| %-48s | %9.1f us | %7.1f GB/s (read + write) |", "copy D2D 1 GiB", copy_ms * 1e3, copy_gbs);

    acts a;
    quantize_random(&a.x2560, 2560);
    quantize_random(&a.x6912, 6912);
    for (int j = 0; j < MAX_MATS; j++) CK(bt_cuda_malloc(0, sizeof(float) * MAX_TOKENS * 13824, (void **)&a.y[j], err));

    static model plain, fused;
    model_make(&plain, plain_shapes, 7);
    fprintf(stderr, "bench_cuda: %d layers x 7 ternary matrices, %.1f MB packed\n", N_LAYERS, plain.bytes / 1e6);
    chain_rows(&plain, &a, copy_gbs);
    gemv_rows(&plain, &a, quick, copy_gbs);
    if (!quick) {
        model_make(&fused, fused_shapes, 4);
        set_gemv(BT_CUDA_GEMV_TILED, 0, 0, 1);
        gemv_row("tiled GEMV m=1, fused qkv/gate-up, graph+PDL", &fused, &a, 1, 0, 1, 1, copy_gbs);
        set_gemv(BT_CUDA_GEMV_STREAM, 0, 0, 1);
        gemv_row("stream GEMV m=1, fused qkv/gate-up, graph", &fused, &a, 1, 0, 0, 1, copy_gbs);
        gemv_row("stream GEMV m=1, fused qkv/gate-up, graph+PDL", &fused, &a, 1, 0, 1, 1, copy_gbs);
        model_free(&fused);
    }

    /* f16 output head: 128256 x 2560 */
    head_ctx h;
    size_t head_elems = (size_t)128256 * 2560;
    uint16_t *head_host = malloc(sizeof(uint16_t) * head_elems);
    for (size_t i = 0; i < head_elems; i++) head_host[i] = (uint16_t)(0x2000 | (rng() & 0x83FF));   /* small halves */
    CK(bt_cuda_malloc(0, sizeof(uint16_t) * head_elems, (void **)&h.w, err));
    CK(bt_cuda_memcpy(0, (void *)h.w, head_host, sizeof(uint16_t) * head_elems, 0, err));
    free(head_host);
    float x_host[2560];
    for (int i = 0; i < 2560; i++) x_host[i] = (float)((int)(rng() % 2001) - 1000) / 1000.0f;
    CK(bt_cuda_malloc(0, sizeof x_host, (void **)&h.x, err));
    CK(bt_cuda_memcpy(0, (void *)h.x, x_host, sizeof x_host, 0, err));
    CK(bt_cuda_malloc(0, sizeof(float) * 128256, (void **)&h.y, err));
    set_tuning(0, 1);
    double head_ms = median_ms(run_head, &h);
    double head_gbs = 2.0 * head_elems / (head_ms * 1e6);
    ROW("| %-48s | %9.1f us | %7.1f GB/s, %5.1f%% of copy |", "f16 head GEMV 128256 x 2560, m=1", head_ms * 1e3,
        head_gbs, 100.0 * head_gbs / copy_gbs);
    CK(bt_cuda_free(0, (void *)h.w, err));
    CK(bt_cuda_free(0, (void *)h.x, err));
    CK(bt_cuda_free(0, h.y, err));
    attention_row(copy_gbs);
    ttt_rows();

    /* where the GEMV should hand over to the tensor cores (BT_TERN_GEMV_MAX_M: m <= 32 runs the GEMV either way) */
    gemm_row("ternary GEMM m=16, all layers, stream dp4a", &plain, &a, 16, 0, BT_CUDA_GEMV_STREAM);
    if (!quick) gemm_row("ternary GEMM m=16, all layers, tiled dp4a", &plain, &a, 16, 0, BT_CUDA_GEMV_TILED);
    gemm_row("ternary GEMM m=32, all layers, stream dp4a", &plain, &a, 32, 0, BT_CUDA_GEMV_STREAM);
    gemm_row("ternary GEMM m=64, all layers, tensor cores", &plain, &a, 64, 1, BT_CUDA_GEMV_STREAM);
    gemm_row("ternary GEMM m=64, all layers, stream dp4a", &plain, &a, 64, 0, BT_CUDA_GEMV_STREAM);
    if (!quick) gemm_row("ternary GEMM m=64, all layers, tiled dp4a", &plain, &a, 64, 0, BT_CUDA_GEMV_TILED);
    gemm_row("ternary GEMM m=512, all layers, tensor cores", &plain, &a, 512, 1, BT_CUDA_GEMV_STREAM);
    model_free(&plain);

    CK(bt_cuda_stream_synchronize(queue, err));
    printf("bench_cuda on %s\n", name);
    for (int i = 0; i < rows; i++) printf("%s\n", table[i]);
    return 0;
}
