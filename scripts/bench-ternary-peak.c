/* bench-ternary-peak.c - the core's peak for the decoding kernel's instruction
 * mix, with every operand in L1, against the kernel itself on an L1-resident
 * matrix. Built and run by bench-ternary-peak.sh (AVX-512 VNNI machines).
 *
 * Clock: a chain of dependent 64-bit adds (1 cycle each on every x86 core since
 * the P6) measures the core's cycles per second in this run, so per-cycle figures
 * need no cycle counter (virtual machines often have none). Times are thread CPU
 * time, so other processes on the machine cost little more than cache pollution.
 *
 * "mix": per 128 columns of a row, what the AVX-512 TQ2_0 GEMV does: one 32-byte
 * load broadcast to a zmm, 2 ands, 2 vpdpbusd; x (2 zmm) is loaded once per group
 * for the rows that share it. Run with 2 rows (4 accumulator chains, the kernel's
 * GEMV tile) and 4 rows (8 chains). Documented throughput (AMD Zen 4, uops.info /
 * AMD's optimization guide): vpdpbusd zmm 1 per cycle (two 256-bit halves on
 * FP0/FP1), latency 4; vpandd zmm 2 per cycle; so 2 cycles per 128 weights:
 * 64 weights per cycle per core. Intel cores with 2 FMA ports: 2 vpdpbusd zmm per
 * cycle, 128 weights per cycle.
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kernels/cpu/ternary.h"

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* cycles per second: n dependent adds take n cycles */
static double core_hz(void) {
    const uint64_t n = 400000000ull;
    uint64_t v = 1;
    double t = cpu_seconds();
    for (uint64_t i = 0; i < n / 8; i++)
        __asm__ volatile("add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
                         "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0" : "+r"(v));
    t = cpu_seconds() - t;
    return (double)n / t;
}

static inline AVX512 __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}

enum { GROUPS = 20, MAX_ROWS = 4 };   /* 2560 columns: rows of 640 bytes, x 2560 bytes (L1) */

/* the mix over NR rows x GROUPS groups, reps times; returns a checksum */
static AVX512 int32_t mix(int NR, const uint8_t *w /* [NR][GROUPS * 32] */, const int8_t *x /* [GROUPS * 128] */, long reps) {
    const __m512i m_lo = _mm512_set1_epi8(0x33), m_hi = _mm512_set1_epi8((char)0xcc);
    __m512i acc[2 * MAX_ROWS];
    for (int a = 0; a < 2 * MAX_ROWS; a++) acc[a] = _mm512_setzero_si512();
    for (long r = 0; r < reps; r++) {
        for (int g = 0; g < GROUPS; g++) {
            const __m512i x_lo = _mm512_loadu_si512(x + 128 * g), x_hi = _mm512_loadu_si512(x + 128 * g + 64);
            if (NR == 2) {
#pragma GCC unroll 2
                for (int i = 0; i < 2; i++) {
                    const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w + i * GROUPS * 32 + 32 * g)));
                    acc[2 * i] = dpbusd(acc[2 * i], _mm512_and_si512(q, m_lo), x_lo);
                    acc[2 * i + 1] = dpbusd(acc[2 * i + 1], _mm512_and_si512(q, m_hi), x_hi);
                }
            } else {
#pragma GCC unroll 4
                for (int i = 0; i < 4; i++) {
                    const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w + i * GROUPS * 32 + 32 * g)));
                    acc[2 * i] = dpbusd(acc[2 * i], _mm512_and_si512(q, m_lo), x_lo);
                    acc[2 * i + 1] = dpbusd(acc[2 * i + 1], _mm512_and_si512(q, m_hi), x_hi);
                }
            }
        }
    }
    __m512i s = acc[0];
    for (int a = 1; a < 2 * MAX_ROWS; a++) s = _mm512_add_epi32(s, acc[a]);
    return _mm512_reduce_add_epi32(s);
}

int main(int argc, char **argv) {
    const long reps = argc > 1 ? atol(argv[1]) : 2000000;
    if (!__builtin_cpu_supports("avx512vnni")) {
        fprintf(stderr, "bench-ternary-peak: this CPU has no AVX-512 VNNI\n");
        return 2;
    }
    static uint8_t w[MAX_ROWS * GROUPS * 32];
    static int8_t x[GROUPS * 128];
    for (size_t i = 0; i < sizeof w; i++) w[i] = (uint8_t)rand();
    for (size_t i = 0; i < sizeof x; i++) x[i] = (int8_t)rand();
    const double hz = core_hz();
    printf("core clock (dependent-add chain): %.3f GHz\n", hz / 1e9);
    int32_t sink = 0;
    double best_mix = 0;
    for (int nr = 2; nr <= 4; nr += 2) {
        double t = cpu_seconds();
        sink += mix(nr, w, x, reps);
        t = cpu_seconds() - t;
        const double weights = (double)nr * GROUPS * 128 * (double)reps;
        if (weights / (t * hz) > best_mix) best_mix = weights / (t * hz);
        printf("mix, %d rows (%d accumulator chains), L1: %.1f weights/cycle (%.1f G weights/s, %.1f GB/s of 2-bit codes)\n",
               nr, 2 * nr, weights / (t * hz), weights / t / 1e9, weights / 4 / t / 1e9);
    }

    /* the kernel itself, one thread (OMP_NUM_THREADS=1), on a TQ2_0 matrix that stays
     * in L2 (338 KB; L1 would leave too few rows per call to hide the driver's cost):
     * L2 feeds 32 bytes per cycle, twice what the mix's peak consumes */
    const int64_t n = 512, k = 2560;
    const size_t bytes = bt_ternary_data_bytes(BT_TERNARY_TQ2_0, n, k);
    uint8_t *data = malloc(bytes);
    for (size_t i = 0; i < bytes; i++) data[i] = (uint8_t)rand();
    for (int64_t i = 0; i < n; i++)
        for (int64_t b = 0; b < k / 256; b++) { uint16_t d = 0x3c00; memcpy(data + i * (k / 256) * 66 + b * 66 + 64, &d, 2); }
    bt_ternary_matrix m;
    if (bt_ternary_prepare(&m, BT_TERNARY_TQ2_0, data, bytes, n, k)) { fprintf(stderr, "%s\n", bt_last_error()); return 1; }
    const size_t act_bytes = bt_act_i8_bytes(1, k);
    void *act_buf = malloc(act_bytes);
    bt_act_i8 a;
    bt_act_i8_init(&a, act_buf, act_bytes, 1, k);
    float *xf = malloc(sizeof(float) * (size_t)k);
    for (int64_t j = 0; j < k; j++) xf[j] = (float)rand() / (float)RAND_MAX - 0.5f;
    bt_act_quantize(&a, xf);
    int32_t out[512];
    const long calls = reps * 2 * GROUPS * 128 / (n * k) + 1;
    double t = cpu_seconds();
    for (long c = 0; c < calls; c++) bt_ternary_dot_rows(out, &m, &a, BT_SIMD_AVX512);
    t = cpu_seconds() - t;
    const double weights = (double)n * (double)k * (double)calls;
    printf("kernel bt_ternary_dot_rows TQ2_0 [512, 2560], 1 token, L2: %.1f weights/cycle (%.1f G weights/s), %.0f%% of the mix\n",
           weights / (t * hz), weights / t / 1e9, 100 * weights / (t * hz) / best_mix);
    free(xf);
    free(act_buf);
    free(data);
    return sink == 12345 ? 3 : 0;
}
