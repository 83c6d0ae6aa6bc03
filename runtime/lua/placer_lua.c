/* placer_lua.c - devices and layer placement for Lua (lua/bitttt/placement.lua):
 *
 *   core.device_info([device="cuda:0"]) -> { compiled=, devices=, available=, error=, name=, free=, total= }
 *   core.place_plan{ layers = { {weight=, state=, cpu_only=}, ... }, head=, head_cpu_only=, embd_tied=,
 *                    scratch=, free=, reserve=, n_gpu_layers = N|"auto" }
 *       -> { layers = {bool, ...}, n_gpu_layers=, head=, embd=, gpu_bytes=, reason= }   (runtime/placer.h)
 *   core.place_weight(w, device) -> w on device in the layout its kernels read
 *   core.placed_bytes(w, device) -> bytes w takes there
 *   core.linear_unsupported(w, act_quant, device) -> nil, or why linear cannot run there
 *   core.attention_unsupported(n_head, n_kv, head_dim, rot_dim, device) -> nil or why not
 *   core.op_scratch_bytes(device, max_rows, max_k, n_head, head_dim, ctx) -> device scratch of the ops
 * Layer numbers in plans are 1-based Lua indices; sizes are bytes. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "binding.h"
#include "runtime/ops.h"
#include "runtime/placer.h"

static bt_device check_device(lua_State *L, int idx, const char *def) {
    bt_device d;
    bt_lua_check(L, bt_device_parse(luaL_optstring(L, idx, def), &d));
    return d;
}

static int l_device_info(lua_State *L) {
    bt_device d = check_device(L, 1, "cuda:0");
    size_t free_b = 0, total_b = 0;
    char name[256] = "";
    const char *error = bt_device_probe(d, name, sizeof name, &free_b, &total_b) ? bt_last_error() : NULL;
    lua_newtable(L);
    lua_pushboolean(L, bt_cuda_compiled()); lua_setfield(L, -2, "compiled");
    lua_pushinteger(L, bt_cuda_device_count()); lua_setfield(L, -2, "devices");
    lua_pushboolean(L, error == NULL); lua_setfield(L, -2, "available");
    if (error) { lua_pushstring(L, error); lua_setfield(L, -2, "error"); }
    else {
        lua_pushstring(L, name); lua_setfield(L, -2, "name");
        lua_pushnumber(L, (lua_Number)free_b); lua_setfield(L, -2, "free");
        lua_pushnumber(L, (lua_Number)total_b); lua_setfield(L, -2, "total");
    }
    return 1;
}

/* ---- the plan ----------------------------------------------------------------- */

static uint64_t field_bytes(lua_State *L, int idx, const char *key) {
    lua_getfield(L, idx, key);
    lua_Number v = lua_isnil(L, -1) ? 0 : luaL_checknumber(L, -1);
    lua_pop(L, 1);
    if (!(v >= 0 && v < 18446744073709551616.0)) luaL_error(L, "place_plan: %s must be from 0 to 2^64 bytes", key);
    return (uint64_t)v;
}

/* A string field kept alive by the argument table (NULL when absent). */
static const char *field_string(lua_State *L, int idx, const char *key) {
    lua_getfield(L, idx, key);
    const char *s = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
    lua_pop(L, 1);
    return s;
}

static int field_request(lua_State *L, int idx) {
    lua_getfield(L, idx, "n_gpu_layers");
    int n;
    if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "auto") == 0) n = BT_PLACER_AUTO;
    else if (lua_isnumber(L, -1)) n = (int)bt_lua_whole(L, lua_tonumber(L, -1), 0, INT_MAX, "place_plan: n_gpu_layers");
    else return luaL_error(L, "place_plan: n_gpu_layers must be a number >= 0 or \"auto\"");
    lua_pop(L, 1);
    return n;
}

