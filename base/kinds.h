/* kinds.h - the enums every layer shares (kernels, ops, front-ends): one enum per
 * concept, so a kernel, its op and the Lua binding all name a value the same way.
 * Switches over them list every value and have no `default:`, so the compiler
 * (-Wswitch) flags a value added here and not handled there; a value from outside
 * (a file, a script) is checked with the *_name functions, which return NULL for
 * anything unknown. */
#ifndef BT_KINDS_H
#define BT_KINDS_H

/* The activation of a gated FFN: out = act(gate) * up. */
typedef enum bt_op_activation {
    BT_OP_SILU = 0,    /* x * sigmoid(x) (Llama, TTT, SwiGLU) */
    BT_OP_RELU2 = 1    /* max(x, 0)^2 (BitNet b1.58) */
} bt_op_activation;

/* How RoPE pairs the first rot_dim values of a head. */
typedef enum bt_op_rope_style {
    BT_OP_ROPE_INTERLEAVED = 0,   /* pairs (2i, 2i+1): llama2.c, GGUF llama, TTT */
    BT_OP_ROPE_NEOX = 1           /* pairs (i, i + rot_dim/2): HF rotate_half, BitNet b1.58 */
} bt_op_rope_style;

/* "silu", "relu2" / "interleaved", "neox"; NULL for a value outside the enum. */
const char *bt_op_activation_name(bt_op_activation act);
const char *bt_op_rope_style_name(bt_op_rope_style style);
/* The value named `name` into *out; 0 (and *out untouched) for any other name. */
int bt_op_activation_from_name(const char *name, bt_op_activation *out);
int bt_op_rope_style_from_name(const char *name, bt_op_rope_style *out);

#endif
