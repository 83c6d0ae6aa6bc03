/* ops_probe.h - the memory-read probe benchmarks compare kernels with, as an op on
 * a tensor (kernels/cpu/read_bandwidth.h does the reading). */
#ifndef BT_OPS_PROBE_H
#define BT_OPS_PROBE_H
#include <stdint.h>
#include "base/error.h"
#include "tensor.h"

/* Reads every byte of t (a contiguous CPU tensor) once with the kernels' threads and
 * vector width; *checksum depends on all of them. BT_ERR_ARG for other tensors. */
bt_status bt_op_read_all(const bt_tensor *t, uint64_t *checksum);

#endif
