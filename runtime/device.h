/* device.h - where tensor memory lives (CPU or a CUDA device) and the calls that
 * move bytes between devices. Without a CUDA build every CUDA request fails
 * with BT_ERR_DEVICE ("no CUDA support compiled in"). */
#ifndef BT_DEVICE_H
#define BT_DEVICE_H
#include <stddef.h>
#include "base/error.h"
/* The CPU's SIMD features and the level its kernels run at (bt_cpu_features_get,
 * bt_simd_level_get/set/name): front-ends reach them through this header. */
#include "kernels/cpu/cpu_features.h"

typedef enum bt_device_type { BT_DEVICE_CPU = 0, BT_DEVICE_CUDA = 1 } bt_device_type;

typedef struct bt_device {
    bt_device_type type;
    int index;           /* CUDA ordinal; 0 for the CPU */
} bt_device;

#define BT_CPU ((bt_device){BT_DEVICE_CPU, 0})

int bt_device_equal(bt_device a, bt_device b);
/* "cpu", "cuda:0"; writes into buf and returns it. */
const char *bt_device_name(bt_device d, char *buf, size_t cap);
bt_status bt_device_parse(const char *name, bt_device *out);   /* "cpu", "cuda", "cuda:N" */

BT_API int bt_cuda_compiled(void);             /* 1 if this build has CUDA kernels */
BT_API int bt_cuda_device_count(void);         /* 0 without CUDA, a driver or a GPU */
/* BT_OK when d is a CUDA device this process can use, with its description
 * (name, SM, memory) in name[cap] and its free and total memory; otherwise
 * BT_ERR_DEVICE (BT_ERR_ARG for the CPU) saying why not (no CUDA support compiled
 * in, the driver's error, no such device). */
bt_status bt_device_probe(bt_device d, char *name, size_t cap, size_t *free_bytes, size_t *total_bytes);
/* Free and total memory of a device, in bytes. */
bt_status bt_device_memory(bt_device d, size_t *free_bytes, size_t *total_bytes);

/* Raw device memory (CPU: 64-byte aligned heap). */
bt_status bt_device_alloc(bt_device d, size_t nbytes, void **out);
void bt_device_free(bt_device d, void *p);
/* Copy bytes between any two devices (either may be the CPU). */
bt_status bt_device_copy(bt_device dst_dev, void *dst, bt_device src_dev, const void *src, size_t nbytes);
bt_status bt_device_synchronize(bt_device d);

#endif
