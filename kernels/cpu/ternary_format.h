/* ternary_format.h - byte layouts of ternary (BitNet b1.58) weight matrices:
 * validation, row dequantization and packing from ternary-valued floats.
 *
 * A matrix W [n, k] holds values in {-s, 0, +s}. Every format stores a 2-bit
 * or base-3 code c in {0, 1, 2} per weight, with W = (c - 1) * scale:
 *
 *   TQ2_0 (ggml)   blocks of 256 columns in 66 bytes: qs[64], then f16 d.
 *                  Byte m of each 32-byte half holds columns m, m+32, m+64,
 *                  m+96 of that half at bits 0-1, 2-3, 4-5, 6-7. k % 256 == 0.
 *   TQ1_0 (ggml)   blocks of 256 columns in 54 bytes: qs[48], qh[4], f16 d.
 *                  qs[0..32) hold columns 32j + m (j = 0..4) of byte m as base-3
 *                  digits, most significant first, scaled to a byte as
 *                  ceil(v * 256 / 243); qs[32..48) the same for columns
 *                  160 + 16j + m; qh[m] holds columns 240 + 4j + m (j = 0..3) as
 *                  the top 4 digits. Digit j of byte q is ((q * 3^j mod 256) * 3) >> 8.
 *                  k % 256 == 0.
 *   I2_S (bitnet.cpp, x86)   groups of 128 columns in 32 bytes; byte m of a
 *                  group holds columns m, m+32, m+64, m+96 at bits 6-7, 4-5,
 *                  2-3, 0-1 (highest first). All n*k/4 bytes, then one f32
 *                  scale (files add 28 padding bytes). k % 128 == 0.
 *   BT2 (bitttt)   the TQ2_0 bit order in 32-byte groups of 128 columns, with
 *                  no per-block scale; each row padded to a whole group with
 *                  code 1 (zero), rows ceil(k/128)*32 bytes apart, then one f32
 *                  scale. Any k.
 *
 * The packers follow the quantizers that wrote the reference files, so bytes
 * packed from the dequantized values of a file equal the file: TQ2_0/TQ1_0 use
 * llama.cpp's rule (d = max|w| of the block, c = lroundf(w / d) + 1), I2_S
 * bitnet.cpp's (scale = max|w| of the tensor, c = sign(w) + 1 with |w| < 1e-6
 * as zero) and BT2 lroundf(w / scale) + 1 with scale = max|w| of the tensor.
 */
#ifndef BT_TERNARY_FORMAT_H
#define BT_TERNARY_FORMAT_H
#include <stddef.h>
#include <stdint.h>
#include "base/dtype.h"
#include "base/error.h"

typedef enum bt_ternary_format {
    BT_TERNARY_TQ2_0 = 0,
    BT_TERNARY_TQ1_0,
    BT_TERNARY_I2_S,
    BT_TERNARY_BT2,
    BT_TERNARY_FORMAT_COUNT
} bt_ternary_format;

enum {
    BT_TERNARY_GROUP = 128,        /* columns per 32-byte group of the 2-bit formats */
    BT_TQ_BLOCK = 256,             /* columns per TQ2_0 / TQ1_0 block */
    BT_TQ2_0_BLOCK_BYTES = 66,
    BT_TQ1_0_BLOCK_BYTES = 54,
    BT_I2_S_FILE_PADDING = 28      /* bytes bitnet.cpp writes after the f32 scale */
};

typedef struct bt_ternary_format_info {
    const char *name;       /* "tq2_0", "tq1_0", "i2_s", "bt2" */
    int block_cols;         /* columns per block: the unit of k and of a block scale */
    int block_bytes;
    int has_block_scales;   /* 1: an f16 d per block (TQ2_0, TQ1_0); 0: one f32 after the rows */
    int pads_rows;          /* 1: any k, rows padded to whole blocks (BT2) */
} bt_ternary_format_info;

const bt_ternary_format_info *bt_ternary_format_get_info(bt_ternary_format f);   /* NULL if out of range */
int bt_ternary_format_from_name(const char *name, bt_ternary_format *out);      /* 1 if found */
int bt_ternary_format_from_dtype(bt_dtype d, bt_ternary_format *out);           /* 1 for TQ2_0, TQ1_0, I2_S */

/* Bytes from one row to the next; 0 if k does not fit the format. */
size_t bt_ternary_row_bytes(bt_ternary_format f, int64_t k);
/* Bytes a packed [n, k] matrix needs (rows, then the f32 scale where there is
 * one; I2_S also counts bitnet.cpp's 28 padding bytes); 0 if k does not fit. */
size_t bt_ternary_data_bytes(bt_ternary_format f, int64_t n, int64_t k);

/* The codes (0, 1, 2 for -1, 0, +1) of block b of a row (block_cols of them). */
void bt_ternary_block_codes(uint8_t *codes /* [block_cols] */, bt_ternary_format f,
                            const uint8_t *row /* [bt_ternary_row_bytes] */, int64_t b);
/* The f16 d of block b of a TQ2_0 / TQ1_0 row, as f32. */
float bt_ternary_block_scale(bt_ternary_format f, const uint8_t *row, int64_t b);

/* Pack W [n, k] (values expected in {-s, 0, +s}; other values are rounded by
 * the format's rule above) into out. Fails with BT_ERR_ARG if k does not fit
 * the format or out_bytes < bt_ternary_data_bytes(f, n, k). */
bt_status bt_ternary_pack(void *out /* [out_bytes] */, size_t out_bytes, bt_ternary_format f,
                          const float *w /* [n, k] */, int64_t n, int64_t k);

#endif
