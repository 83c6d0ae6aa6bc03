/* ttt_lua.c - the test-time-training ops (runtime/ops_ttt.h) for Lua model graphs:
 *   core.op_ttt_eta(eta, bias, mult|nil, scale)
 *   core.op_ttt_linear(out, weights, grads, xq, xk, xv, eta, token_scale, ln_w, ln_b, eps, pos0, scratch|nil
 *                      [, "auto"|"dual"|"primal" [, decay_toward, decay_keep]])   (scratch: CPU only)
 *   core.ttt_linear_scratch_floats(max_tok, n_head, head_dim) -> floats of scratch op_ttt_linear needs
 *   core.op_ttt_mlp(out, weights, grads, xq, xk, xv, eta, token_scale, ln_w, ln_b, eps, pos0, hidden, scratch
 *                   [, "auto"|"dual"|"primal"])
 *   core.ttt_mlp_scratch_floats(max_tok, n_head, head_dim, hidden)
 *   core.op_gelu_gate(x, gate)          x *= gelu_tanh(gate)
 *   core.op_fastweight(p, W, k, eta)
 *   core.op_causal_conv(x, history|nil, w, bias|nil); core.causal_conv_max_kernel
 * and the state files (state_file_lua.c). Positions are 0-based model positions. */
#include <string.h>
#include "binding.h"
#include "state_file_lua.h"
#include "runtime/ops_ttt.h"

static int l_ttt_eta(lua_State *L) {
    bt_lua_check(L, bt_op_ttt_eta(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_opt_tensor(L, 3),
                                  (float)luaL_checknumber(L, 4)));
    return 0;
}

/* The TTT form named by argument idx (default auto); an unknown name is an error naming it. */
static bt_ttt_form check_form(lua_State *L, int idx, const char *op) {
    static const char *const names[] = {[BT_TTT_FORM_AUTO] = "auto", [BT_TTT_FORM_DUAL] = "dual",
                                        [BT_TTT_FORM_PRIMAL] = "primal"};
    const char *name = luaL_optstring(L, idx, "auto");
    for (int f = 0; f < (int)(sizeof names / sizeof names[0]); f++)
        if (!strcmp(name, names[f])) return (bt_ttt_form)f;
    return luaL_error(L, "%s: unknown TTT form '%s' (expected auto, dual or primal)", op, name);
}

static int l_ttt_linear(lua_State *L) {
    const bt_tensor *toward = bt_lua_opt_tensor(L, 15);
    const bt_ttt_decay decay = {toward, toward ? (float)luaL_checknumber(L, 16) : 1.0f};
    bt_lua_check(L, bt_op_ttt_linear(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_tensor(L, 3),
                                     bt_lua_check_tensor(L, 4), bt_lua_check_tensor(L, 5), bt_lua_check_tensor(L, 6),
                                     bt_lua_check_tensor(L, 7), bt_lua_check_tensor(L, 8), bt_lua_check_tensor(L, 9),
                                     bt_lua_check_tensor(L, 10), (float)luaL_checknumber(L, 11),
                                     bt_lua_check_int64(L, 12), bt_lua_opt_tensor(L, 13),
                                     check_form(L, 14, "op_ttt_linear"), toward ? &decay : NULL));
    return 0;
}

static int l_ttt_linear_scratch_floats(lua_State *L) {
    lua_pushnumber(L, (lua_Number)bt_op_ttt_linear_scratch_floats(bt_lua_check_int64(L, 1),
                                                                  bt_lua_check_int(L, 2),
                                                                  bt_lua_check_int(L, 3)));
    return 1;
}

static int l_ttt_mlp(lua_State *L) {
    bt_lua_check(L, bt_op_ttt_mlp(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_tensor(L, 3),
                                  bt_lua_check_tensor(L, 4), bt_lua_check_tensor(L, 5), bt_lua_check_tensor(L, 6),
                                  bt_lua_check_tensor(L, 7), bt_lua_check_tensor(L, 8), bt_lua_check_tensor(L, 9),
                                  bt_lua_check_tensor(L, 10), (float)luaL_checknumber(L, 11),
                                  (int64_t)luaL_checknumber(L, 12), (int)luaL_checkinteger(L, 13),
                                  bt_lua_check_tensor(L, 14), check_form(L, 15, "op_ttt_mlp")));
    return 0;
}

static int l_ttt_mlp_scratch_floats(lua_State *L) {
    lua_pushnumber(L, (lua_Number)bt_op_ttt_mlp_scratch_floats(
                          (int64_t)luaL_checknumber(L, 1), (int)luaL_checkinteger(L, 2), (int)luaL_checkinteger(L, 3),
                          (int)luaL_checkinteger(L, 4)));
    return 1;
}

static int l_gelu_gate(lua_State *L) {
    bt_lua_check(L, bt_op_gelu_gate(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2)));
    return 0;
}

static int l_fastweight(lua_State *L) {
    bt_lua_check(L, bt_op_fastweight(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_tensor(L, 3),
                                     bt_lua_check_tensor(L, 4)));
    return 0;
}

static int l_causal_conv(lua_State *L) {
    bt_lua_check(L, bt_op_causal_conv(bt_lua_check_tensor(L, 1), bt_lua_opt_tensor(L, 2), bt_lua_check_tensor(L, 3),
                                      bt_lua_opt_tensor(L, 4)));
    return 0;
}

void bt_lua_open_ttt(lua_State *L) {
    static const luaL_Reg fns[] = {{"op_ttt_eta", l_ttt_eta},
                                   {"op_ttt_linear", l_ttt_linear},
                                   {"ttt_linear_scratch_floats", l_ttt_linear_scratch_floats},
                                   {"op_ttt_mlp", l_ttt_mlp},
                                   {"ttt_mlp_scratch_floats", l_ttt_mlp_scratch_floats},
                                   {"op_gelu_gate", l_gelu_gate},
                                   {"op_fastweight", l_fastweight},
                                   {"op_causal_conv", l_causal_conv},
                                   {NULL, NULL}};
    bt_lua_set_functions(L, fns);
    lua_pushinteger(L, BT_CAUSAL_CONV_MAX_KERNEL);
    lua_setfield(L, -2, "causal_conv_max_kernel");
    bt_lua_open_state_file(L);
}
