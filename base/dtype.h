/* dtype.h - element types of runtime tensors, with their block layout.
 *
 * Plain types have block_size 1. Block-quantized types (ggml style) store
 * block_size elements in block_bytes bytes; their tensors are contiguous along
 * the last dimension, whose length must be a multiple of block_size.
 */
#ifndef BT_DTYPE_H
#define BT_DTYPE_H
#include <stddef.h>
#include <stdint.h>

typedef enum bt_dtype {
    BT_F32 = 0,
    BT_F16,
    BT_BF16,
    BT_I8,
    BT_I32,
    BT_U8,
    BT_F64,
    BT_Q8_0,    /* ggml: 32 x int8 + f16 scale = 34 bytes */
    BT_TQ2_0,   /* ggml: 256 ternary as 2-bit + f16 scale = 66 bytes */
    BT_TQ1_0,   /* ggml: 256 ternary base-3 + f16 scale = 54 bytes */
    BT_I2_S,    /* bitnet.cpp: 128 ternary as 2-bit = 32 bytes; per-tensor f32 scale after the data */
    BT_Q6_K,    /* ggml: 256 x 6-bit codes, 16 int8 scales, f16 scale = 210 bytes */
    BT_DTYPE_COUNT
} bt_dtype;

typedef struct bt_dtype_info {
    const char *name;        /* "f32", "tq2_0", ... */
    uint32_t block_size;     /* elements per block */
    uint32_t block_bytes;    /* bytes per block */
    int is_float;            /* elements are plain floating point values */
} bt_dtype_info;

const bt_dtype_info *bt_dtype_get_info(bt_dtype t);   /* NULL if out of range */
int bt_dtype_from_name(const char *name, bt_dtype *out);   /* 1 if found */
/* Bytes for one row of n elements; 0 if n is not a multiple of the block size. */
size_t bt_dtype_row_bytes(bt_dtype t, int64_t n);

/* Scalar conversions (IEEE half and bfloat16, round to nearest even). */
float bt_f16_to_f32(uint16_t h);
uint16_t bt_f32_to_f16(float f);
float bt_bf16_to_f32(uint16_t h);
uint16_t bt_f32_to_bf16(float f);

#endif
