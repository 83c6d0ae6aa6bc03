/* host.h - pieces of the bitttt-lua executable shared between its files. */
#ifndef BT_HOST_H
#define BT_HOST_H
#include <lua.h>

/* Runs the function on top of the stack with `nargs` arguments under a
 * traceback handler; on error prints "bitttt-lua: message" to stderr.
 * Returns 0 on success. */
int bt_host_call(lua_State *L, int nargs, int nresults);

/* Message handler for lua_pcall: the error message with a stack traceback. */
int bt_host_traceback(lua_State *L);

/* The module `bitttt.line`: the REPL's line editor for scripts (line_lua.c). */
int luaopen_bitttt_line(lua_State *L);

/* The interactive loop (repl.c); returns 1 when piped input stopped at an error. */
int bt_host_repl(lua_State *L);

#endif
