/* ttt_lua.c - the test-time-training ops (runtime/ops_ttt.h) for Lua model graphs:
 *   core.op_ttt_eta(eta, bias, mult|nil, scale)
 *   core.op_ttt_linear(out, weights, grads, xq, xk, xv, eta, token_scale, ln_w, ln_b, eps, pos0, scratch|nil
 *                      [, "auto"|"dual"|"primal" [, decay_toward, decay_keep]])   (scratch: CPU only)
 *   core.ttt_linear_scratch_floats(max_tok, n_head, head_dim) -> floats of scratch op_ttt_linear needs
 *   core.op_fastweight(p, W, k, eta)
 *   core.op_causal_conv(x, history|nil, w, bias|nil); core.causal_conv_max_kernel
 * and the state files (state_file_lua.c). Positions are 0-based model positions. */
#include "binding.h"
#include "state_file_lua.h"
#include "runtime/ops_ttt.h"
#include "kernels/cpu/causal_conv.h"

static int l_ttt_eta(lua_State *L) {
    bt_lua_check(L, bt_op_ttt_eta(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_opt_tensor(L, 3),
                                  (float)luaL_checknumber(L, 4)));
    return 0;
}

static int l_ttt_linear(lua_State *L) {
    static const char *forms[] = {"auto", "dual", "primal", NULL};
    const bt_tensor *toward = bt_lua_opt_tensor(L, 15);
    const bt_ttt_decay decay = {toward, toward ? (float)luaL_checknumber(L, 16) : 1.0f};
    bt_lua_check(L, bt_op_ttt_linear(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2), bt_lua_check_tensor(L, 3),
                                     bt_lua_check_tensor(L, 4), bt_lua_check_tensor(L, 5), bt_lua_check_tensor(L, 6),
                                     bt_lua_check_tensor(L, 7), bt_lua_check_tensor(L, 8), bt_lua_check_tensor(L, 9),
                                     bt_lua_check_tensor(L, 10), (float)luaL_checknumber(L, 11),
                                     bt_lua_check_int64(L, 12), bt_lua_opt_tensor(L, 13),
                                     (bt_ttt_form)luaL_checkoption(L, 14, "auto", forms), toward ? &decay : NULL));
    return 0;
}

static int l_ttt_linear_scratch_floats(lua_State *L) {
    lua_pushnumber(L, (lua_Number)bt_op_ttt_linear_scratch_floats(bt_lua_check_int64(L, 1),
                                                                  bt_lua_check_int(L, 2),
                                                                  bt_lua_check_int(L, 3)));
    return 1;
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
                                   {"op_fastweight", l_fastweight},
                                   {"op_causal_conv", l_causal_conv},
                                   {NULL, NULL}};
    bt_lua_set_functions(L, fns);
    lua_pushinteger(L, BT_CAUSAL_CONV_MAX_KERNEL);
    lua_setfield(L, -2, "causal_conv_max_kernel");
    bt_lua_open_state_file(L);
}
