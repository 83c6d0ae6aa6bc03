/* main.c - bitttt-lua, the host executable.
 *
 *   bitttt-lua [options] [script [args...]]
 *
 * Runs a Lua script (found as given, else in the project's scripts/), with the
 * remaining arguments in `arg`; -e runs a chunk; with no script (or -i) it
 * starts the REPL. The project home (holding lua/ and scripts/) is
 * $BITTTT_HOME, else the directory above this binary's bin/, so edited .lua
 * files take effect without recompiling. `bitttt.core` is preloaded from
 * libbitttt.so (the one runtime of the process, which also serves the C API);
 * LuaJIT is Debian's shared libluajit-5.1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <luajit.h>
#include "host.h"
#include "host_os.h"
#include "repl_interrupt.h"
#include "script_run.h"
#include "runtime/lua/open_core.h"
#include "runtime/version.h"

static const char *usage =
    "usage: bitttt-lua [options] [script [args...]]\n"
    "  script       a Lua file, looked up as given, then in the project's scripts/; - is stdin\n"
    "  -e CODE      run CODE (may be repeated; before the script)\n"
    "  -i           enter the REPL after running the script\n"
    "  -v, --version  print version, CPU features and CUDA devices\n"
    "  -h, --help   this text\n"
    "With no script and no -e, starts the REPL (on piped input: no prompts, stops at an error, status 1).\n"
    "A script named - is read from stdin.\n"
    "Exit status: 0 done, 1 error, 2 usage error (a bad option or value), 130 interrupted (Ctrl-C).\n"
    "Errors are one line; --verbose (after the script) or BITTTT_DEBUG=1 adds the stack traceback.\n"
    "Environment: BITTTT_HOME (project folder with lua/ and scripts/), BITTTT_THREADS, BITTTT_CPU, BITTTT_DEBUG.\n";

/* The project home: $BITTTT_HOME, else <dir of executable>/.. when it holds lua/bitttt. */
static void find_home(char *home, size_t cap) {
    const char *env = getenv("BITTTT_HOME");
    if (env && *env) { snprintf(home, cap, "%s", env); return; }
    char exe[BT_HOST_PATH_MAX];
    home[0] = 0;
    if (bt_host_exe_path(exe, sizeof exe) != 0) return;
    /* Strip the file name, then walk up (bin/, bin/asan/ or bin/windows/) until lua/bitttt/init.lua appears. */
    for (int up = 0; up < 4; up++) {
        char *slash = (char *)bt_host_last_separator(exe);
        if (!slash) return;
        *slash = 0;
        char probe[BT_HOST_PATH_MAX + 32];
        snprintf(probe, sizeof probe, "%s/lua/bitttt/init.lua", exe);
        if (bt_host_readable_file(probe)) { snprintf(home, cap, "%s", exe); return; }
    }
}

static void set_paths(lua_State *L, const char *home) {
    if (!*home) return;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;%s", home, home, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 1);
    lua_pushstring(L, home);
    lua_setglobal(L, "BITTTT_HOME");
    lua_pop(L, 1);
}

static void preload_core(lua_State *L) {
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, bt_lua_open_core);
    lua_setfield(L, -2, "bitttt.core");
    lua_pushcfunction(L, luaopen_bitttt_interrupt);   /* Ctrl-C checks for the token loop */
    lua_setfield(L, -2, "bitttt.interrupt");
    lua_pushcfunction(L, luaopen_bitttt_line);        /* the line editor for chat.lua */
    lua_setfield(L, -2, "bitttt.line");
    lua_pop(L, 2);
}

