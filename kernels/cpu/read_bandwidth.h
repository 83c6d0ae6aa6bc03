/* read_bandwidth.h - the memory-read probe the benchmarks compare kernels with:
 * sums a large buffer with the widest vector loads this CPU has, split over the
 * OpenMP threads like the kernels, so "fraction of read bandwidth" compares like
 * with like. */
#ifndef BT_READ_BANDWIDTH_H
#define BT_READ_BANDWIDTH_H
#include <stddef.h>
#include <stdint.h>

/* Reads every byte of buf once; returns a value that depends on all of them
 * (so the reads cannot be optimised away). */
uint64_t bt_read_all(const void *buf /* [bytes] */, size_t bytes);

#endif
