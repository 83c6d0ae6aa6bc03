/* lua_state.c - creating the C API's private Lua states and calling into them.
 *
 * Module search in a private state: package.preload (bitttt.core, the binding
 * linked into this library), then the folder named by bt_set_lua_dir or
 * $BITTTT_LUA_DIR (DIR/?.lua, DIR/?/init.lua: a copy of lua/ with edited files),
 * then the sources built into the library. So a folder needs only the files that
 * changed. No C modules are searched (package.cpath is empty). */
#include "lua_state.h"
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "embedded_lua.h"
#include "runtime/bitttt.h"
#include "runtime/lua/open_core.h"
#include "runtime/platform/platform.h"

static bt_mutex dir_lock = BT_MUTEX_INIT;
static char *lua_dir;   /* bt_set_lua_dir's folder; NULL: $BITTTT_LUA_DIR, else built-in only */

bt_status bt_set_lua_dir(const char *dir) {
    char *copy = NULL;
    if (dir && *dir && !(copy = strdup(dir))) return bt_set_error(BT_ERR_NOMEM, "bt_set_lua_dir: out of memory");
    bt_mutex_lock(&dir_lock);
    free(lua_dir);
    lua_dir = copy;
    bt_mutex_unlock(&dir_lock);
    return BT_OK;
}

/* package.loaders entry: the embedded source of module `name`, compiled. */
static int load_embedded(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    for (const bt_embedded_module *m = bt_embedded_modules; m->name; m++) {
        if (strcmp(m->name, name) != 0) continue;
        if (luaL_loadbuffer(L, m->source, m->len, m->chunkname) != 0) return lua_error(L);
        return 1;
    }
    lua_pushfstring(L, "\n\tno module '%s' built into libbitttt", name);
    return 1;
}

/* package.path = the Lua folder (or nothing), cpath = nothing, loaders += embedded. */
static void set_search(lua_State *L) {
    lua_getglobal(L, "package");
    bt_mutex_lock(&dir_lock);
    const char *dir = lua_dir ? lua_dir : getenv("BITTTT_LUA_DIR");
    if (dir && *dir) lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", dir, dir);
    else lua_pushliteral(L, "");
    bt_mutex_unlock(&dir_lock);
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_getfield(L, -1, "loaders");
    lua_pushcfunction(L, load_embedded);
    lua_rawseti(L, -2, 3);   /* after preload (1) and the Lua path (2), before C loaders */
    lua_pushnil(L);
    lua_rawseti(L, -2, 4);   /* no C modules, no all-in-one C loader */
    lua_pushnil(L);
    lua_rawseti(L, -2, 5);
    lua_getfield(L, -2, "preload");
    lua_pushcfunction(L, bt_lua_open_core);
    lua_setfield(L, -2, "bitttt.core");
    lua_pop(L, 3);
}

static int open_capi(lua_State *L) {
    luaL_openlibs(L);
    set_search(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "bitttt.capi");
    lua_call(L, 1, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "bitttt.capi");
    return 0;
}

bt_status bt_capi_state_new(lua_State **out) {
    *out = NULL;
    lua_State *L = luaL_newstate();
    if (!L) return bt_set_error(BT_ERR_NOMEM, "libbitttt: cannot create a Lua state");
    lua_pushcfunction(L, open_capi);
    if (lua_pcall(L, 0, 0, 0) != 0) {
        bt_set_error(BT_ERR_UNSUPPORTED, "libbitttt: loading its Lua sources failed: %s", lua_tostring(L, -1));
        lua_close(L);
        return BT_ERR_UNSUPPORTED;
    }
    *out = L;
    return BT_OK;
}

static bt_status status_named(const char *name, bt_status fallback) {
    if (!name) return fallback;
    if (!strcmp(name, "arg")) return BT_ERR_ARG;
    if (!strcmp(name, "io")) return BT_ERR_IO;
    if (!strcmp(name, "format")) return BT_ERR_FORMAT;
    return fallback;
}

/* "bitttt/capi.lua:12: text" -> "text": where in the Lua sources is no help to a C caller. */
static const char *without_position(const char *msg) {
    const char *colon = strstr(msg, ".lua:");
    if (!colon || memchr(msg, ' ', (size_t)(colon - msg))) return msg;
    const char *p = colon + 5;
    while (*p >= '0' && *p <= '9') p++;
    return p[0] == ':' && p[1] == ' ' ? p + 2 : msg;
}

bt_status bt_capi_call(lua_State *L, const char *fn, int nargs, int nresults, bt_status fallback) {
    lua_getfield(L, LUA_REGISTRYINDEX, "bitttt.capi");
    lua_getfield(L, -1, fn);
    lua_replace(L, -2);
    lua_insert(L, -(nargs + 1));
    int rc = lua_pcall(L, nargs, nresults, 0);
    if (rc == 0) return BT_OK;
    bt_status st = rc == LUA_ERRMEM ? BT_ERR_NOMEM : fallback;
    const char *msg = NULL;
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "status");
        st = status_named(lua_tostring(L, -1), st);
        lua_getfield(L, -2, "message");
        msg = lua_tostring(L, -1);
        bt_set_error(st, "%s", msg ? msg : "(no message)");
        lua_pop(L, 3);
        return st;
    }
    msg = lua_tostring(L, -1);
    bt_set_error(st, "%s", msg ? without_position(msg) : "(error object is not a string)");
    lua_pop(L, 1);
    return st;
}

void bt_capi_push_ids(lua_State *L, const int32_t *ids, size_t n) {
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushinteger(L, ids[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
}
