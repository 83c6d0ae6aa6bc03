/* kinds.c - names of the shared enums (kinds.h). */
#include "kinds.h"
#include <stddef.h>

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
