/* open_core.h - the Lua module bitttt.core, as libbitttt exports it. The binding
 * (runtime/lua/) lives in libbitttt once; its Lua calls bind to the process's Lua
 * (the host's, or the library's own state's). The module file bin/bitttt/core.so
 * (runtime/lua_module/) and the bitttt-lua host only call this. */
#ifndef BT_LUA_OPEN_CORE_H
#define BT_LUA_OPEN_CORE_H
#include <lua.h>
#include "base/export.h"

/* Pushes the bitttt.core table (a lua_CFunction: require's loader). */
BT_API int bt_lua_open_core(lua_State *L);

#endif
