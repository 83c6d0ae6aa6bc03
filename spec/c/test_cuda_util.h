/* test_cuda_util.h - helpers shared by the CUDA tests (the test_cuda_ files of spec/c):
 * a per-test random generator, a device-buffer arena freed at the end of a
 * test, and copies that keep the CUDA error message for BT_CHECK. */
#ifndef BT_TEST_CUDA_UTIL_H
#define BT_TEST_CUDA_UTIL_H
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kernels/cuda/cuda_backend.h"
#include "runtime/device.h"

#define CU_REQUIRE_DEVICE()                                                    \
    do {                                                                       \
        if (bt_cuda_device_count() == 0) BT_SKIP("no CUDA device");            \
    } while (0)

/* xorshift64*, seeded from the run's seed and the test's name */
typedef struct cu_rng { uint64_t s; } cu_rng;

static inline cu_rng cu_rng_for(const char *test_name) {
    uint64_t h = 1469598103934665603ull ^ bt_test_seed();
    for (const char *c = test_name; *c; c++) h = (h ^ (uint8_t)*c) * 1099511628211ull;
    cu_rng r = {h ? h : 1};
    return r;
}

static inline uint64_t cu_next(cu_rng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

static inline int cu_int(cu_rng *r, int lo, int hi) {   /* inclusive */
    return lo + (int)(cu_next(r) % (uint64_t)(hi - lo + 1));
}

static inline float cu_uniform(cu_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)((cu_next(r) >> 40) * (1.0 / 16777216.0));
}

/* Device buffers of one test; cu_free_all at the end. The queue is device 0's default stream. */
typedef struct cu_arena {
    void *ptrs[128];
    int n;
    bt_cuda_queue q;
    char err[BT_CUDA_ERR_CAP];
} cu_arena;

static inline void cu_arena_init(cu_arena *a) {
    memset(a, 0, sizeof *a);
    a->q.dev = 0;
    a->q.stream = NULL;
}

/* A device buffer filled with 0xFF bytes (NaN as f32), so unwritten outputs show. NULL on error (a->err). */
static inline void *cu_alloc(cu_arena *a, size_t bytes) {
    void *p = NULL;
    if (a->n == (int)(sizeof a->ptrs / sizeof a->ptrs[0])) {
        snprintf(a->err, sizeof a->err, "test arena full");
        return NULL;
    }
    if (bt_cuda_malloc(a->q.dev, bytes, &p, a->err)) return NULL;
    a->ptrs[a->n++] = p;
    if (bt_cuda_memset_async(p, 0xFF, bytes, a->q, a->err)) return NULL;
    return p;
}

static inline void *cu_upload(cu_arena *a, const void *host, size_t bytes) {
    void *p = cu_alloc(a, bytes);
    if (p && bt_cuda_memcpy(a->q.dev, p, host, bytes, 0, a->err)) return NULL;
    return p;
}

/* Waits for all queued work, then copies back; 0 or -1 (a->err). */
static inline int cu_download(cu_arena *a, void *host, const void *dev, size_t bytes) {
    if (bt_cuda_synchronize(a->q.dev, a->err)) return -1;
    return bt_cuda_memcpy(a->q.dev, host, dev, bytes, 1, a->err);
}

static inline void cu_free_all(cu_arena *a) {
    char ignored[BT_CUDA_ERR_CAP];
    for (int i = 0; i < a->n; i++) bt_cuda_free(a->q.dev, a->ptrs[i], ignored);
    a->n = 0;
}

/* Index of the first element where two float arrays differ bitwise (or -1). */
static inline int64_t cu_first_bit_mismatch(const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) return i;
    return -1;
}

/* Largest |got - want| / (abs_tol + rel_tol * |scale_i|) over n values; NaN counts as infinite.
 * *where gets the index of the worst one. A result <= 1 means within tolerance. */
static inline double cu_worst_error(const float *got, const double *want, const double *scale, int64_t n,
                                    double abs_tol, double rel_tol, int64_t *where) {
    double worst = -1.0;
    *where = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (abs_tol + rel_tol * fabs(scale ? scale[i] : want[i]));
        if (isnan(e)) e = INFINITY;
        if (e > worst) {
            worst = e;
            *where = i;
        }
    }
    if (worst < 0.0) worst = 0.0;
    return worst;
}

#endif
