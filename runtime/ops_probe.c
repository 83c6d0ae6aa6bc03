/* ops_probe.c - bt_op_read_all (ops_probe.h). */
#include "ops_probe.h"
#include "kernels/cpu/read_bandwidth.h"
#include "threads.h"

bt_status bt_op_read_all(const bt_tensor *t, uint64_t *checksum) {
    *checksum = 0;
    if (bt_tensor_device(t).type != BT_DEVICE_CPU || !bt_tensor_is_contiguous(t))
        return bt_set_error(BT_ERR_ARG, "read_all: needs a contiguous CPU tensor");
    bt_apply_num_threads();
    *checksum = bt_read_all(bt_tensor_data(t), bt_tensor_nbytes(t));
    return BT_OK;
}
