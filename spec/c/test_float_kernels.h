/* test_float_kernels.h - helpers shared by the float kernel tests
 * (test_float_kernels_*.c): a seeded random generator, and a runner that
 * repeats a check with the SIMD level capped at each level the CPU has and
 * restores the cap afterwards (also when the check fails). */
#ifndef BT_TEST_FLOAT_KERNELS_H
#define BT_TEST_FLOAT_KERNELS_H
#include "check.h"
#include "kernels/cpu/cpu_features.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct test_rng { uint64_t state; } test_rng;

/* A generator for one test: the run's seed mixed with a per-test salt. */
static inline test_rng test_rng_new(uint64_t salt) {
    test_rng r = {bt_test_seed() * 0x9e3779b97f4a7c15ull + salt * 0xbf58476d1ce4e5b9ull + 1};
    return r;
}

static inline uint64_t test_rng_next(test_rng *r) {   /* splitmix64 */
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline float test_rng_uniform(test_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)((test_rng_next(r) >> 40) * (1.0 / 16777216.0));
}

static inline void test_rng_fill(test_rng *r, float *x, int64_t n, float lo, float hi) {
    for (int64_t i = 0; i < n; i++) x[i] = test_rng_uniform(r, lo, hi);
}

/* A check returns 1 when it passes, else 0 with the reason in why. */
typedef int (*test_level_check)(void *ctx, char *why, size_t why_size);

/* Runs check at every SIMD level up to the current one; 1 if all pass, else 0
 * with "at <level>: <reason>" in why. The level cap is restored either way. */
static inline int test_at_every_simd_level(test_level_check check, void *ctx, char *why, size_t why_size) {
    const bt_simd_level top = bt_simd_level_get();
    int ok = 1;
    for (int level = BT_SIMD_SCALAR; level <= (int)top && ok; level++) {
        char reason[400] = "";
        bt_simd_level_set((bt_simd_level)level);
        ok = check(ctx, reason, sizeof reason);
        if (!ok) snprintf(why, why_size, "at %s: %.300s", bt_simd_level_name((bt_simd_level)level), reason);
    }
    bt_simd_level_set(top);
    return ok;
}

#endif
