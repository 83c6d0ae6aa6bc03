/* test_kinds.c - the shared enums (base/kinds.h): names both ways, and a value outside
 * an enum is refused by the ops with a message naming it (never run as a default);
 * the kernels give NaN / leave x alone rather than guess. */
#include <math.h>
#include <string.h>
#include "check.h"
#include "base/kinds.h"
#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/rope.h"
#include "runtime/ops.h"
#include "runtime/ops_ttt.h"

BT_TEST(kinds_names_both_ways) {
    bt_op_activation act = BT_OP_SILU;
    BT_CHECK(bt_op_activation_from_name("relu2", &act) && act == BT_OP_RELU2, "relu2");
    BT_CHECK(bt_op_activation_from_name("silu", &act) && act == BT_OP_SILU, "silu");
    BT_CHECK(!bt_op_activation_from_name("gelu", &act) && act == BT_OP_SILU, "gelu is not an activation here");
    BT_CHECK(!bt_op_activation_from_name(NULL, &act), "NULL");
    BT_CHECK(!strcmp(bt_op_activation_name(BT_OP_RELU2), "relu2"), "name of relu2");
    BT_CHECK(bt_op_activation_name((bt_op_activation)2) == NULL, "value 2 has no name");
    bt_op_rope_style style = BT_OP_ROPE_INTERLEAVED;
    BT_CHECK(bt_op_rope_style_from_name("neox", &style) && style == BT_OP_ROPE_NEOX, "neox");
    BT_CHECK(!bt_op_rope_style_from_name("yarn", &style) && style == BT_OP_ROPE_NEOX, "yarn is not a style");
    BT_CHECK(bt_op_rope_style_name((bt_op_rope_style)-1) == NULL, "value -1 has no name");
}

/* A [2, 3] f32 CPU tensor holding base, base + 1, ... */
static bt_tensor *small(float base) {
    const int64_t shape[2] = {2, 3};
    bt_tensor *t = NULL;
    if (bt_tensor_new(&t, BT_F32, 2, shape, BT_CPU)) return NULL;
    for (int i = 0; i < 6; i++) ((float *)bt_tensor_data(t))[i] = base + (float)i;
    return t;
}

BT_TEST(kinds_ops_refuse_values_outside_the_enums) {
    bt_tensor *out = small(100), *gate = small(-2), *up = small(1), *pos = NULL;
    const int64_t pshape[1] = {2};
    BT_CHECK(out && gate && up && bt_tensor_new(&pos, BT_I32, 1, pshape, BT_CPU) == BT_OK, "allocation");
    memset(bt_tensor_data(pos), 0, 8);

    BT_CHECK(bt_op_gated(out, gate, up, (bt_op_activation)2) == BT_ERR_ARG, "gated took activation 2");
    BT_CHECK(strstr(bt_last_error(), "gated: unknown activation 2"), "%s", bt_last_error());
    BT_CHECK(bt_op_activate(out, gate, (bt_op_activation)-1) == BT_ERR_ARG, "activate took activation -1");
    BT_CHECK(strstr(bt_last_error(), "activate: unknown activation -1"), "%s", bt_last_error());
    BT_CHECK(bt_op_rope(out, pos, 1, 2, 2, 10000.0f, (bt_op_rope_style)7) == BT_ERR_ARG, "rope took style 7");
    BT_CHECK(strstr(bt_last_error(), "rope: unknown RoPE style 7"), "%s", bt_last_error());
    for (int i = 0; i < 6; i++)
        BT_CHECK(((float *)bt_tensor_data(out))[i] == 100.0f + (float)i, "out changed at %d", i);
    /* The form is checked before any tensor is read. */
    BT_CHECK(bt_op_ttt_linear(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1e-6f, 0, NULL,
                              (bt_ttt_form)9, NULL) == BT_ERR_ARG, "ttt_linear took form 9");
    BT_CHECK(strstr(bt_last_error(), "ttt_linear: unknown form 9"), "%s", bt_last_error());

    /* The valid values still run. */
    BT_CHECK(bt_op_gated(out, gate, up, BT_OP_RELU2) == BT_OK, "%s", bt_last_error());
    bt_tensor_free(out), bt_tensor_free(gate), bt_tensor_free(up), bt_tensor_free(pos);
}

BT_TEST(kinds_kernels_do_not_guess) {
    float x[5] = {-1.5f, -0.25f, 0.0f, 0.5f, 3.0f}, y[5];
    bt_activate(y, x, 5, (bt_op_activation)3);
    for (int i = 0; i < 5; i++) BT_CHECK(isnan(y[i]), "activation 3 gave %g at %d, not NaN", (double)y[i], i);
    float row[4] = {1, 2, 3, 4};
    const int32_t pos[1] = {5};
    bt_rope(row, pos, 1, 4, 1, 4, 4, 10000.0f, (bt_op_rope_style)2);
    for (int i = 0; i < 4; i++) BT_CHECK(row[i] == (float)(i + 1), "style 2 changed x[%d] to %g", i, (double)row[i]);
}
