/* weights.c - fetching a model's named weights for the C API with shape checks
 * (errors as lua/bitttt/weights.lua's), and preparing ternary weights at load
 * time so that sessions on several threads only ever read them. */
#include <stdio.h>
#include <stdlib.h>
#include "capi_internal.h"

static const char *shape_text(int ndim, const int64_t *shape, char *buf, size_t cap) {
    return bt_shape_string(ndim, shape, buf, cap);
}

bt_status bt_capi_weight(bt_tensor **out, bt_model *m, const char *name, int ndim, const int64_t *shape) {
    const char *path = bt_model_file_path(m->file);
    char want[96], got[96];
    if (!bt_model_file_has_tensor(m->file, name)) {
        if (shape)
            return bt_set_error(BT_ERR_FORMAT, "%s: missing tensor '%s' (expected shape %s)", path, name,
                                shape_text(ndim, shape, want, sizeof want));
        return bt_set_error(BT_ERR_FORMAT, "%s: missing tensor '%s'", path, name);
    }
    bt_tensor *t;
    bt_status st = bt_model_file_tensor(&t, m->file, name);
    if (st) return st;
    if (shape) {
        int same = t->ndim == ndim;
        for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
        if (!same) {
            bt_set_error(BT_ERR_FORMAT, "%s: tensor '%s' has shape %s, expected %s", path, name,
                         shape_text(t->ndim, t->shape, got, sizeof got), shape_text(ndim, shape, want, sizeof want));
            bt_tensor_free(t);
            return BT_ERR_FORMAT;
        }
    }
    *out = t;
    return BT_OK;
}

bt_status bt_capi_weight_optional(bt_tensor **out, bt_model *m, const char *name, int ndim, const int64_t *shape) {
    *out = NULL;
    if (!bt_model_file_has_tensor(m->file, name)) return BT_OK;
    return bt_capi_weight(out, m, name, ndim, shape);
}
