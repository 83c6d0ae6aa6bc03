/* repl.c - the interactive loop: reads a chunk (continuing lines until it
 * parses), runs it with Ctrl-C armed, prints the values of expressions through
 * lua/bitttt/repl.lua. On a terminal it reads lines with repl_line.c (history
 * in repl_history.c, completion from repl.lua; where the terminal has no raw mode,
 * Windows, whole lines after a prompt) and keeps going after errors; on piped
 * input it reads plain lines without prompts and, as luajit does, stops at the
 * first error (an unfinished chunk at the end included) with status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lua.h>
#include <luajit.h>
#include "host.h"
#include "host_os.h"
#include "read_line.h"
#include "repl_history.h"
#include "repl_interrupt.h"
#include "repl_line.h"
#include "runtime/interrupt.h"
#include "runtime/version.h"

typedef struct repl {
    lua_State *L;
    int module_ref;          /* registry ref of bitttt.repl; LUA_NOREF when it did not load */
    int on_terminal;         /* the line editor (prompts, history), going on after errors; else plain reads */
    bt_line_editor editor;
    char history_path[4096]; /* "" when there is no history file */
} repl;

typedef enum { CHUNK_READY, CHUNK_BAD, CHUNK_SKIP, CHUNK_QUIT, CHUNK_UNFINISHED } chunk_status;

/* ---- the bitttt.repl module ---- */

/* Pushes bitttt.repl's field `name`; returns 0 (pushing nothing) when unavailable. */
static int push_repl_function(repl *r, const char *name) {
    if (r->module_ref == LUA_NOREF) return 0;
    lua_rawgeti(r->L, LUA_REGISTRYINDEX, r->module_ref);
    lua_getfield(r->L, -1, name);
    lua_remove(r->L, -2);
    if (lua_isfunction(r->L, -1)) return 1;
    lua_pop(r->L, 1);
    return 0;
}

static void load_repl_module(repl *r) {
    lua_State *L = r->L;
    r->module_ref = LUA_NOREF;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "bitttt.repl");
    if (bt_host_call(L, 1, 1) != 0) return;   /* prints why; the REPL still runs, with print */
    r->module_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (push_repl_function(r, "start")) bt_host_call(L, 0, 0);
}

/* Completion callback for the line editor: bitttt.repl.complete(before) -> start, candidates. */
static char **complete_with_lua(void *ctx, const char *before, size_t *word_start, int *n) {
    repl *r = ctx;
    lua_State *L = r->L;
    int top = lua_gettop(L);
    char **cands = NULL;
    *n = 0;
    if (!push_repl_function(r, "complete")) return NULL;
    lua_pushstring(L, before);
    if (lua_pcall(L, 1, 2, 0) == 0 && lua_istable(L, -1) && lua_isnumber(L, -2)) {
        int count = (int)lua_objlen(L, -1);
        *word_start = (size_t)lua_tointeger(L, -2) - 1;
        cands = calloc(count > 0 ? (size_t)count : 1, sizeof *cands);
        for (int i = 0; cands && i < count; i++) {
            lua_rawgeti(L, -1, i + 1);
            const char *s = lua_tostring(L, -1);
            if (s && (cands[*n] = strdup(s))) (*n)++;
            lua_pop(L, 1);
        }
    }
    lua_settop(L, top);
    return cands;
}

/* ---- reading ---- */

/* One line without its newline (malloc'd), from the editor or plain stdin. */
static bt_line_result read_line(repl *r, const char *prompt, char **line) {
    if (r->on_terminal) {
        bt_line_result res = bt_line_read(&r->editor, prompt, line);
        if (res == BT_LINE_OK) bt_repl_history_add(&r->editor, r->history_path[0] ? r->history_path : NULL, *line);
        return res;
    }
    *line = bt_host_read_line(stdin);
    return *line ? BT_LINE_OK : BT_LINE_EOF;
}

/* A chunk is incomplete when the parser stopped at the end of input. */
static int incomplete(lua_State *L, int status) {
    if (status != LUA_ERRSYNTAX) return 0;
    const char *msg = lua_tostring(L, -1);
    size_t n = strlen(msg);
    /* LuaJIT and Lua 5.1 end the message with '<eof>' (quoted) */
    return n >= 7 && strcmp(msg + n - 7, "'<eof>'") == 0;
}

/* Compiles `code` as `return code` (so expressions print), else as a statement;
 * a leading '=' means `return` (Lua 5.1's REPL habit). */
static int compile(lua_State *L, const char *code) {
    lua_pushfstring(L, "return %s", code[0] == '=' ? code + 1 : code);
    int st = luaL_loadbuffer(L, lua_tostring(L, -1), lua_objlen(L, -1), "=stdin");
    lua_remove(L, -2);
    if (st == 0 || code[0] == '=') return st;
    lua_pop(L, 1);
    return luaL_loadbuffer(L, code, strlen(code), "=stdin");
}

static int is_command(const char *line) {
    line += strspn(line, " \t");
    return line[0] == ':';
}

