/* core_module.c - bin/bitttt/core.so, the file `require "bitttt.core"` finds:
 * only the entry point. The binding itself is in libbitttt.so (one runtime per
 * process: a Lua host that also calls the C API shares its error buffer, thread
 * setting and device pools). */
#include "runtime/lua/open_core.h"

/* This module's own export (BT_API means libbitttt's: dllimport here on Windows). */
#if defined(_WIN32)
#define MODULE_API __declspec(dllexport)
#else
#define MODULE_API BT_API
#endif

MODULE_API int luaopen_bitttt_core(lua_State *L) { return bt_lua_open_core(L); }
