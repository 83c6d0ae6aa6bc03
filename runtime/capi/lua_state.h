/* lua_state.h - the private Lua states behind the C API: one per model (its
 * sessions share it, under the model's lock) and one per standalone sampler.
 * Each runs lua/bitttt - the sources built into the library, or the folder
 * that BITTTT_LUA_DIR / bt_set_lua_dir names - with bitttt.core preloaded. */
#ifndef BT_CAPI_LUA_STATE_H
#define BT_CAPI_LUA_STATE_H
#include <stdint.h>
#include <stddef.h>
#include <lua.h>
#include "base/error.h"

/* A new state with the standard libraries, bitttt.core and bitttt.capi loaded. */
bt_status bt_capi_state_new(lua_State **out);

/* Calls bitttt.capi.<fn> with the nargs values on top of the stack. On success the
 * nresults results replace them; on failure they are popped and the status comes from
 * the error: a table's .status ("arg", "io", "format"), else `fallback` (the message
 * without its "file.lua:line:" prefix goes to bt_last_error). */
bt_status bt_capi_call(lua_State *L, const char *fn, int nargs, int nresults, bt_status fallback);

/* Pushes a Lua array of the ids. */
void bt_capi_push_ids(lua_State *L, const int32_t *ids, size_t n);

#endif
