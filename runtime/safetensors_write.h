/* safetensors_write.h - writes .safetensors files (the format runtime/safetensors.h
 * reads): u64 little-endian header length, a JSON header naming each tensor's
 * dtype, shape and byte range, then the data. Used for saved session state
 * (TTT fast weights, KV caches), small enough to build in memory.
 *
 *   const int64_t shape[2] = {6, 33 * 32};
 *   bt_safetensors_entry t = {"layers.0.weights", BT_F32, 2, shape, data, nbytes};
 *   bt_safetensors_meta m = {"format", "bitttt-state"};
 *   bt_safetensors_write_file("state.safetensors", &t, 1, &m, 1);
 *
 * The header lists the tensors in the order given, then "__metadata__" (string
 * values), and is padded with spaces to a multiple of 8 bytes. Names must be
 * unique and not "__metadata__". The file is written under a temporary name and
 * renamed into place, so a failed write leaves any earlier file as it was.
 */
#ifndef BT_SAFETENSORS_WRITE_H
#define BT_SAFETENSORS_WRITE_H
#include <stddef.h>
#include <stdint.h>
#include "base/dtype.h"
#include "base/error.h"
#include "safetensors.h"

typedef struct bt_safetensors_entry {
    const char *name;
    bt_dtype dtype;           /* plain dtypes only: f32 f16 bf16 f64 i8 u8 i32 */
    int n_dims;               /* 0 .. BT_SAFETENSORS_MAX_DIMS */
    const int64_t *shape;     /* [n_dims] numpy order */
    const void *data;         /* [nbytes], the shape's elements, row-major */
    size_t nbytes;
} bt_safetensors_entry;

bt_status bt_safetensors_write_file(const char *path, const bt_safetensors_entry *tensors /* [n_tensors] */,
                                    size_t n_tensors, const bt_safetensors_meta *meta /* [n_meta] */,
                                    size_t n_meta);

#endif
