/* state_file_lua.h - session state files for Lua (part of bitttt.core, opened by
 * bt_lua_open_ttt): safetensors save/load and the hash behind model fingerprints. */
#ifndef BT_LUA_STATE_FILE_H
#define BT_LUA_STATE_FILE_H
#include <lua.h>

void bt_lua_open_state_file(lua_State *L);

#endif
