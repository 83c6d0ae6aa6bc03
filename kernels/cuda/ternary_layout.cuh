// ternary_layout.cuh - the GPU layout of ternary weights W [n, k], shared by the
// host repacking (ternary_pack.cu) and the kernels (ternary_gemv.cu, ternary_gemm.cu).
//
// Codes: code = w + 1 in {0, 1, 2}, 2 bits each. Rows are padded to n_pad, a
// multiple of 8 (padding rows hold code 1, i.e. zeros, and scale 0). The matrix
// is cut into tiles of 8 rows x 64 columns; tile (g, c) (row group g = row/8,
// column chunk c = col/64) is 128 contiguous bytes at ((g * (k/64) + c) * 128):
// 16 bytes per row r = row%8, i.e. four little-endian 32-bit words q = 0..3,
// word q covering columns 64c + 16q .. +15. Column 64c + 16q + 4j + b sits in
// word q at bits 8b + 2j .. 8b + 2j + 1, so (word >> 2j) & 0x03030303 gives the
// four int8 codes of columns 4j .. 4j+3 of that word in byte order, ready for
// dp4a or an int8 mma fragment. A warp reading one tile per 8 lanes reads 512
// contiguous bytes, and the row group's tiles follow each other along k.
//
// Scales (f32) follow the codes at bt_tern_scale_offset: one per row ([n_pad]),
// or with block scales one per row and 256 columns ([n_pad, k/256]).
// Since codes are w + 1, a kernel computes sum((w+1) x) - sum(x) = sum(w x);
// the quantizer provides sum(x) per row and per 256 columns.
#ifndef BT_CUDA_TERNARY_LAYOUT_CUH
#define BT_CUDA_TERNARY_LAYOUT_CUH
#include <stddef.h>
#include <stdint.h>

#define BT_TERN_TILE_ROWS 8
#define BT_TERN_TILE_COLS 64
#define BT_TERN_TILE_BYTES 128
#define BT_TERN_SCALE_COLS 256   // columns per block scale (TQ2_0's block)

__host__ __device__ static inline int bt_tern_rows_padded(int n) { return (n + 7) & ~7; }

__host__ __device__ static inline size_t bt_tern_codes_bytes(int n, int k) {
    return (size_t)bt_tern_rows_padded(n) * (size_t)k / 4;
}

// Scales start 256-byte aligned after the codes.
__host__ __device__ static inline size_t bt_tern_scale_offset(int n, int k) {
    return (bt_tern_codes_bytes(n, k) + 255) & ~(size_t)255;
}

__host__ __device__ static inline size_t bt_tern_scale_count(int n, int k, int block_scales) {
    return (size_t)bt_tern_rows_padded(n) * (size_t)(block_scales ? k / BT_TERN_SCALE_COLS : 1);
}

// Byte offset of row `row`'s 16 bytes in column chunk c.
__host__ __device__ static inline size_t bt_tern_row_chunk_offset(int row, int c, int k) {
    return (((size_t)(row >> 3) * (size_t)(k / BT_TERN_TILE_COLS) + (size_t)c) * 8 + (size_t)(row & 7)) * 16;
}

#endif
