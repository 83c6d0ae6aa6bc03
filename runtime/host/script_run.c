/* script_run.c - runs a script or -e chunk and reports its uncaught error as a
 * command-line tool does (see script_run.h). */
#include "script_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "host_os.h"
#include "repl_interrupt.h"
#include "runtime/interrupt.h"

/* Length of a leading "chunk:LINE: " in msg (0 when there is none); *line gets LINE. */
static size_t position_length(const char *msg, int *line) {
    for (const char *p = msg; *p && *p != '\n'; p++) {
        if (*p != ':' || p[1] < '0' || p[1] > '9') continue;
        const char *q = p + 1;
        while (*q >= '0' && *q <= '9') q++;
        if (q[0] == ':' && q[1] == ' ') {
            *line = atoi(p + 1);
            return (size_t)(q + 2 - msg);
        }
    }
    return 0;
}

/* Whether a chunk source "@path" is a file of the kit: under <home>/lua/ or <home>/scripts/. */
static int kit_source(const char *source, const char *home) {
    char file[BT_HOST_PATH_MAX], root[BT_HOST_PATH_MAX];
    if (source[0] != '@' || !*home) return 0;
    if (bt_host_real_path(source + 1, file, sizeof file) != 0 || bt_host_real_path(home, root, sizeof root) != 0) return 0;
    size_t n = strlen(root);
    if (strncmp(file, root, n) != 0) return 0;
    return strncmp(file + n, "/lua/", 5) == 0 || strncmp(file + n, "/scripts/", 9) == 0;
}

/* Whether the position in front of msg (pos_len bytes, LINE) names a line of the kit:
 * the frame on the stack with that short source name and current line tells its file. */
static int kit_position(lua_State *L, const char *msg, size_t pos_len, int line, const char *home) {
    const char *colon = msg + pos_len - 2;
    while (colon > msg && colon[-1] != ':') colon--;   /* back over LINE to the ':' before it */
    size_t src_len = (size_t)(colon - 1 - msg);
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline != line) continue;
        if (strlen(ar.short_src) == src_len && strncmp(ar.short_src, msg, src_len) == 0) return kit_source(ar.source, home);
    }
    /* Not on the stack (a script caught the error and raised it again): the file itself,
     * or for a name shortened to ".../tail", the kit's file that ends with that tail. */
    char source[BT_HOST_PATH_MAX + 2];
    if (src_len + 2 > sizeof source) return 0;
    if (src_len > 3 && strncmp(msg, "...", 3) == 0) {
        for (const char *p = msg + 3; p < msg + src_len; p++) {
            if (*p != '/') continue;
            snprintf(source, sizeof source, "@%s%.*s", home, (int)(msg + src_len - p), p);
            if (kit_source(source, home)) return 1;
        }
        return 0;
    }
    snprintf(source, sizeof source, "@%.*s", (int)src_len, msg);
    return kit_source(source, home);
}

static int ends_with_interrupted(const char *msg) {
    size_t n = strlen(msg), k = strlen(BT_REPL_INTERRUPTED);
    return n >= k && strcmp(msg + n - k, BT_REPL_INTERRUPTED) == 0 && (n == k || msg[n - k - 1] == ' ');
}

/* Message handler (upvalues: home, verbose): returns { message, exit_code [, traceback] }. */
static int report_handler(lua_State *L) {
    const char *home = lua_tostring(L, lua_upvalueindex(1));
    int code = 1;
    if (lua_istable(L, 1)) {   /* error objects from bitttt.cli: { message =, exit_code = } */
        lua_getfield(L, 1, "exit_code");
        if (lua_isnumber(L, -1)) code = (int)lua_tointeger(L, -1);
        lua_getfield(L, 1, "message");
    } else {
        lua_pushvalue(L, 1);
    }
    const char *msg = lua_tostring(L, -1);
    if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    int line = 0;
    size_t pos_len = position_length(msg, &line);
    if (pos_len && kit_position(L, msg, pos_len, line, home)) msg += pos_len;
    if (bt_interrupted() && ends_with_interrupted(msg)) code = 130;

    lua_createtable(L, 0, 3);
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "message");
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "exit_code");
    if (lua_toboolean(L, lua_upvalueindex(2))) {
        luaL_traceback(L, L, NULL, 1);   /* LuaJIT's extension, as in Lua 5.2 */
        lua_setfield(L, -2, "traceback");
    }
    return 1;
}

int bt_host_debug_wanted(int argc, char **argv) {
    const char *env = getenv("BITTTT_DEBUG");
    if (env && *env && strcmp(env, "0") != 0) return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--verbose") == 0) return 1;
    return 0;
}

int bt_host_run(lua_State *L, int nargs, const char *name, const char *home, int verbose) {
    int base = lua_gettop(L) - nargs;
    lua_pushstring(L, home);
    lua_pushboolean(L, verbose);
    lua_pushcclosure(L, report_handler, 2);
    lua_insert(L, base);
    int rc = lua_pcall(L, nargs, 0, base);
    bt_repl_interrupt_disarm(L);   /* when the script armed Ctrl-C (bitttt.interrupt.arm) */
    lua_remove(L, base);
    if (rc == 0) return 0;
    int code = 1;
    const char *msg = "(error in the error handler)", *trace = NULL;
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "exit_code");
        code = (int)lua_tointeger(L, -1);
        lua_getfield(L, -2, "message");
        msg = lua_tostring(L, -1);
        lua_getfield(L, -3, "traceback");
        trace = lua_tostring(L, -1);
    } else if (lua_tostring(L, -1)) {   /* out of memory, or an error in the handler itself */
        msg = lua_tostring(L, -1);
    }
    fflush(stdout);   /* whatever the script printed comes before the error */
    if (name) fprintf(stderr, "bitttt-lua: %s: %s\n", name, msg);
    else fprintf(stderr, "bitttt-lua: %s\n", msg);
    if (trace) fprintf(stderr, "%s\n", trace);
    lua_settop(L, base - 1);
    return code;
}
