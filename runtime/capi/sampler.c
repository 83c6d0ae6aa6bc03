/* sampler.c - bt_sampler: lua/bitttt/sampling.lua on its own, for logits that
 * did not come from a session. A sampler has a small Lua state of its own (it
 * belongs to one thread at a time, like a session) and a logits row tensor the
 * caller's floats are copied into. */
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"
#include "runtime/lua/binding.h"

struct bt_sampler {
    lua_State *L;
    int ref;          /* the Lua sampler */
    int row_ref;      /* an f32 [n] tensor, made for the first n_vocab seen */
    bt_tensor *row;
};

bt_status bt_sampler_new(bt_sampler **out, const bt_sampling *opts) {
    if (!out) return bt_set_error(BT_ERR_ARG, "bt_sampler_new: out is NULL");
    *out = NULL;
    if (!opts) return bt_set_error(BT_ERR_ARG, "bt_sampler_new: options are NULL");
    bt_sampler *smp = calloc(1, sizeof *smp);
    if (!smp) return bt_set_error(BT_ERR_NOMEM, "bt_sampler_new: out of memory");
    smp->ref = smp->row_ref = LUA_NOREF;
    bt_status st = bt_capi_state_new(&smp->L);
    if (!st) {
        bt_capi_push_sampling(smp->L, opts);
        st = bt_capi_call(smp->L, "sampler", 1, 1, BT_ERR_ARG);
    }
    if (!st) smp->ref = luaL_ref(smp->L, LUA_REGISTRYINDEX);
    if (st) { bt_sampler_free(smp); return st; }
    *out = smp;
    return BT_OK;
}

/* The row tensor, remade when n_vocab changes. */
static bt_status row_for(bt_sampler *smp, int n_vocab) {
    if (smp->row && smp->row->shape[0] == n_vocab) return BT_OK;
    luaL_unref(smp->L, LUA_REGISTRYINDEX, smp->row_ref);
    smp->row_ref = LUA_NOREF;
    smp->row = NULL;
    int64_t shape[1] = {n_vocab};
    bt_tensor *t;
    bt_status st = bt_tensor_new(&t, BT_F32, 1, shape, BT_CPU);
    if (st) return st;
    bt_lua_push_tensor(smp->L, t);   /* Lua owns it now */
    smp->row_ref = luaL_ref(smp->L, LUA_REGISTRYINDEX);
    smp->row = t;
    return BT_OK;
}

bt_status bt_sampler_sample(bt_sampler *smp, const float *logits, int n_vocab, const int32_t *history,
                            size_t n_history, int32_t *id) {
    if (!smp || !logits || !id) return bt_set_error(BT_ERR_ARG, "bt_sampler_sample: sampler, logits and id are required");
    if (n_vocab < 1) return bt_set_error(BT_ERR_ARG, "bt_sampler_sample: n_vocab must be >= 1, got %d", n_vocab);
    if (!history && n_history) return bt_set_error(BT_ERR_ARG, "bt_sampler_sample: history is NULL with n_history %zu", n_history);
    bt_status st = row_for(smp, n_vocab);
    if (st) return st;
    memcpy(bt_tensor_data(smp->row), logits, (size_t)n_vocab * sizeof *logits);
    lua_State *L = smp->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, smp->ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, smp->row_ref);
    bt_capi_push_ids(L, history, n_history);
    st = bt_capi_call(L, "sample", 3, 1, BT_ERR_ARG);
    if (st) return st;
    *id = (int32_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return BT_OK;
}

void bt_sampler_free(bt_sampler *smp) {
    if (!smp) return;
    if (smp->L) lua_close(smp->L);
    free(smp);
}
