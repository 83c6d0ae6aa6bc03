/* test_cuda_memory.c - the CUDA backend's device plumbing: the caching memory
 * pool, copies on streams, timing events, graph capture and replay, and the
 * programmatic-dependent-launch switch (a chain of dependent kernels must give
 * bit-identical results with it on and off). */
#include "check.h"
#ifdef BT_HAVE_CUDA
#include <stdio.h>
#include <stdlib.h>
#include "test_cuda_ternary_ref.h"

BT_TEST(cuda_device_describe) {
    CU_REQUIRE_DEVICE();
    char err[BT_CUDA_ERR_CAP], text[256];
    BT_CHECK(bt_cuda_device_describe(0, text, sizeof text, err) == 0, "%s", err);
    fprintf(stderr, "  device 0: %s\n", text);
    size_t free_b, total_b;
    BT_CHECK(bt_cuda_mem_info(0, &free_b, &total_b, err) == 0, "%s", err);
    BT_CHECK(total_b > 0 && free_b <= total_b, "free %zu of %zu bytes", free_b, total_b);
}

BT_TEST(cuda_pool_reuses_blocks) {
    CU_REQUIRE_DEVICE();
    char err[BT_CUDA_ERR_CAP];
    size_t used0, cached0, used, cached;
    BT_CHECK(bt_cuda_pool_trim(0, err) == 0, "%s", err);   /* earlier tests may have cached blocks of this class */
    BT_CHECK(bt_cuda_pool_stats(0, &used0, &cached0, err) == 0 && cached0 == 0, "%s", err);
    void *a = NULL, *b = NULL, *c = NULL;
    BT_CHECK(bt_cuda_malloc(0, 1000000, &a, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_pool_stats(0, &used, &cached, err) == 0, "%s", err);
    BT_CHECK(used - used0 >= 1000000 && used - used0 <= 1000000 + 1000000 / 8, "1e6 bytes took %zu (at most 12.5%% waste)",
             used - used0);
    BT_CHECK(bt_cuda_free(0, a, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_malloc(0, 990000, &b, err) == 0, "%s", err);   /* same size class */
    BT_CHECK(b == a, "a request of the same class should reuse the cached block");
    BT_CHECK(bt_cuda_malloc(0, 1000000, &c, err) == 0, "%s", err);
    BT_CHECK(c != b, "a live block must not be handed out twice");
    BT_CHECK(bt_cuda_free(0, b, err) == 0 && bt_cuda_free(0, c, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_free(0, c, err) != 0, "a double free must be reported");
    BT_CHECK(bt_cuda_pool_stats(0, &used, &cached, err) == 0, "%s", err);
    BT_CHECK(used == used0 && cached > cached0, "after freeing: in use %zu (was %zu), cached %zu", used, used0, cached);
    BT_CHECK(bt_cuda_pool_trim(0, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_pool_stats(0, &used, &cached, err) == 0 && cached == 0, "trim left %zu cached bytes", cached);
    BT_CHECK(bt_cuda_free(0, NULL, err) == 0, "freeing NULL is a no-op");
}

BT_TEST(cuda_copies_streams_events) {
    CU_REQUIRE_DEVICE();
    char err[BT_CUDA_ERR_CAP];
    const size_t n = 3 << 20;
    uint8_t *h = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++) h[i] = (uint8_t)(i * 131 + 7);
    bt_cuda_stream s = NULL;
    bt_cuda_event e0 = NULL, e1 = NULL;
    void *d0 = NULL, *d1 = NULL;
    BT_CHECK(bt_cuda_stream_create(0, &s, err) == 0, "%s", err);
    bt_cuda_queue q = {0, s};
    BT_CHECK(bt_cuda_event_create(0, &e0, err) == 0 && bt_cuda_event_create(0, &e1, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_malloc(0, n, &d0, err) == 0 && bt_cuda_malloc(0, n, &d1, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_memcpy_async(d0, h, n, 0, q, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_event_record(e0, q, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_memcpy_async(d1, d0, n, 2, q, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_event_record(e1, q, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_memcpy_async(back, d1, n, 1, q, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_stream_synchronize(q, err) == 0, "%s", err);
    BT_CHECK(memcmp(h, back, n) == 0, "host -> device -> device -> host changed the bytes");
    float ms = -1.0f;
    BT_CHECK(bt_cuda_event_elapsed_ms(&ms, e0, e1, err) == 0 && ms >= 0.0f, "elapsed %g ms: %s", (double)ms, err);
    BT_CHECK(bt_cuda_memcpy_async(d1, h, n, 5, q, err) != 0, "copy kind 5 must be refused");
    BT_CHECK(bt_cuda_free(0, d0, err) == 0 && bt_cuda_free(0, d1, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_event_destroy(0, e0, err) == 0 && bt_cuda_event_destroy(0, e1, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_stream_destroy(0, s, err) == 0, "%s", err);
    free(h), free(back);
}

BT_TEST(cuda_graph_replay) {
    CU_REQUIRE_DEVICE();
    cu_arena a;
    cu_arena_init(&a);
    const int n = 1000;
    float x[1000], y[1000];
    for (int i = 0; i < n; i++) x[i] = (float)i;
    float *dx = cu_upload(&a, x, sizeof x), *dy = cu_alloc(&a, sizeof y);
    BT_CHECK(dx && dy, "%s", a.err);
    bt_cuda_stream s = NULL;
    BT_CHECK(bt_cuda_stream_create(0, &s, a.err) == 0, "%s", a.err);
    bt_cuda_queue q = {0, s};
    bt_cuda_graph g = NULL;
    /* captured: y = x + x; x = y * 1 (so every replay doubles x) */
    BT_CHECK(bt_cuda_graph_begin(q, a.err) == 0, "%s", a.err);
    int rc = bt_cuda_add_f32(dy, dx, dx, n, q, a.err);
    if (rc == 0) rc = bt_cuda_memcpy_async(dx, dy, sizeof y, 2, q, a.err);
    int end_rc = bt_cuda_graph_end(&g, q, a.err);
    BT_CHECK(rc == 0 && end_rc == 0, "capture: %s", a.err);
    for (int i = 0; i < 3; i++) BT_CHECK(bt_cuda_graph_launch(g, q, a.err) == 0, "%s", a.err);
    BT_CHECK(bt_cuda_stream_synchronize(q, a.err) == 0, "%s", a.err);
    BT_CHECK(cu_download(&a, y, dx, sizeof y) == 0, "%s", a.err);
    for (int i = 0; i < n; i++) BT_CHECK(y[i] == 8.0f * i, "after 3 replays x[%d] = %g, want %g", i, (double)y[i], 8.0 * i);
    BT_CHECK(bt_cuda_graph_destroy(g, a.err) == 0 && bt_cuda_stream_destroy(0, s, a.err) == 0, "%s", a.err);
    cu_free_all(&a);
}

/* One BitNet-like sublayer chain: norm+quantize, matmul, activation, quantize, matmul
 * accumulating into the residual. Returns 0 and the final residual in `out`. */
static int run_chain(cu_arena *a, float *out, const float *x0, const float *norm_w, const uint8_t *w_up,
                     const uint8_t *w_down, int m, int d, int ff) {
    bt_cuda_ternary up, down;
    bt_cuda_q8 qx, qh;
    float *x = cu_upload(a, x0, sizeof(float) * m * d), *nw = cu_upload(a, norm_w, sizeof(float) * d);
    float *h = cu_alloc(a, sizeof(float) * m * ff);
    qx.q = cu_alloc(a, (size_t)m * d), qx.scale = cu_alloc(a, 4 * m), qx.sum = cu_alloc(a, 4 * m), qx.block_sum = NULL;
    qh.q = cu_alloc(a, (size_t)m * ff), qh.scale = cu_alloc(a, 4 * m), qh.sum = cu_alloc(a, 4 * m), qh.block_sum = NULL;
    if (!x || !nw || !h || !qx.q || !qx.scale || !qx.sum || !qh.q || !qh.scale || !qh.sum) return -1;
    if (bt_cuda_ternary_upload_tq2_0(&up, w_up, ff, d, a->q, a->err)) return -1;
    if (bt_cuda_ternary_upload_tq2_0(&down, w_down, d, ff, a->q, a->err)) return -1;
    a->ptrs[a->n++] = up.data;
    a->ptrs[a->n++] = down.data;
    for (int rep = 0; rep < 4; rep++) {   /* dependent launches back to back */
        if (bt_cuda_quantize_q8(qx, x, nw, 1e-5f, m, d, a->q, a->err) ||
            bt_cuda_ternary_matmul(h, qx, &up, m, 0, a->q, a->err) ||
            bt_cuda_activate_f32(h, h, (int64_t)m * ff, BT_OP_RELU2, a->q, a->err) ||
            bt_cuda_quantize_q8(qh, h, NULL, 0.0f, m, ff, a->q, a->err) ||
            bt_cuda_ternary_matmul(x, qh, &down, m, 1, a->q, a->err))
            return -1;
    }
    return cu_download(a, out, x, sizeof(float) * m * d);
}

BT_TEST(cuda_pdl_chain_matches) {
    CU_REQUIRE_DEVICE();
    cu_rng r = cu_rng_for("cuda_pdl_chain_matches");
    const int d = 512, ff = 1536;
    float *x0 = malloc(sizeof(float) * 8 * d), *nw = malloc(sizeof(float) * d);
    float *out_off = malloc(sizeof(float) * 8 * d), *out_on = malloc(sizeof(float) * 8 * d);
    int8_t *w1 = malloc((size_t)ff * d), *w2 = malloc((size_t)d * ff);
    uint16_t *d1 = malloc(2 * (size_t)ff * d / 256), *d2 = malloc(2 * (size_t)d * ff / 256);
    uint8_t *t1 = malloc((size_t)ff * d / 256 * 66), *t2 = malloc((size_t)d * ff / 256 * 66);
    for (int i = 0; i < 8 * d; i++) x0[i] = cu_uniform(&r, -1.0f, 1.0f);
    for (int i = 0; i < d; i++) nw[i] = cu_uniform(&r, 0.5f, 1.5f);
    ref_random_ternary(w1, (size_t)ff * d, &r, 33);
    ref_random_ternary(w2, (size_t)d * ff, &r, 33);
    for (int i = 0; i < ff * d / 256; i++) d1[i] = 0x2c00;   /* f16 0.0625 */
    for (int i = 0; i < d * ff / 256; i++) d2[i] = 0x2800;   /* f16 0.03125 */
    ref_encode_tq2_0(t1, w1, d1, ff, d);
    ref_encode_tq2_0(t2, w2, d2, d, ff);
    bt_cuda_tuning saved = bt_cuda_tuning_get(), t = saved;
    static const int ms[] = {1, 8};
    bt_cuda_stream stream = NULL;
    char err[BT_CUDA_ERR_CAP];
    BT_CHECK(bt_cuda_stream_create(0, &stream, err) == 0, "%s", err);   /* PDL needs a created stream */
    for (int i = 0; i < 2; i++) {
        cu_arena a;
        cu_arena_init(&a);
        a.q.stream = stream;
        t.pdl = 0;
        bt_cuda_tuning_set(t);
        int rc_off = run_chain(&a, out_off, x0, nw, t1, t2, ms[i], d, ff);
        cu_free_all(&a);
        t.pdl = 1;
        bt_cuda_tuning_set(t);
        int rc_on = run_chain(&a, out_on, x0, nw, t1, t2, ms[i], d, ff);
        cu_free_all(&a);
        bt_cuda_tuning_set(saved);
        BT_CHECK(rc_off == 0 && rc_on == 0, "m=%d: %s", ms[i], a.err);
        int64_t at = cu_first_bit_mismatch(out_off, out_on, (int64_t)ms[i] * d);
        BT_CHECK(at < 0, "m=%d: with PDL, x[%lld] = %.9g; without, %.9g", ms[i], (long long)at, (double)out_on[at],
                 (double)out_off[at]);
        for (int j = 0; j < ms[i] * d; j++) BT_CHECK(isfinite(out_off[j]), "m=%d: x[%d] is not finite", ms[i], j);
    }
    BT_CHECK(bt_cuda_stream_destroy(0, stream, err) == 0, "%s", err);
    free(x0), free(nw), free(out_off), free(out_on), free(w1), free(w2), free(d1), free(d2), free(t1), free(t2);
}

#else
BT_TEST(cuda_memory) { BT_SKIP("CUDA support not compiled in"); }
#endif
