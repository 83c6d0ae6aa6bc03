/* capi_internal.h - what the C API's objects hold. The model is a private Lua
 * state running lua/bitttt (runtime/capi/lua_state.c) with the loaded model in
 * it; everything a call computes happens in Lua, under the model's lock, so the
 * graphs, sampler, fingerprint and state files are the scripts' own. What the
 * const getters return is copied out of Lua after each call. */
#ifndef BT_CAPI_INTERNAL_H
#define BT_CAPI_INTERNAL_H
#include <stdatomic.h>
#include <lauxlib.h>
#include <lua.h>
#include "lua_state.h"
#include "runtime/bitttt.h"
#include "runtime/platform/platform.h"

struct bt_model {
    lua_State *L;             /* private; touched only with `lock` held */
    bt_mutex lock;            /* one call into L at a time (sessions of this model included) */
    int ref;                  /* registry reference of the Lua model */
    bt_model_info info;       /* architecture and format point at the strings below */
    char *architecture, *format;
    char **mixers;            /* [info.n_layer] mixer kinds */
    int stop_at_bos;          /* llama2.c: BOS ends generation, as its run.c */
    _Atomic int holders;      /* the caller + each live session, snapshot, text stream: the last frees it */
};

struct bt_session {
    bt_model *model;
    int ref;                  /* registry reference of the Lua side (bitttt.capi session_new) */
    const float *logits;      /* the last token's logits row, in a Lua tensor; NULL before any */
    int pos, n_ctx, busy;     /* copied from the Lua session after each call */
};

/* Another holder of m (a session, snapshot or stream), and letting go of one. */
void bt_capi_model_hold(bt_model *m);
void bt_capi_model_release(bt_model *m);

/* Pushes the Lua object behind a registry reference (under the model's lock). */
void bt_capi_push_ref(bt_model *m, int ref);
/* Runs bitttt.capi.<fn>(session object, <nargs values on top>) for s, then refreshes
 * s->pos, n_ctx, busy, logits; nresults results stay on the stack on success. */
bt_status bt_capi_session_call(bt_session *s, const char *fn, int nargs, int nresults, bt_status fallback);

/* Copies text into buf (NUL-terminated, cut to cap - 1); *len gets the full length. */
void bt_capi_put_text(char *buf, size_t cap, size_t *len, const char *text, size_t n);
/* Pushes the table of sampler options bitttt.capi.sampler takes. */
void bt_capi_push_sampling(lua_State *L, const bt_sampling *s);
#endif
