/* ternary_hf.h - Hugging Face transformers' packed BitNet b1.58 weights
 * (BitNetForCausalLM, e.g. microsoft/bitnet-b1.58-2B-4T) and their conversion
 * to TQ2_0 at load time.
 *
 * Layout (transformers/integrations/bitnet.py, pack_weights / unpack_weights):
 * a ternary W [n, k] (n % 4 == 0) is stored as uint8 P [n/4, k]. Row r of W
 * sits in packed row r % (n/4) at bits 2*(r / (n/4)): packed row j holds rows
 * j, j + n/4, j + n/2, j + 3n/4 in bits 0-1, 2-3, 4-5, 6-7. Each 2-bit code c
 * is 0, 1, 2 for -1, 0, +1 (value = c - 1); code 3 never occurs.
 *
 * Scale: each packed weight comes with a one-element `weight_scale`. The
 * BitLinear used for packed checkpoints (quantization_config.linear_class
 * "bitlinear", the default) computes y = (x_q . (c - 1)) / (x_scale * weight_scale),
 * so a +1 weight is worth 1 / weight_scale (BT_HF_SCALE_DIVIDES).
 * AutoBitLinear ("autobitlinear") multiplies its output by weight_scale
 * instead (BT_HF_SCALE_MULTIPLIES).
 */
#ifndef BT_TERNARY_HF_H
#define BT_TERNARY_HF_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

typedef enum bt_hf_scale_use {
    BT_HF_SCALE_DIVIDES = 0,    /* BitLinear: W = (c - 1) / weight_scale */
    BT_HF_SCALE_MULTIPLIES      /* AutoBitLinear: W = (c - 1) * weight_scale */
} bt_hf_scale_use;

/* Codes (0, 1, 2) of row `row` of the unpacked W [4 * packed_rows, k]. */
void bt_ternary_hf_row_codes(uint8_t *codes /* [k] */, const uint8_t *packed /* [packed_rows, k] */,
                             int64_t packed_rows, int64_t k, int64_t row);

/* Converts P [packed_rows, k] with its weight_scale into a TQ2_0 matrix
 * [4 * packed_rows, k] (blocks d = the value of a +1 weight, as f16), one row
 * at a time through a row buffer, without touching P again afterwards.
 * BT_ERR_ARG if k % 256 != 0, the scale is not finite and > 0 or out_bytes
 * is too small; BT_ERR_FORMAT if P holds code 3. */
bt_status bt_ternary_hf_to_tq2_0(void *out /* [4 * packed_rows, k/256 * 66] */, size_t out_bytes,
                                 const uint8_t *packed /* [packed_rows, k] */, int64_t packed_rows, int64_t k,
                                 float weight_scale, bt_hf_scale_use use);

/* The reverse, following pack_weights: W [n, k] (n % 4 == 0) of values in
 * {-s, 0, +s}, s = max|W|, into P [n/4, k]; *scale = s. Values round to the
 * nearest code (w / s). For tests and converters. BT_ERR_ARG on bad shapes. */
bt_status bt_ternary_hf_pack(uint8_t *packed /* [n/4, k] */, float *scale, const float *w /* [n, k] */,
                             int64_t n, int64_t k);

#endif
