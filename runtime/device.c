/* device.c - device naming, CPU/CUDA memory and cross-device copies. */
#include "device.h"
#include "platform/platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef BT_HAVE_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

int bt_device_equal(bt_device a, bt_device b) { return a.type == b.type && a.index == b.index; }

const char *bt_device_name(bt_device d, char *buf, size_t cap) {
    if (d.type == BT_DEVICE_CPU) snprintf(buf, cap, "cpu");
    else snprintf(buf, cap, "cuda:%d", d.index);
    return buf;
}

bt_status bt_device_parse(const char *name, bt_device *out) {
    if (strcmp(name, "cpu") == 0) { *out = BT_CPU; return BT_OK; }
    if (strcmp(name, "cuda") == 0) { *out = (bt_device){BT_DEVICE_CUDA, 0}; return BT_OK; }
    int idx;
    char tail;
    if (sscanf(name, "cuda:%d%c", &idx, &tail) == 1 && idx >= 0) {
        *out = (bt_device){BT_DEVICE_CUDA, idx};
        return BT_OK;
    }
    return bt_set_error(BT_ERR_ARG, "unknown device '%s' (expected cpu, cuda or cuda:N)", name);
}

int bt_cuda_compiled(void) {
#ifdef BT_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

#ifdef BT_HAVE_CUDA
static bt_status cuda_result(int rc, const char *err) {
    return rc == 0 ? BT_OK : bt_set_error(BT_ERR_DEVICE, "%s", err);
}
#endif

int bt_cuda_device_count(void) {
#ifdef BT_HAVE_CUDA
    static int count = -1;
    if (count < 0) {
        char err[BT_CUDA_ERR_CAP];
        if (bt_cuda_count(&count, err) != 0) count = 0;
    }
    return count;
#else
    return 0;
#endif
}

bt_status bt_device_probe(bt_device d, char *name, size_t cap, size_t *free_bytes, size_t *total_bytes) {
    *free_bytes = *total_bytes = 0;
    if (cap) name[0] = '\0';
    if (d.type != BT_DEVICE_CUDA) return bt_set_error(BT_ERR_ARG, "not a CUDA device");
#ifdef BT_HAVE_CUDA
    int count = 0;
    char err[BT_CUDA_ERR_CAP];
    if (bt_cuda_count(&count, err) != 0) return bt_set_error(BT_ERR_DEVICE, "%s", err);
    if (count == 0) return bt_set_error(BT_ERR_DEVICE, "no CUDA device found");
    if (d.index >= count) return bt_set_error(BT_ERR_DEVICE, "cuda:%d: no such device (%d found)", d.index, count);
    bt_status st = bt_device_memory(d, free_bytes, total_bytes);
    if (st) return st;
    if (bt_cuda_device_describe(d.index, name, cap, err) != 0) snprintf(name, cap, "cuda:%d", d.index);
    return BT_OK;
#else
    return bt_set_error(BT_ERR_DEVICE, "this build has no CUDA support");
#endif
}

static bt_status check_cuda_device(bt_device d) {
    if (!bt_cuda_compiled()) return bt_set_error(BT_ERR_DEVICE, "cuda:%d: no CUDA support compiled in", d.index);
    int n = bt_cuda_device_count();
    if (d.index < 0 || d.index >= n)
        return bt_set_error(BT_ERR_DEVICE, "cuda:%d: no such device (%d CUDA device%s found)", d.index, n, n == 1 ? "" : "s");
    return BT_OK;
}

bt_status bt_device_memory(bt_device d, size_t *free_bytes, size_t *total_bytes) {
    *free_bytes = *total_bytes = 0;
    if (d.type == BT_DEVICE_CPU) return bt_set_error(BT_ERR_UNSUPPORTED, "cpu: memory query is not implemented");
    bt_status st = check_cuda_device(d);
    if (st) return st;
#ifdef BT_HAVE_CUDA
    char err[BT_CUDA_ERR_CAP];
    return cuda_result(bt_cuda_mem_info(d.index, free_bytes, total_bytes, err), err);
#else
    return BT_ERR_DEVICE;
#endif
}

bt_status bt_device_alloc(bt_device d, size_t nbytes, void **out) {
    *out = NULL;
    if (d.type == BT_DEVICE_CPU) {
        size_t rounded = (nbytes + 63) & ~(size_t)63;
        *out = bt_aligned_alloc(64, rounded ? rounded : 64);
        if (!*out) return bt_set_error(BT_ERR_NOMEM, "cpu: cannot allocate %zu bytes", nbytes);
        return BT_OK;
    }
    bt_status st = check_cuda_device(d);
    if (st) return st;
#ifdef BT_HAVE_CUDA
    char err[BT_CUDA_ERR_CAP];
    return cuda_result(bt_cuda_malloc(d.index, nbytes, out, err), err);
#else
    return BT_ERR_DEVICE;
#endif
}

void bt_device_free(bt_device d, void *p) {
    if (!p) return;
    if (d.type == BT_DEVICE_CPU) { bt_aligned_free(p); return; }
#ifdef BT_HAVE_CUDA
    char err[BT_CUDA_ERR_CAP];
    bt_cuda_free(d.index, p, err);
#endif
}

bt_status bt_device_copy(bt_device dst_dev, void *dst, bt_device src_dev, const void *src, size_t nbytes) {
    if (nbytes == 0) return BT_OK;
    if (dst_dev.type == BT_DEVICE_CPU && src_dev.type == BT_DEVICE_CPU) {
        memmove(dst, src, nbytes);
        return BT_OK;
    }
    bt_device gpu = dst_dev.type == BT_DEVICE_CUDA ? dst_dev : src_dev;
    bt_status st = check_cuda_device(gpu);
    if (st) return st;
#ifdef BT_HAVE_CUDA
    if (dst_dev.type == BT_DEVICE_CUDA && src_dev.type == BT_DEVICE_CUDA && dst_dev.index != src_dev.index)
        return bt_set_error(BT_ERR_UNSUPPORTED, "copy between two CUDA devices is not supported");
    int kind = src_dev.type == BT_DEVICE_CPU ? 0 : dst_dev.type == BT_DEVICE_CPU ? 1 : 2;
    char err[BT_CUDA_ERR_CAP];
    return cuda_result(bt_cuda_memcpy(gpu.index, dst, src, nbytes, kind, err), err);
#else
    return BT_ERR_DEVICE;
#endif
}

bt_status bt_device_synchronize(bt_device d) {
    if (d.type == BT_DEVICE_CPU) return BT_OK;
    bt_status st = check_cuda_device(d);
    if (st) return st;
#ifdef BT_HAVE_CUDA
    char err[BT_CUDA_ERR_CAP];
    return cuda_result(bt_cuda_synchronize(d.index, err), err);
#else
    return BT_ERR_DEVICE;
#endif
}