int bt_host_traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    lua_getglobal(L, "debug");
    lua_getfield(L, -1, "traceback");
    lua_pushstring(L, msg);
    lua_pushinteger(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

int bt_host_call(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, bt_host_traceback);
    lua_insert(L, base);
    int rc = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    if (rc != 0) {
        fprintf(stderr, "bitttt-lua: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return rc;
}

/* The version, CPU features and devices, as bitttt.core's info() reports them. */
static const char *version_chunk =
    "local i = require('bitttt.core').info()\n"
    "local c = i.cpu\n"
    "print(('bitttt-lua %s (C API %d), %s'):format(i.version, i.api_version, jit and jit.version or _VERSION))\n"
    "print(('cpu: simd %s; avx2 %d fma %d f16c %d avx512f %d avx512bw %d avx512vl %d avx512vnni %d; threads %d'):format(\n"
    "  i.simd, c.avx2 and 1 or 0, c.fma and 1 or 0, c.f16c and 1 or 0, c.avx512f and 1 or 0, c.avx512bw and 1 or 0,\n"
    "  c.avx512vl and 1 or 0, c.avx512vnni and 1 or 0, i.threads))\n"
    "print(i.cuda.compiled and ('cuda: compiled in, %d device(s)'):format(i.cuda.devices) or 'cuda: not compiled in')\n";

static int print_version(lua_State *L) {
    if (luaL_loadbuffer(L, version_chunk, strlen(version_chunk), "=version") != 0) return 1;
    return bt_host_call(L, 0, 0) ? 1 : 0;
}

/* Resolves the script name: as given, else <home>/scripts/<name>. */
static int resolve_script(const char *name, const char *home, char *out, size_t cap) {
    if (bt_host_readable_file(name)) { snprintf(out, cap, "%s", name); return 1; }
    if (*home && !bt_host_last_separator(name)) {
        snprintf(out, cap, "%s/scripts/%s", home, name);
        if (bt_host_readable_file(out)) return 1;
    }
    return 0;
}

/* arg table as lua.c builds it: arg[0] = script, arg[1..] = its arguments, negative = host and options. */
static void set_arg_table(lua_State *L, int argc, char **argv, int script_at) {
    lua_createtable(L, argc - script_at, script_at + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script_at);
    }
    lua_setglobal(L, "arg");
}

int main(int argc, char **argv) {
    bt_host_os_init(&argc, &argv);
    int interactive = 0, script_at = argc, n_chunks = 0;
    const char *chunks[64];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-e") == 0) {
            if (i + 1 >= argc) { fprintf(stderr, "bitttt-lua: -e needs an argument (see --help)\n"); return 2; }
            if (n_chunks == 64) { fprintf(stderr, "bitttt-lua: too many -e options\n"); return 2; }
            chunks[n_chunks++] = argv[++i];
        } else if (strcmp(a, "-i") == 0) interactive = 1;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) script_at = -1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { fputs(usage, stdout); return 0; }
        else if (strcmp(a, "--") == 0) { script_at = i + 1; break; }
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "bitttt-lua: unknown option '%s' (see --help)\n", a); return 2; }
        else { script_at = i; break; }
        if (script_at < 0) break;
    }

    lua_State *L = luaL_newstate();
    if (!L) { fprintf(stderr, "bitttt-lua: cannot create a Lua state\n"); return 1; }
    luaL_openlibs(L);
    char home[BT_HOST_PATH_MAX];
    find_home(home, sizeof home);
    set_paths(L, home);
    preload_core(L);
    if (script_at < 0) {   /* -v */
        int rc = print_version(L);
        lua_close(L);
        return rc;
    }
    set_arg_table(L, argc, argv, script_at < argc ? script_at : 0);

    int rc = 0, verbose = bt_host_debug_wanted(argc, argv);
    for (int i = 0; i < n_chunks && rc == 0; i++) {
        if (luaL_loadbuffer(L, chunks[i], strlen(chunks[i]), "=(command line)") != 0) {
            fprintf(stderr, "bitttt-lua: %s\n", lua_tostring(L, -1));
            rc = 1;
        } else {
            rc = bt_host_run(L, 0, NULL, home, verbose);
        }
    }
    if (rc == 0 && script_at < argc) {
        char path[BT_HOST_PATH_MAX + 64];
        int from_stdin = strcmp(argv[script_at], "-") == 0;   /* `-`: the script is stdin */
        const char *slash = bt_host_last_separator(argv[script_at]);
        const char *name = from_stdin ? "stdin" : slash ? slash + 1 : argv[script_at];
        if (from_stdin) snprintf(path, sizeof path, "-");
        if (!from_stdin && !resolve_script(argv[script_at], home, path, sizeof path)) {
            fprintf(stderr, "bitttt-lua: cannot find script '%s' (a readable file; looked in the current directory%s%s%s)\n",
                    argv[script_at], *home ? " and " : "", home, *home ? "/scripts" : "");
            rc = 2;
        } else if (luaL_loadfile(L, from_stdin ? NULL : path) != 0) {
            fprintf(stderr, "bitttt-lua: %s\n", lua_tostring(L, -1));
            rc = 1;
        } else {
            int nargs = argc - script_at - 1;
            luaL_checkstack(L, nargs, "too many arguments");
            for (int i = script_at + 1; i < argc; i++) lua_pushstring(L, argv[i]);
            rc = bt_host_run(L, nargs, name, home, verbose);
        }
    }
    if (rc == 0 && (interactive || (script_at >= argc && n_chunks == 0))) rc = bt_host_repl(L);
    fflush(stdout);
    lua_close(L);
    return rc;
}
