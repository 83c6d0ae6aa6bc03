/* repl.c - the interactive loop: reads a chunk (continuing lines until it
 * parses), prints the values of expressions, keeps going after errors. */
#include <stdio.h>
#include <string.h>
#include <lauxlib.h>
#include <lua.h>
#include "host.h"

/* A chunk is incomplete when the parser stopped at the end of input. */
static int incomplete(lua_State *L, int status) {
    if (status != LUA_ERRSYNTAX) return 0;
    const char *msg = lua_tostring(L, -1);
    size_t n = strlen(msg);
    /* LuaJIT and Lua 5.1 end the message with '<eof>' (quoted) */
    return n >= 7 && strcmp(msg + n - 7, "'<eof>'") == 0;
}

/* Compiles `code` as `return code` (so expressions print), else as a statement. */
static int compile(lua_State *L, const char *code) {
    lua_pushfstring(L, "return %s", code);
    int st = luaL_loadbuffer(L, lua_tostring(L, -1), lua_objlen(L, -1), "=stdin");
    lua_remove(L, -2);
    if (st == 0) return 0;
    lua_pop(L, 1);
    return luaL_loadbuffer(L, code, strlen(code), "=stdin");
}

static void print_results(lua_State *L, int base) {
    int n = lua_gettop(L) - base;
    if (n <= 0) return;
    lua_getglobal(L, "print");
    lua_insert(L, base + 1);
    bt_host_call(L, n, 0);
}

void bt_host_repl(lua_State *L) {
    char line[4096];
    for (;;) {
        lua_settop(L, 0);
        lua_pushliteral(L, "");
        const char *prompt = "> ";
        int status;
        for (;;) {
            fputs(prompt, stdout);
            fflush(stdout);
            if (!fgets(line, sizeof line, stdin)) { fputc('\n', stdout); return; }
            lua_pushfstring(L, "%s%s", lua_tostring(L, 1), line);
            lua_replace(L, 1);
            status = compile(L, lua_tostring(L, 1));
            if (!incomplete(L, status)) break;
            lua_pop(L, 1);
            prompt = ">> ";
        }
        if (status != 0) {
            fprintf(stderr, "%s\n", lua_tostring(L, -1));
            continue;
        }
        int base = 1;
        if (bt_host_call(L, 0, LUA_MULTRET) == 0) print_results(L, base);
    }
}
