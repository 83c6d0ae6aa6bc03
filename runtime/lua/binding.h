/* binding.h - helpers shared by the files of the Lua module bitttt.core.
 * Lua 5.1 C API only, so the module loads in LuaJIT and PUC Lua 5.1. */
#ifndef BT_LUA_BINDING_H
#define BT_LUA_BINDING_H
#include <lauxlib.h>
#include <lua.h>
#include "runtime/tensor.h"

#define BT_LUA_TENSOR "bitttt.tensor"

/* Raises a Lua error carrying bt_last_error() when st is not BT_OK. */
void bt_lua_check(lua_State *L, bt_status st);
/* The tensor in argument `idx` (error if it is not a live tensor). */
bt_tensor *bt_lua_check_tensor(lua_State *L, int idx);
bt_tensor *bt_lua_opt_tensor(lua_State *L, int idx);   /* NULL for nil */
/* The tensor at idx, or NULL when it is not a live tensor (never raises). */
bt_tensor *bt_lua_to_tensor(lua_State *L, int idx);
/* Pushes a tensor userdata that owns `t` (freed by :free() or __gc). */
void bt_lua_push_tensor(lua_State *L, bt_tensor *t);
/* Whole numbers from Lua: the value of argument idx (or the number x) when it is a
 * whole number within [lo, hi], else a Lua error naming it (a C cast of NaN, of a
 * fraction's overflow or of 1e300 would be undefined behaviour). BT_LUA_WHOLE_MAX:
 * 2^53, the largest range in which every whole double is exact. */
#define BT_LUA_WHOLE_MAX ((int64_t)1 << 53)
int64_t bt_lua_check_whole(lua_State *L, int idx, int64_t lo, int64_t hi);
int64_t bt_lua_whole(lua_State *L, lua_Number x, int64_t lo, int64_t hi, const char *what);
/* An int argument (within INT_MIN..INT_MAX) and a 64-bit index/size argument (within +-2^53). */
int bt_lua_check_int(lua_State *L, int idx);
int64_t bt_lua_check_int64(lua_State *L, int idx);

/* Sets the functions of `fns` on the table at the top of the stack. */
void bt_lua_set_functions(lua_State *L, const luaL_Reg *fns);

/* Module parts: each adds its functions to the table at the top of the stack. */
void bt_lua_open_tensor(lua_State *L);
void bt_lua_open_model(lua_State *L);
void bt_lua_open_ops(lua_State *L);
void bt_lua_open_gguf(lua_State *L);       /* gguf_lua.c */
void bt_lua_open_tokenizer(lua_State *L);  /* tokenizer_lua.c */
void bt_lua_open_gguf_write(lua_State *L);
void bt_lua_open_ternary(lua_State *L);     /* ternary_lua.c */
void bt_lua_open_ternary_hf(lua_State *L);  /* ternary_hf_lua.c: Hugging Face packed BitNet weights */
void bt_lua_open_ttt(lua_State *L);        /* ttt_lua.c: TTT ops and state files */
void bt_lua_open_placer(lua_State *L);     /* placer_lua.c: devices, placement plans, weights on devices */

#endif
