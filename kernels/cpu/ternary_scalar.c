/* ternary_scalar.c - the reference tile: decode a block's codes with the
 * format code (ternary_format.c), multiply and add in plain C. Every SIMD
 * tile must return exactly these integers. */
#include "ternary_kernels.h"

void bt_ternary_tile_scalar(const bt_ternary_tile *tile) {
    const bt_ternary_matrix *w = tile->w;
    const int block_cols = bt_ternary_format_get_info(w->format)->block_cols;
    const int64_t b0 = tile->g0 * BT_TERNARY_GROUP / block_cols, b1 = tile->g1 * BT_TERNARY_GROUP / block_cols;
    uint8_t codes[BT_TQ_BLOCK];
    for (int64_t i = tile->row0; i < tile->row1; i++) {
        const uint8_t *row = w->data + (size_t)i * w->row_bytes;
        for (int64_t t = 0; t < tile->n_tok; t++) tile->raw[t * tile->raw_stride + (i - tile->row0)] = 0;
        for (int64_t b = b0; b < b1; b++) {
            bt_ternary_block_codes(codes, w->format, row, b);
            for (int64_t t = 0; t < tile->n_tok; t++) {
                const int8_t *x = tile->x + t * tile->x_stride + b * block_cols;
                int32_t sum = 0;
                for (int j = 0; j < block_cols; j++) sum += codes[j] * x[j];
                tile->raw[t * tile->raw_stride + (i - tile->row0)] += sum;
            }
        }
    }
}
