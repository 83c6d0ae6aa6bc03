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
#include "kernels/cpu/ternary_hf.h"

static bt_tensor *check_matrix(lua_State *L, int idx, bt_dtype dtype, const char *fn) {
    bt_tensor *t = bt_lua_check_tensor(L, idx);
    if (t->dtype != dtype || t->ndim != 2 || !bt_tensor_is_contiguous(t) || bt_tensor_device(t).type != BT_DEVICE_CPU)
        luaL_error(L, "%s: expected a contiguous 2-d %s CPU tensor, got %d-d %s", fn, bt_dtype_get_info(dtype)->name,
                   t->ndim, bt_dtype_get_info(t->dtype)->name);
    return t;
}

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
    bt_tensor *packed = check_matrix(L, 1, BT_U8, "ternary_from_hf"), *out;
    const float scale = check_scale(L, 2);
    const bt_hf_scale_use use = luaL_checkoption(L, 3, NULL, uses) == 0 ? BT_HF_SCALE_DIVIDES : BT_HF_SCALE_MULTIPLIES;
    const int64_t p = packed->shape[0], k = packed->shape[1];
    if (k % 256 != 0)   /* checked before allocating: TQ2_0 tensors need whole blocks */
        luaL_error(L, "ternary_from_hf: packed weight [%d, %d]: in_features must be a multiple of 256 for TQ2_0",
                   (int)p, (int)k);
    const int64_t shape[2] = {4 * p, k};
    bt_lua_check(L, bt_tensor_new(&out, BT_TQ2_0, 2, shape, BT_CPU));
    bt_lua_push_tensor(L, out);
    bt_lua_check(L, bt_ternary_hf_to_tq2_0(bt_tensor_data(out), bt_tensor_nbytes(out), bt_tensor_data(packed), p, k,
                                           scale, use));
    return 1;
}

static int l_to_hf(lua_State *L) {
    bt_tensor *w = check_matrix(L, 1, BT_F32, "ternary_to_hf"), *out;
    if (w->shape[0] % 4 != 0) luaL_error(L, "ternary_to_hf: out_features %d is not a multiple of 4", (int)w->shape[0]);
    const int64_t shape[2] = {w->shape[0] / 4, w->shape[1]};
    bt_lua_check(L, bt_tensor_new(&out, BT_U8, 2, shape, BT_CPU));
    bt_lua_push_tensor(L, out);
    float scale;
    bt_lua_check(L, bt_ternary_hf_pack(bt_tensor_data(out), &scale, bt_tensor_data(w), w->shape[0], w->shape[1]));
    lua_pushnumber(L, scale);
    return 2;
}

void bt_lua_open_ternary_hf(lua_State *L) {
    static const luaL_Reg fns[] = {{"ternary_from_hf", l_from_hf}, {"ternary_to_hf", l_to_hf}, {NULL, NULL}};
    bt_lua_set_functions(L, fns);
}
