/* ternary_hf_lua.c - Hugging Face packed BitNet weights for Lua (layout in
 * kernels/cpu/ternary_hf.h):
 *   core.ternary_from_hf(packed, weight_scale, "divides"|"multiplies") -> tq2_0 tensor [4p, k]
 *       packed: u8 [p, k] (e.g. mmapped from model.safetensors; only read);
 *       weight_scale: a number or a one-element float tensor; "divides" is
 *       transformers' BitLinear (a +1 weight is worth 1 / weight_scale),
 *       "multiplies" its AutoBitLinear
 *   core.ternary_to_hf(w) -> packed u8 [n/4, k], s
 *       w: f32 [n, k] ternary-valued ({-s, 0, +s}, s = max|w|), as transformers'
 *       pack_weights lays it out; for tests and converters */
#include "binding.h"
#include "runtime/ops_ternary.h"

/* weight_scale as a number: a Lua number or the single element of a CPU tensor */
static float check_scale(lua_State *L, int idx) {
    if (lua_type(L, idx) == LUA_TNUMBER) return (float)lua_tonumber(L, idx);
    bt_tensor *t = bt_lua_check_tensor(L, idx);
    if (bt_tensor_numel(t) != 1 || bt_tensor_device(t).type != BT_DEVICE_CPU)
        luaL_error(L, "ternary_from_hf: weight_scale must be a number or a one-element CPU tensor");
    const int64_t zeros[BT_MAX_DIMS] = {0};
    double v;
    bt_lua_check(L, bt_tensor_get(t, zeros, &v));
    return (float)v;
}

static int l_from_hf(lua_State *L) {
    static const char *uses[] = {"divides", "multiplies", NULL};
    bt_tensor *packed = bt_lua_check_tensor(L, 1), *out;
    const float scale = check_scale(L, 2);
    const bt_hf_scale_use use = luaL_checkoption(L, 3, NULL, uses) == 0 ? BT_HF_SCALE_DIVIDES : BT_HF_SCALE_MULTIPLIES;
    bt_lua_check(L, bt_op_ternary_from_hf(&out, packed, scale, use));
    bt_lua_push_tensor(L, out);
    return 1;
}

static int l_to_hf(lua_State *L) {
    bt_tensor *out;
    float scale;
    bt_lua_check(L, bt_op_ternary_to_hf(&out, &scale, bt_lua_check_tensor(L, 1)));
    bt_lua_push_tensor(L, out);
    lua_pushnumber(L, scale);
    return 2;
}

void bt_lua_open_ternary_hf(lua_State *L) {
    static const luaL_Reg fns[] = {{"ternary_from_hf", l_from_hf}, {"ternary_to_hf", l_to_hf}, {NULL, NULL}};
    bt_lua_set_functions(L, fns);
}