static int l_place_plan(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "layers");
    luaL_checktype(L, -1, LUA_TTABLE);
    int layers_idx = lua_gettop(L), n = (int)lua_objlen(L, layers_idx);
    bt_placer_layer *layers = lua_newuserdata(L, sizeof *layers * (size_t)(n ? n : 1));   /* collected */
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, layers_idx, i + 1);
        luaL_checktype(L, -1, LUA_TTABLE);
        int li = lua_gettop(L);
        layers[i] = (bt_placer_layer){field_bytes(L, li, "weight"), field_bytes(L, li, "state"), field_string(L, li, "cpu_only")};
        lua_pop(L, 1);
    }
    lua_getfield(L, 1, "embd_tied");
    int tied = lua_toboolean(L, -1);
    lua_pop(L, 1);
    bt_placer_input in = {.n_layers = n, .layers = layers, .head_bytes = field_bytes(L, 1, "head"),
                          .head_cpu_only = field_string(L, 1, "head_cpu_only"), .embd_tied = tied,
                          .scratch_bytes = field_bytes(L, 1, "scratch"), .free_bytes = field_bytes(L, 1, "free"),
                          .reserve_bytes = field_bytes(L, 1, "reserve"), .n_gpu_layers = field_request(L, 1)};
    unsigned char *on_gpu = lua_newuserdata(L, (size_t)(n ? n : 1));
    bt_placement plan;
    bt_lua_check(L, bt_placer_plan(&plan, on_gpu, &in));
    lua_newtable(L);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) { lua_pushboolean(L, on_gpu[i]); lua_rawseti(L, -2, i + 1); }
    lua_setfield(L, -2, "layers");
    lua_pushinteger(L, plan.n_gpu_layers); lua_setfield(L, -2, "n_gpu_layers");
    lua_pushboolean(L, plan.head_on_gpu); lua_setfield(L, -2, "head");
    lua_pushboolean(L, plan.embd_on_gpu); lua_setfield(L, -2, "embd");
    lua_pushnumber(L, (lua_Number)plan.gpu_bytes); lua_setfield(L, -2, "gpu_bytes");
    lua_pushstring(L, plan.reason); lua_setfield(L, -2, "reason");
    return 1;
}

/* ---- weights and ops on a device ------------------------------------------------ */

static int l_place_weight(lua_State *L) {
    bt_tensor *out;
    bt_lua_check(L, bt_op_place_weight(&out, bt_lua_check_tensor(L, 1), check_device(L, 2, NULL)));
    bt_lua_push_tensor(L, out);
    return 1;
}

static int l_placed_bytes(lua_State *L) {
    size_t bytes;
    bt_lua_check(L, bt_op_placed_bytes(bt_lua_check_tensor(L, 1), check_device(L, 2, NULL), &bytes));
    lua_pushnumber(L, (lua_Number)bytes);
    return 1;
}

static int push_reason(lua_State *L, const char *why) {
    if (why) lua_pushstring(L, why);
    else lua_pushnil(L);
    return 1;
}

static int l_linear_unsupported(lua_State *L) {
    char why[256];
    return push_reason(L, bt_op_linear_unsupported(bt_lua_check_tensor(L, 1), lua_toboolean(L, 2),
                                                   check_device(L, 3, NULL), why, sizeof why));
}

static int l_attention_unsupported(lua_State *L) {
    char why[256];
    return push_reason(L, bt_op_attention_unsupported(bt_lua_check_int(L, 1), bt_lua_check_int(L, 2),
                                                      bt_lua_check_int(L, 3), bt_lua_check_int(L, 4),
                                                      check_device(L, 5, NULL), why, sizeof why));
}

static int l_op_scratch_bytes(lua_State *L) {
    lua_pushnumber(L, (lua_Number)bt_op_scratch_bytes(check_device(L, 1, NULL), bt_lua_check_int64(L, 2),
                                                      bt_lua_check_int64(L, 3), bt_lua_check_int(L, 4),
                                                      bt_lua_check_int(L, 5), bt_lua_check_int64(L, 6)));
    return 1;
}

void bt_lua_open_placer(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"device_info", l_device_info}, {"place_plan", l_place_plan}, {"place_weight", l_place_weight},
        {"placed_bytes", l_placed_bytes}, {"linear_unsupported", l_linear_unsupported},
        {"attention_unsupported", l_attention_unsupported}, {"op_scratch_bytes", l_op_scratch_bytes}, {NULL, NULL}};
    bt_lua_set_functions(L, fns);
}
