/* ops_lua.c - the layer operations (runtime/ops.h) for Lua model graphs:
 *   core.op_linear(out, w, x [, act_quant])   core.op_rmsnorm(out, x, w|nil, eps)
 *   core.op_linear_group({out...}, {w...}, x [, act_quant])   (1 to 4 weights reading x)
 *   core.op_get_rows(out, table, ids)  core.op_layernorm(out, x, w|nil, b|nil, eps)
 *   core.op_rope(x, pos, n_heads, head_dim, rot_dim, theta, "interleaved"|"neox")
 *   core.op_attention(out, q, k, v, k_cache, v_cache, pos0, n_head, scale)
 *   core.op_gated(out, gate, up, "silu"|"relu2")   core.op_activate(out, x, act)
 *   core.op_add(out, a, b)  core.op_mul(out, a, b)  core.op_scale(out, x, s)
 *   core.prepare_weight(w)   (once per weight at model load: see bt_op_prepare_weight)
 *   core.weight_prepared(w) -> whether w carries a prepared layout (ternary weights, once prepared)
 *   core.activations = {"silu", "relu2"}, core.rope_styles = {"interleaved", "neox"} (base/kinds.h)
 * Positions are 0-based (they are model positions, not Lua indices). */
#include "binding.h"
#include "runtime/ops.h"

/* An unknown name is an error naming it, never a default. */
static bt_op_activation check_act(lua_State *L, int idx, const char *op) {
    const char *name = luaL_checkstring(L, idx);
    bt_op_activation act;
    if (!bt_op_activation_from_name(name, &act)) luaL_error(L, "%s: unknown activation '%s' (expected silu or relu2)", op, name);
    return act;
}

static bt_op_rope_style check_rope_style(lua_State *L, int idx) {
    const char *name = luaL_checkstring(L, idx);
    bt_op_rope_style style;
    if (!bt_op_rope_style_from_name(name, &style))
        luaL_error(L, "op_rope: unknown RoPE style '%s' (expected interleaved or neox)", name);
    return style;
}

static int l_prepare_weight(lua_State *L) {
    bt_lua_check(L, bt_op_prepare_weight(bt_lua_check_tensor(L, 1)));
    return 0;
}

static int l_weight_prepared(lua_State *L) {
    lua_pushboolean(L, bt_lua_check_tensor(L, 1)->prepared != NULL);
    return 1;
}

static int l_get_rows(lua_State *L) {
    bt_lua_check(L, bt_op_get_rows(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_tensor(L, 3)));
    return 0;
}

static int l_linear(lua_State *L) {
    bt_lua_check(L, bt_op_linear(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_tensor(L, 3),
                                 lua_toboolean(L, 4)));
    return 0;
}

/* The tensors of the array at argument `arg` (1 to BT_OP_LINEAR_GROUP_MAX of them) into t; their count. */
static int tensor_list(lua_State *L, int arg, bt_tensor **t, const char *what) {
    luaL_checktype(L, arg, LUA_TTABLE);
    const int n = (int)lua_objlen(L, arg);
    if (n < 1 || n > BT_OP_LINEAR_GROUP_MAX)
        return luaL_error(L, "op_linear_group: %s holds %d tensors (1 to %d)", what, n, BT_OP_LINEAR_GROUP_MAX);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, arg, i + 1);
        int is_tensor = 0;
        if (lua_isuserdata(L, -1) && lua_getmetatable(L, -1)) {   /* Lua 5.1 has no luaL_testudata */
            luaL_getmetatable(L, BT_LUA_TENSOR);
            is_tensor = lua_rawequal(L, -1, -2);
            lua_pop(L, 2);
        }
        t[i] = is_tensor ? bt_lua_check_tensor(L, -1) : NULL;
        lua_pop(L, 1);   /* the array keeps it alive */
        if (!t[i]) return luaL_error(L, "op_linear_group: %s[%d] is not a tensor", what, i + 1);
    }
    return n;
}

