/* read_bandwidth.c - bt_read_all: OpenMP chunks, AVX-512 / AVX2 / scalar loads. */
#include "read_bandwidth.h"
#include <string.h>
#include "cpu_features.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static uint64_t xor_scalar(const uint8_t *p, size_t n) {
    uint64_t acc = 0, v;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) { memcpy(&v, p + i, 8); acc ^= v; }
    for (; i < n; i++) acc ^= p[i];
    return acc;
}

#if defined(__x86_64__)
static BT_TARGET_AVX2 uint64_t xor_avx2(const uint8_t *p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        a0 = _mm256_xor_si256(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
    }
    __m256i a = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, a);
    return lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3] ^ xor_scalar(p + i, n - i);
}

static BT_TARGET_AVX512 uint64_t xor_avx512(const uint8_t *p, size_t n) {
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 256 <= n; i += 256) {
        a0 = _mm512_xor_si512(a0, _mm512_loadu_si512(p + i));
        a1 = _mm512_xor_si512(a1, _mm512_loadu_si512(p + i + 64));
        a2 = _mm512_xor_si512(a2, _mm512_loadu_si512(p + i + 128));
        a3 = _mm512_xor_si512(a3, _mm512_loadu_si512(p + i + 192));
    }
    __m512i a = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    uint64_t lanes[8];
    _mm512_storeu_si512(lanes, a);
    uint64_t r = 0;
    for (int k = 0; k < 8; k++) r ^= lanes[k];
    return r ^ xor_scalar(p + i, n - i);
}
#endif

uint64_t bt_read_all(const void *buf, size_t bytes) {
    const uint8_t *p = buf;
    bt_simd_level level = bt_simd_level_get();
    uint64_t total = 0;
    const size_t chunk = 1u << 20;
    int64_t n_chunks = (int64_t)((bytes + chunk - 1) / chunk);
#pragma omp parallel for reduction(^ : total) schedule(static)
    for (int64_t c = 0; c < n_chunks; c++) {
        size_t off = (size_t)c * chunk, n = bytes - off < chunk ? bytes - off : chunk;
#if defined(__x86_64__)
        if (level == BT_SIMD_AVX512) total ^= xor_avx512(p + off, n);
        else if (level == BT_SIMD_AVX2) total ^= xor_avx2(p + off, n);
        else
#endif
            total ^= xor_scalar(p + off, n);
    }
    (void)level;
    return total;
}