/* Runs a ':' command through bitttt.repl.command; CHUNK_QUIT for :quit. */
static chunk_status run_command(repl *r, const char *line) {
    lua_State *L = r->L;
    if (!push_repl_function(r, "command")) {
        fprintf(stderr, "bitttt-lua: commands need lua/bitttt/repl.lua\n");
        return CHUNK_SKIP;
    }
    lua_pushstring(L, line);
    if (bt_host_call(L, 1, 1) != 0) return CHUNK_SKIP;
    const char *result = lua_tostring(L, -1);
    chunk_status st = result && strcmp(result, "quit") == 0 ? CHUNK_QUIT : CHUNK_SKIP;
    lua_pop(L, 1);
    return st;
}

/* Reads lines until they form a chunk; CHUNK_READY leaves the compiled function on
 * the stack, CHUNK_BAD the syntax error; CHUNK_QUIT at the end of input;
 * CHUNK_UNFINISHED (the syntax error on the stack) when the input ends inside a chunk. */
static chunk_status read_chunk(repl *r) {
    lua_State *L = r->L;
    lua_pushliteral(L, "");
    const char *prompt = "> ";
    for (;;) {
        char *line;
        bt_line_result res = read_line(r, prompt, &line);
        if (res != BT_LINE_OK) {
            if (res == BT_LINE_EOF && prompt[1] != ' ') {   /* inside a chunk: its syntax error */
                compile(L, lua_tostring(L, -1));
                lua_remove(L, -2);
                return CHUNK_UNFINISHED;
            }
            lua_pop(L, 1);
            return res == BT_LINE_EOF ? CHUNK_QUIT : CHUNK_SKIP;
        }
        if (prompt[1] == ' ' && is_command(line)) {   /* only on a chunk's first line */
            lua_pop(L, 1);
            chunk_status st = run_command(r, line);
            free(line);
            return st;
        }
        lua_pushfstring(L, "%s%s\n", lua_tostring(L, -1), line);
        free(line);
        lua_replace(L, -2);
        int status = compile(L, lua_tostring(L, -1));
        if (!incomplete(L, status)) {
            lua_remove(L, -2);
            return status == 0 ? CHUNK_READY : CHUNK_BAD;
        }
        lua_pop(L, 1);
        prompt = ">> ";
    }
}

/* ---- running ---- */

/* Error handler: a traceback, or just "interrupted" after Ctrl-C. */
static int message_handler(lua_State *L) {
    if (bt_interrupted()) {
        lua_pushstring(L, BT_REPL_INTERRUPTED);
        return 1;
    }
    return bt_host_traceback(L);
}

/* Runs the function on the stack with Ctrl-C armed, then prints its results.
 * Returns 0, or 1 after an error. */
static int run_chunk(repl *r) {
    lua_State *L = r->L;
    int base = lua_gettop(L) - 1;
    lua_pushcfunction(L, message_handler);
    lua_insert(L, base + 1);
    bt_repl_interrupt_arm(L);
    int rc = lua_pcall(L, 0, LUA_MULTRET, base + 1);
    bt_repl_interrupt_disarm(L);
    lua_remove(L, base + 1);
    if (rc != 0) {
        const char *msg = lua_tostring(L, -1);
        if (msg && strcmp(msg, BT_REPL_INTERRUPTED) == 0)   /* after the terminal's "^C" */
            fprintf(stderr, "%s%s\n", r->on_terminal ? "\n" : "", msg);
        else fprintf(stderr, "bitttt-lua: %s\n", msg ? msg : "(error)");
        lua_settop(L, base);
        return 1;
    }
    int n = lua_gettop(L) - base;
    if (n > 0) {
        if (!push_repl_function(r, "print_results")) lua_getglobal(L, "print");
        lua_insert(L, base + 1);
        bt_host_call(L, n, 0);
    }
    lua_settop(L, base);
    return 0;
}

static void open_terminal(repl *r) {
    r->editor.complete = complete_with_lua;
    r->editor.complete_ctx = r;
    if (bt_host_state_path(r->history_path, sizeof r->history_path, "history") == 0)
        bt_repl_history_load(&r->editor, r->history_path);
    else
        r->history_path[0] = 0;
    printf("bitttt-lua %s (%s). :help for help, %s quits.\n", BT_VERSION_STRING, LUAJIT_VERSION,
           bt_host_raw_usable() ? "Tab completes, Ctrl-D" : bt_host_end_of_input_keys());
}

int bt_host_repl(lua_State *L) {
    repl r = {.L = L, .on_terminal = bt_line_editor_usable()};
    load_repl_module(&r);
    if (r.on_terminal) open_terminal(&r);
    int failed = 0;
    for (;;) {
        lua_settop(L, 0);
        chunk_status st = read_chunk(&r);
        if (st == CHUNK_QUIT) break;
        if (st == CHUNK_BAD || st == CHUNK_UNFINISHED) {
            fprintf(stderr, "bitttt-lua: %s\n", lua_tostring(L, -1));
            failed = 1;
        } else if (st == CHUNK_READY) {
            failed = run_chunk(&r);
        }
        fflush(stdout);
        if (st == CHUNK_UNFINISHED || (failed && !r.on_terminal)) break;
        if (r.on_terminal) failed = 0;
    }
    lua_settop(L, 0);
    if (r.module_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, r.module_ref);
    bt_line_editor_free(&r.editor);
    return failed;
}
