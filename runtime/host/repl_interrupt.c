/* repl_interrupt.c - SIGINT handling while REPL input runs (see repl_interrupt.h). */
#include "repl_interrupt.h"
#include <signal.h>
#include <string.h>
#include "runtime/interrupt.h"

static lua_State *running;               /* the state running REPL input */
static volatile sig_atomic_t presses;    /* Ctrl-C presses during this run */
static int armed;
static struct sigaction previous;

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
        sigaction(SIGINT, &previous, NULL);
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
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous);
}

void bt_repl_interrupt_disarm(lua_State *L) {
    if (!armed) return;
    armed = 0;
    sigaction(SIGINT, &previous, NULL);
    lua_sethook(L, NULL, 0, 0);
}

/* ---- trap(): Ctrl-C counted, polled with pressed() ---- */

static volatile sig_atomic_t trapped_presses;
static struct sigaction before_trap;
static int trapping;

static void on_sigint_trapped(int sig) {
    (void)sig;
    if (++trapped_presses >= 3) {
        sigaction(SIGINT, &before_trap, NULL);
        raise(SIGINT);
    }
}

static int l_trap(lua_State *L) {
    (void)L;
    trapped_presses = 0;
    if (trapping) return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint_trapped;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &before_trap);
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
    if (trapping) sigaction(SIGINT, &before_trap, NULL);
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
