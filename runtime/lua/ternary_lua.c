/* ternary_lua.c - ternary weight tools for Lua scripts (quantize, synthetic models):
 *   core.ternary_quantize(w)            -> wq, scale   (BitNet absmean; wq ternary-valued f32)
 *   core.ternary_pack(w, "tq2_0"|"tq1_0") -> packed tensor of that dtype ([n, k] ternary-valued f32 in)
 *   core.ternary_dequantize(w)          -> f32 tensor of a packed ternary weight's values
 *   core.ternary_random({n, k}, fmt, seed, scale) -> packed tensor with random codes (1/3 each),
 *       generated in C so that 2B-parameter synthetic models take seconds, not hours
 *   core.quantize_q8_0(w)               -> q8_0 tensor [n, k] of a 2-d f32 / f16 / bf16 matrix (an output head)
 *   core.quantize_q6_k(w)               -> q6_k tensor [n, k] likewise (k a multiple of 256) */
#include "binding.h"
#include "runtime/ops_ternary.h"

static int l_quantize(lua_State *L) {
    bt_tensor *out;
    float scale;
    bt_lua_check(L, bt_op_ternary_quantize(&out, &scale, bt_lua_check_tensor(L, 1)));
    bt_lua_push_tensor(L, out);
    lua_pushnumber(L, scale);
    return 2;
}

/* The packable dtype named by arg idx (tq2_0 or tq1_0: formats GGUF files hold). */
static bt_dtype check_packed_dtype(lua_State *L, int idx) {
    static const char *names[] = {"tq2_0", "tq1_0", NULL};
    return luaL_checkoption(L, idx, NULL, names) == 0 ? BT_TQ2_0 : BT_TQ1_0;
}

static int l_pack(lua_State *L) {
    bt_tensor *w = bt_lua_check_tensor(L, 1), *out;
    bt_lua_check(L, bt_op_ternary_pack(&out, w, check_packed_dtype(L, 2)));
    bt_lua_push_tensor(L, out);
    return 1;
}

static int l_random(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, 1);
    lua_rawgeti(L, 1, 2);
    int64_t n = bt_lua_whole(L, luaL_checknumber(L, -2), 1, INT32_MAX, "ternary_random: rows");
    int64_t k = bt_lua_whole(L, luaL_checknumber(L, -1), 1, INT32_MAX, "ternary_random: columns");
    lua_pop(L, 2);
    bt_dtype d = check_packed_dtype(L, 2);
    uint64_t seed = (uint64_t)bt_lua_check_whole(L, 3, 0, BT_LUA_WHOLE_MAX);
    float scale = (float)luaL_checknumber(L, 4);
    bt_tensor *out;
    bt_lua_check(L, bt_op_ternary_random(&out, n, k, d, seed, scale));
    bt_lua_push_tensor(L, out);
    return 1;
}

/* ternary_dequantize(w) -> f32 tensor of the weights' values (TQ2_0, TQ1_0, I2_S) */
static int l_dequantize(lua_State *L) {
    bt_tensor *out;
    bt_lua_check(L, bt_op_ternary_dequantize(&out, bt_lua_check_tensor(L, 1)));
    bt_lua_push_tensor(L, out);
    return 1;
}

static int quantize_head(lua_State *L, bt_dtype to) {
    bt_tensor *out;
    bt_lua_check(L, bt_op_quantize_head(&out, bt_lua_check_tensor(L, 1), to));
    bt_lua_push_tensor(L, out);
    return 1;
}

static int l_quantize_q8_0(lua_State *L) { return quantize_head(L, BT_Q8_0); }
static int l_quantize_q6_k(lua_State *L) { return quantize_head(L, BT_Q6_K); }

void bt_lua_open_ternary(lua_State *L) {
    static const luaL_Reg fns[] = {{"ternary_quantize", l_quantize}, {"ternary_pack", l_pack},
                                   {"ternary_random", l_random}, {"ternary_dequantize", l_dequantize},
                                   {"quantize_q8_0", l_quantize_q8_0}, {"quantize_q6_k", l_quantize_q6_k},
                                   {NULL, NULL}};
    bt_lua_set_functions(L, fns);
}
