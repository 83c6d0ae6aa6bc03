/* ops_devices.h - the device checks every op file shares: all tensors of an op on
 * one device, outputs that may be written, and ops without a GPU kernel. */
#ifndef BT_OPS_DEVICES_H
#define BT_OPS_DEVICES_H
#include "device.h"
#include "base/error.h"
#include "tensor.h"

typedef struct bt_op_arg { const bt_tensor *t; const char *name; } bt_op_arg;

/* The device every (non-NULL) tensor of an op lives on, into *dev; an error names two that differ. */
bt_status bt_op_one_device(const char *op, bt_device *dev, const bt_op_arg *args, int n);

/* ONE_DEVICE(op, &dev, {t1, "name1"}, {t2, "name2"}, ...) */
#define ONE_DEVICE(op, dev, ...)                                                  \
    bt_op_one_device(op, dev, (const bt_op_arg[]){__VA_ARGS__},                   \
                     (int)(sizeof((const bt_op_arg[]){__VA_ARGS__}) / sizeof(bt_op_arg)))

/* BT_ERR_ARG naming the first (non-NULL) tensor an op would write whose storage is
 * read-only (a weight mapped from a model file): every op checks its outputs. */
bt_status bt_op_writable(const char *op, const bt_op_arg *args, int n);

/* WRITABLE(op, {out, "out"}, ...) */
#define WRITABLE(op, ...)                                                         \
    bt_op_writable(op, (const bt_op_arg[]){__VA_ARGS__},                          \
                   (int)(sizeof((const bt_op_arg[]){__VA_ARGS__}) / sizeof(bt_op_arg)))

/* BT_ERR_UNSUPPORTED naming the device unless dev is the CPU (ops that have no GPU kernel). */
bt_status bt_op_require_cpu(const char *op, bt_device dev);

#endif
