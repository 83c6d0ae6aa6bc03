/* repl_interrupt.c - Ctrl-C handling while REPL input runs (see repl_interrupt.h;
 * the handlers are installed through host_os.h). */
#include "repl_interrupt.h"
#include <signal.h>
#include "host_os.h"
#include "runtime/interrupt.h"

static lua_State *running;               /* the state running REPL input */
static volatile sig_atomic_t presses;    /* Ctrl-C presses during this run */
static int armed;
static bt_host_ctrl_c_saved previous;

static void raise_interrupted(lua_State *L) {
    lua_pushstring(L, BT_REPL_INTERRUPTED);
    lua_error(L);
}

static void stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    raise_interrupted(L);
}

/* lua_sethook may be called from a signal handler (as lua.c and luajit.c do). */
static void on_sigint(int sig) {
    (void)sig;
    bt_interrupt_request();
    if (++presses >= 3) {
        bt_host_restore_ctrl_c(&previous);
        raise(SIGINT);
        return;
    }
    /* On the next VM instruction only: call and return hooks would also fire inside the
     * message handler when an op's own interrupt check raised first ("error in error
     * handling"). C ops check bt_interrupted() themselves. */
    lua_sethook(running, stop_hook, LUA_MASKCOUNT, 1);
}

void bt_repl_interrupt_arm(lua_State *L) {
    if (armed) bt_repl_interrupt_disarm(running);
    armed = 1;
    running = L;
    presses = 0;
    bt_interrupt_clear();
    bt_host_on_ctrl_c(on_sigint, &previous);
}

void bt_repl_interrupt_disarm(lua_State *L) {
    if (!armed) return;
    armed = 0;
    bt_host_restore_ctrl_c(&previous);
    lua_sethook(L, NULL, 0, 0);
}

/* ---- trap(): Ctrl-C counted, polled with pressed() ---- */

static volatile sig_atomic_t trapped_presses;
static bt_host_ctrl_c_saved before_trap;
static int trapping;

static void on_sigint_trapped(int sig) {
    (void)sig;
    if (++trapped_presses >= 3) {
        bt_host_restore_ctrl_c(&before_trap);
        raise(SIGINT);
    }
}

static int l_trap(lua_State *L) {
    (void)L;
    trapped_presses = 0;
    if (trapping) return 0;
    bt_host_on_ctrl_c(on_sigint_trapped, &before_trap);
    trapping = 1;
    return 0;
}

static int l_pressed(lua_State *L) {
    lua_pushboolean(L, trapping && trapped_presses > 0);
    trapped_presses = 0;
    return 1;
}

static int l_release(lua_State *L) {
    (void)L;
    if (trapping) bt_host_restore_ctrl_c(&before_trap);
    trapping = 0;
    return 0;
}

static int l_interrupted(lua_State *L) {
    lua_pushboolean(L, bt_interrupted());
    return 1;
}

/* arm(): from now on Ctrl-C raises "interrupted" in the calling script (generate.lua
 * prints its timings then); the host disarms when the script ends. Scripts that do not
 * arm keep the default: Ctrl-C ends the process. */
static int l_arm(lua_State *L) {
    bt_repl_interrupt_arm(L);
    return 0;
}

static int l_check(lua_State *L) {
    if (bt_interrupted()) raise_interrupted(L);
    return 0;
}

int luaopen_bitttt_interrupt(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, l_interrupted);
    lua_setfield(L, -2, "interrupted");
    lua_pushcfunction(L, l_check);
    lua_setfield(L, -2, "check");
    lua_pushcfunction(L, l_trap);
    lua_setfield(L, -2, "trap");
    lua_pushcfunction(L, l_pressed);
    lua_setfield(L, -2, "pressed");
    lua_pushcfunction(L, l_release);
    lua_setfield(L, -2, "release");
    lua_pushcfunction(L, l_arm);
    lua_setfield(L, -2, "arm");
    return 1;
}
