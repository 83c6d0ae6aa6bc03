/* fuzz_lua.c - libFuzzer driver for the surfaces reached through lua/bitttt (model
 * build, session state files, chat templates): a LuaJIT state with bitttt.core
 * preloaded runs spec/fuzz/targets/<BT_FUZZ_TARGET>.lua, which returns
 * function(data, scratch_dir). Lua errors are the expected answer to a bad input and
 * are ignored; a crash, a sanitizer report or a leak in the C underneath is a finding.
 * Built once per target (the name is compiled in: -DBT_FUZZ_TARGET=\"model_gguf\"). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_util.h"

#include "runtime/lua/open_core.h"

static lua_State *L;
static int target_ref;

/* LeakSanitizer does not scan LuaJIT's own mmap'd heap: C memory that only Lua objects
 * hold (the target's models) would look leaked at exit unless the state is closed. */
static void close_state(void) { lua_close(L); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *root = getenv("BITTTT_ROOT");
    if (!root || !*root) root = ".";
    L = luaL_newstate();
    luaL_openlibs(L);
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;%s/spec/fuzz/targets/?.lua;%s/spec/?.lua", root, root, root, root);
    lua_setfield(L, -2, "path");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, bt_lua_open_core);
    lua_setfield(L, -2, "bitttt.core");
    lua_pop(L, 2);
    lua_pushstring(L, root);
    lua_setglobal(L, "BITTTT_HOME");
    lua_getglobal(L, "require");
    lua_pushstring(L, BT_FUZZ_TARGET);
    if (lua_pcall(L, 1, 1, 0) != 0 || !lua_isfunction(L, -1)) {
        fprintf(stderr, "fuzz_lua: target %s: %s\n", BT_FUZZ_TARGET, lua_tostring(L, -1));
        exit(1);
    }
    target_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    atexit(close_state);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, target_ref);
    lua_pushlstring(L, (const char *)data, size);
    lua_pushstring(L, bt_fuzz_dir());
    if (lua_pcall(L, 2, 0, 0) != 0) {
        if (getenv("BT_FUZZ_VERBOSE")) fprintf(stderr, "fuzz_lua: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_gc(L, LUA_GCCOLLECT, 0);   /* tensors free their C memory in __gc: keep the heap flat */
    return 0;
}
