/* kinds.c - names of the shared enums (kinds.h). */
#include "kinds.h"
#include <stddef.h>
#include <string.h>

const char *bt_op_activation_name(bt_op_activation act) {
    switch (act) {
    case BT_OP_SILU: return "silu";
    case BT_OP_RELU2: return "relu2";
    }
    return NULL;
}

const char *bt_op_rope_style_name(bt_op_rope_style style) {
    switch (style) {
    case BT_OP_ROPE_INTERLEAVED: return "interleaved";
    case BT_OP_ROPE_NEOX: return "neox";
    }
    return NULL;
}

/* The enums count from 0 without gaps: the names end at the first value without one. */
int bt_op_activation_from_name(const char *name, bt_op_activation *out) {
    const char *n;
    for (int v = 0; name && (n = bt_op_activation_name((bt_op_activation)v)); v++)
        if (!strcmp(n, name)) { *out = (bt_op_activation)v; return 1; }
    return 0;
}

int bt_op_rope_style_from_name(const char *name, bt_op_rope_style *out) {
    const char *n;
    for (int v = 0; name && (n = bt_op_rope_style_name((bt_op_rope_style)v)); v++)
        if (!strcmp(n, name)) { *out = (bt_op_rope_style)v; return 1; }
    return 0;
}
