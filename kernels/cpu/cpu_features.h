/* cpu_features.h - which SIMD paths this CPU can run, detected once with cpuid.
 * Kernels are compiled for the baseline x86-64 and pick AVX2 / AVX-512 paths at
 * run time; BITTTT_CPU=scalar|avx2|avx512 caps the choice (for tests). */
#ifndef BT_CPU_FEATURES_H
#define BT_CPU_FEATURES_H

typedef struct bt_cpu_features {
    int avx2, fma, f16c;
    int avx512f, avx512bw, avx512vl, avx512vnni;
} bt_cpu_features;

typedef enum bt_simd_level {
    BT_SIMD_SCALAR = 0,
    BT_SIMD_AVX2 = 1,     /* AVX2 + FMA + F16C */
    BT_SIMD_AVX512 = 2    /* AVX-512 F/BW/VL + VNNI */
} bt_simd_level;

/* 1 where the x86-64 SIMD paths compile (GCC or Clang on x86-64). Elsewhere, or
 * with -DBT_NO_SIMD (the build's `scalar` configuration, tested on every run),
 * only the scalar paths are built: every SIMD function and its dispatch case
 * sits inside `#if BT_X86_SIMD`, so ports to other CPUs start from a working build. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(BT_NO_SIMD)
#define BT_X86_SIMD 1
#else
#define BT_X86_SIMD 0
#endif

/* Function attributes for the SIMD paths (x86-64); each file compiles for the
 * baseline and marks its wide functions with one of these. */
#define BT_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define BT_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

const bt_cpu_features *bt_cpu_features_get(void);
bt_simd_level bt_simd_level_get(void);        /* best level, capped by BITTTT_CPU or bt_simd_level_set */
void bt_simd_level_set(bt_simd_level cap);     /* cap for tests/benchmarks; never raises above the CPU's */
const char *bt_simd_level_name(bt_simd_level l);

#endif
