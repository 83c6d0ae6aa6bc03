/* cpu_features.c - cpuid/xgetbv probing (x86-64), scalar elsewhere. */
#include "cpu_features.h"
#include <stdlib.h>
#include <string.h>

static bt_cpu_features features;
static int probed;
static int cap = -1;   /* -1: not set yet */

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
static unsigned long long xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
static void probe(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    int osxsave = (c >> 27) & 1;
    int avx = (c >> 28) & 1;
    features.fma = (c >> 12) & 1;
    features.f16c = (c >> 29) & 1;
    unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
    int ymm_ok = avx && (xcr0 & 0x6) == 0x6;
    int zmm_ok = ymm_ok && (xcr0 & 0xe0) == 0xe0;
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    features.avx2 = ymm_ok && ((b >> 5) & 1);
    features.avx512f = zmm_ok && ((b >> 16) & 1);
    features.avx512bw = zmm_ok && ((b >> 30) & 1);
    features.avx512vl = zmm_ok && ((b >> 31) & 1);
    features.avx512vnni = zmm_ok && ((c >> 11) & 1);
    if (!ymm_ok) features.fma = features.f16c = 0;
}
#else
static void probe(void) {}
#endif

const bt_cpu_features *bt_cpu_features_get(void) {
    if (!probed) { probe(); probed = 1; }
    return &features;
}

static bt_simd_level hardware_level(void) {
    const bt_cpu_features *f = bt_cpu_features_get();
    if (f->avx512f && f->avx512bw && f->avx512vl && f->avx512vnni && f->avx2 && f->fma && f->f16c)
        return BT_SIMD_AVX512;
    if (f->avx2 && f->fma && f->f16c) return BT_SIMD_AVX2;
    return BT_SIMD_SCALAR;
}

bt_simd_level bt_simd_level_get(void) {
    bt_simd_level hw = hardware_level();
    if (cap < 0) {
        const char *env = getenv("BITTTT_CPU");
        cap = BT_SIMD_AVX512;
        if (env && strcmp(env, "scalar") == 0) cap = BT_SIMD_SCALAR;
        else if (env && strcmp(env, "avx2") == 0) cap = BT_SIMD_AVX2;
    }
    return hw < (bt_simd_level)cap ? hw : (bt_simd_level)cap;
}

void bt_simd_level_set(bt_simd_level l) { cap = (int)l; }

const char *bt_simd_level_name(bt_simd_level l) {
    switch (l) {
    case BT_SIMD_SCALAR: return "scalar";
    case BT_SIMD_AVX2: return "avx2";
    case BT_SIMD_AVX512: return "avx512-vnni";
    }
    return "?";
}
