/* ternary_kernels.h - what ternary.c shares with its per-level kernel files:
 * one job ("tile") and the functions that run it. Not a public API.
 *
 * A tile asks for raw dot products of codes c in {0, 1, 2} with int8
 * activations over a range of 128-column groups, for a range of rows and a
 * run of tokens. Every level returns the same integers; ternary.c subtracts
 * the activation sums and rescales.
 */
#ifndef BT_TERNARY_KERNELS_H
#define BT_TERNARY_KERNELS_H
#include <stdint.h>
#include "kernels/cpu/ternary.h"

#ifndef BT_TARGET_AVX2
#define BT_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif
#ifndef BT_TARGET_AVX512
#define BT_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#endif

typedef struct bt_ternary_tile {
    int32_t *raw;                /* [n_tok, raw_stride]: raw[t * raw_stride + (i - row0)] */
    int64_t raw_stride;
    const bt_ternary_matrix *w;
    int64_t row0, row1;          /* rows [row0, row1) of w */
    const int8_t *x;             /* [n_tok, x_stride] token 0 at column 0 (zero-padded rows) */
    int64_t x_stride;
    int64_t n_tok;
    int64_t g0, g1;              /* columns [128 g0, 128 g1); g0 and g1 even for TQ2_0 / TQ1_0 */
} bt_ternary_tile;

/* raw[t, i] = sum over the tile's columns j of c[i, j] * x[t, j] */
void bt_ternary_tile_scalar(const bt_ternary_tile *tile);
void bt_ternary_tile_avx2(const bt_ternary_tile *tile);
void bt_ternary_tile_avx512(const bt_ternary_tile *tile);

/* Bytes between the prefetched address and the weights being read in the
 * decoding GEMV. Measured on the 2B4T TQ2_0 layers, one thread of an EPYC
 * (Zen 4) VM: 4 KiB 60%, 8 KiB 77%, 16 KiB 80%, 32 and 64 KiB 71-77% of the
 * read bandwidth; 16 KiB is about 25 rows of 2560 weights ahead. */
enum { BT_TERNARY_PREFETCH_BYTES = 16384 };

#endif
