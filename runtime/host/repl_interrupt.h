/* repl_interrupt.h - Ctrl-C while the REPL runs Lua code: SIGINT sets the
 * runtime's interrupt flag (runtime/interrupt.h), which C ops and the token loop
 * poll, and arms a Lua hook that raises "interrupted" at the next call, return
 * or instruction the interpreter runs (compiled traces do not run hooks). A third
 * Ctrl-C within one run gives up and lets the default action end the process. */
#ifndef BT_REPL_INTERRUPT_H
#define BT_REPL_INTERRUPT_H
#include <lua.h>

/* The message interrupted code fails with. */
#define BT_REPL_INTERRUPTED "interrupted"

/* Around running input: arm installs the SIGINT handler for L and clears the flag;
 * disarm restores the previous handler and removes a pending hook. */
void bt_repl_interrupt_arm(lua_State *L);
void bt_repl_interrupt_disarm(lua_State *L);

/* The module `bitttt.interrupt` the host preloads: interrupted() -> bool, and
 * check(), which raises "interrupted" when the flag is set. For loops that stop
 * cleanly between steps (chat, generation): trap() makes Ctrl-C only count
 * presses (no error, no runtime flag, so an op never stops half-way), pressed()
 * -> whether Ctrl-C was pressed since the last call, release() restores the
 * previous handler. A third press before pressed() is asked ends the process. */
int luaopen_bitttt_interrupt(lua_State *L);

#endif
