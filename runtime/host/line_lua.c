/* line_lua.c - the REPL's line editor for Lua scripts (chat.lua): the module
 * `bitttt.line` the host preloads.
 *
 *   local Line = require "bitttt.line"
 *   Line.usable()                        -> true when stdin and stdout are a terminal
 *   local ed = Line.new{ history = "chat_history" }   -- history file name (optional)
 *   ed:read("> ")                        -> text | nil, "eof" | nil, "cancelled" (Ctrl-C)
 *   ed:add_history(text)                 -- entered lines are added by read already
 *
 * History files live beside the REPL's (host_os.h, bt_host_state_path). */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include "host_os.h"
#include "repl_history.h"
#include "repl_line.h"

#define EDITOR_META "bitttt.line_editor"

typedef struct line_editor {
    bt_line_editor ed;
    char history_path[4096];   /* "" when there is no history file */
} line_editor;

static line_editor *check_editor(lua_State *L) { return luaL_checkudata(L, 1, EDITOR_META); }

static int l_usable(lua_State *L) {
    lua_pushboolean(L, bt_line_editor_usable());
    return 1;
}

static int l_new(lua_State *L) {
    const char *name = NULL;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_getfield(L, 1, "history");
        name = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
        if (name && (!*name || strpbrk(name, "/\\")))
            return luaL_error(L, "bitttt.line.new: history must be a file name without '/' or '\\', got '%s'", name);
        lua_pop(L, 1);   /* name stays valid: the options table holds the string */
    }
    line_editor *e = lua_newuserdata(L, sizeof *e);
    memset(e, 0, sizeof *e);
    luaL_getmetatable(L, EDITOR_META);
    lua_setmetatable(L, -2);
    if (name && bt_host_state_path(e->history_path, sizeof e->history_path, name) == 0)
        bt_repl_history_load(&e->ed, e->history_path);
    else
        e->history_path[0] = 0;
    return 1;
}

static int l_read(lua_State *L) {
    line_editor *e = check_editor(L);
    const char *prompt = luaL_optstring(L, 2, "");
    if (!bt_line_editor_usable()) return luaL_error(L, "read: stdin or stdout is not a terminal (check Line.usable())");
    char *line;
    bt_line_result res = bt_line_read(&e->ed, prompt, &line);
    if (res != BT_LINE_OK) {
        lua_pushnil(L);
        lua_pushstring(L, res == BT_LINE_EOF ? "eof" : "cancelled");
        return 2;
    }
    bt_repl_history_add(&e->ed, e->history_path[0] ? e->history_path : NULL, line);
    lua_pushstring(L, line);
    free(line);
    return 1;
}

static int l_add_history(lua_State *L) {
    line_editor *e = check_editor(L);
    bt_repl_history_add(&e->ed, e->history_path[0] ? e->history_path : NULL, luaL_checkstring(L, 2));
    return 0;
}

static int l_gc(lua_State *L) {
    bt_line_editor_free(&check_editor(L)->ed);
    return 0;
}

int luaopen_bitttt_line(lua_State *L) {
    static const luaL_Reg methods[] = { { "read", l_read }, { "add_history", l_add_history }, { NULL, NULL } };
    luaL_newmetatable(L, EDITOR_META);
    lua_pushcfunction(L, l_gc);
    lua_setfield(L, -2, "__gc");
    lua_newtable(L);
    luaL_register(L, NULL, methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, l_usable);
    lua_setfield(L, -2, "usable");
    lua_pushcfunction(L, l_new);
    lua_setfield(L, -2, "new");
    return 1;
}