static int l_linear_group(lua_State *L) {
    bt_tensor *out[BT_OP_LINEAR_GROUP_MAX], *w[BT_OP_LINEAR_GROUP_MAX];
    const int n_out = tensor_list(L, 1, out, "outputs"), n_w = tensor_list(L, 2, w, "weights");
    if (n_out != n_w) return luaL_error(L, "op_linear_group: %d outputs for %d weights", n_out, n_w);
    bt_lua_check(L, bt_op_linear_group(out, w, n_w, bt_lua_check_tensor(L, 3), lua_toboolean(L, 4)));
    return 0;
}

static int l_rmsnorm(lua_State *L) {
    bt_lua_check(L, bt_op_rmsnorm(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_opt_tensor(L, 3),
                                  (float)luaL_checknumber(L, 4)));
    return 0;
}

static int l_layernorm(lua_State *L) {
    bt_lua_check(L, bt_op_layernorm(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_opt_tensor(L, 3),
                                    bt_lua_opt_tensor(L, 4), (float)luaL_checknumber(L, 5)));
    return 0;
}

static int l_rope(lua_State *L) {
    bt_lua_check(L, bt_op_rope(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_int(L, 3),
                               bt_lua_check_int(L, 4), bt_lua_check_int(L, 5), (float)luaL_checknumber(L, 6),
                               check_rope_style(L, 7)));
    return 0;
}

static int l_attention(lua_State *L) {
    bt_lua_check(L, bt_op_attention(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_tensor(L, 3),
                                    bt_lua_check_tensor(L, 4), bt_lua_check_tensor(L, 5), bt_lua_check_tensor(L, 6),
                                    bt_lua_check_int64(L, 7), bt_lua_check_int(L, 8),
                                    (float)luaL_checknumber(L, 9)));
    return 0;
}

static int l_gated(lua_State *L) {
    bt_lua_check(L, bt_op_gated(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_tensor(L, 3), check_act(L, 4, "op_gated")));
    return 0;
}

static int l_activate(lua_State *L) {
    bt_lua_check(L, bt_op_activate(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), check_act(L, 3, "op_activate")));
    return 0;
}

static int l_add(lua_State *L) {
    bt_lua_check(L, bt_op_add(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_tensor(L, 3)));
    return 0;
}

static int l_mul(lua_State *L) {
    bt_lua_check(L, bt_op_mul(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_tensor(L, 3)));
    return 0;
}

static int l_scale(lua_State *L) {
    bt_lua_check(L, bt_op_scale(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), (float)luaL_checknumber(L, 3)));
    return 0;
}

/* Sets field `key` of the table on top of the stack to the list of names name(0), name(1), ... */
static void set_names(lua_State *L, const char *key, const char *(*name)(int)) {
    lua_newtable(L);
    for (int v = 0; name(v); v++) {
        lua_pushstring(L, name(v));
        lua_rawseti(L, -2, v + 1);
    }
    lua_setfield(L, -2, key);
}

static const char *activation_name(int v) { return bt_op_activation_name((bt_op_activation)v); }
static const char *rope_style_name(int v) { return bt_op_rope_style_name((bt_op_rope_style)v); }

void bt_lua_open_ops(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"op_get_rows", l_get_rows}, {"op_linear", l_linear}, {"op_linear_group", l_linear_group}, {"op_rmsnorm", l_rmsnorm}, {"op_layernorm", l_layernorm},
        {"op_rope", l_rope}, {"op_attention", l_attention}, {"op_gated", l_gated}, {"op_activate", l_activate},
        {"op_add", l_add}, {"op_mul", l_mul}, {"op_scale", l_scale},
        {"prepare_weight", l_prepare_weight}, {"weight_prepared", l_weight_prepared}, {NULL, NULL}};
    bt_lua_set_functions(L, fns);
    set_names(L, "activations", activation_name);
    set_names(L, "rope_styles", rope_style_name);
}
