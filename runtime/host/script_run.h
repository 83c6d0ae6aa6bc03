/* script_run.h - how the host runs a script or -e chunk, and how it reports an
 * uncaught error: one line on stderr,
 *
 *   bitttt-lua: <script>: <message>
 *
 * and an exit status: 1, or the error object's exit_code ({ message =, exit_code = },
 * as bitttt.cli raises: 2 for usage errors), or 130 after Ctrl-C. A position
 * "file.lua:NN:" in front of the message is dropped when that line belongs to the
 * kit (lua/ or scripts/ under the home) and kept when it is the user's own (their
 * script, a schedule file, a -e chunk). The stack traceback follows only with
 * --verbose among the arguments or BITTTT_DEBUG=1. A script that armed Ctrl-C
 * (bitttt.interrupt.arm) is disarmed when it ends. */
#ifndef BT_SCRIPT_RUN_H
#define BT_SCRIPT_RUN_H
#include <lua.h>

/* Runs the function below its nargs arguments; returns the exit status (0 on success).
 * name: the script as shown in messages (NULL for -e chunks); home: the kit's folder ("" if unknown). */
int bt_host_run(lua_State *L, int nargs, const char *name, const char *home, int verbose);

/* Whether tracebacks are wanted: BITTTT_DEBUG set (not "0"), or --verbose in argv. */
int bt_host_debug_wanted(int argc, char **argv);

#endif
