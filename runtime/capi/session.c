/* session.c - bt_session_*: a session is a Lua object of bitttt.capi (the
 * decoder's Session, its sampler and its history) in its model's state. Each
 * call is one call into Lua under the model's lock: feeding, a whole token
 * step (sample + forward), state files, snapshots. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"
#include "runtime/lua/binding.h"

/* s->pos, n_ctx, busy and logits from the Lua session (stack: the capi session object on top). */
static void refresh(bt_session *s) {
    lua_State *L = s->model->L;
    lua_getfield(L, -1, "session");
    lua_getfield(L, -1, "pos");
    s->pos = (int)lua_tointeger(L, -1);
    lua_getfield(L, -2, "n_ctx");
    const lua_Number n_ctx = lua_tonumber(L, -1);   /* math.huge: no limit (no KV-cache layer) */
    s->n_ctx = n_ctx >= (lua_Number)INT_MAX ? INT_MAX : (int)n_ctx;
    lua_getfield(L, -3, "step_co");
    s->busy = !lua_isnil(L, -1);
    lua_getfield(L, -4, "last_logits");
    bt_tensor *t = bt_lua_to_tensor(L, -1);
    s->logits = t ? bt_tensor_data(t) : NULL;
    lua_pop(L, 5);
}

bt_status bt_capi_session_call(bt_session *s, const char *fn, int nargs, int nresults, bt_status fallback) {
    lua_State *L = s->model->L;
    bt_capi_push_ref(s->model, s->ref);
    lua_insert(L, -(nargs + 1));
    bt_status st = bt_capi_call(L, fn, nargs + 1, nresults, fallback);
    bt_capi_push_ref(s->model, s->ref);
    refresh(s);
    lua_pop(L, 1);
    return st;
}

bt_status bt_session_new(bt_session **out, bt_model *m, const bt_session_options *opts) {
    if (!out) return bt_set_error(BT_ERR_ARG, "bt_session_new: out is NULL");
    *out = NULL;
    if (!m) return bt_set_error(BT_ERR_ARG, "bt_session_new: model is NULL");
    if (opts && opts->n_ctx < 0) return bt_set_error(BT_ERR_ARG, "bt_session_new: n_ctx must be >= 0, got %d", opts->n_ctx);
    bt_sampling sp;
    bt_status st = bt_model_sampling(m, &sp);
    if (st) return st;
    bt_session *s = calloc(1, sizeof *s);
    if (!s) return bt_set_error(BT_ERR_NOMEM, "bt_session_new: out of memory");
    s->model = m;
    bt_mutex_lock(&m->lock);
    lua_State *L = m->L;
    bt_capi_push_ref(m, m->ref);
    if (opts && opts->n_ctx > 0) lua_pushinteger(L, opts->n_ctx);
    else lua_pushnil(L);
    bt_capi_push_sampling(L, &sp);
    st = bt_capi_call(L, "session_new", 3, 1, BT_ERR_ARG);
    if (!st) {
        refresh(s);
        s->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    bt_mutex_unlock(&m->lock);
    if (st) { free(s); return st; }
    bt_capi_model_hold(m);
    *out = s;
    return BT_OK;
}

void bt_session_free(bt_session *s) {
    if (!s) return;
    bt_model *m = s->model;
    bt_mutex_lock(&m->lock);
    luaL_unref(m->L, LUA_REGISTRYINDEX, s->ref);
    lua_gc(m->L, LUA_GCCOLLECT, 0);   /* the KV caches and buffers are C memory Lua's collector does not see */
    bt_mutex_unlock(&m->lock);
    free(s);
    bt_capi_model_release(m);
}

int bt_session_position(const bt_session *s) { return s ? s->pos : 0; }
int bt_session_context(const bt_session *s) { return s ? s->n_ctx : 0; }
const float *bt_session_logits(const bt_session *s) { return s ? s->logits : NULL; }
int bt_session_busy(const bt_session *s) { return s ? s->busy : 0; }

/* Locks the session's model, or says what is NULL. */
#define LOCKED_CALL(s, name, body)                                                      \
    do {                                                                                \
        if (!(s)) return bt_set_error(BT_ERR_ARG, name ": session is NULL");            \
        bt_mutex_lock(&(s)->model->lock);                                          \
        bt_status st_ = (body);                                                         \
        bt_mutex_unlock(&(s)->model->lock);                                        \
        return st_;                                                                     \
    } while (0)

static bt_status feed(bt_session *s, const int32_t *ids, size_t n, float *logits) {
    lua_State *L = s->model->L;
    bt_capi_push_ids(L, ids, n);
    lua_pushstring(L, logits ? "all" : "last");
    bt_status st = bt_capi_session_call(s, "feed", 2, 1, BT_ERR_ARG);
    if (st) return st;
    if (logits) {   /* rows: a Lua array of [n_vocab] tensors */
        const size_t V = (size_t)s->model->info.n_vocab;
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, -1, (int)i + 1);
            bt_tensor *row = bt_lua_to_tensor(L, -1);
            if (row) memcpy(logits + i * V, bt_tensor_data(row), V * sizeof *logits);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return BT_OK;
}

static bt_status check_ids(const int32_t *ids, size_t n, const char *name) {
    if (!ids && n) return bt_set_error(BT_ERR_ARG, "%s: ids is NULL with n %zu", name, n);
    if (!n) return bt_set_error(BT_ERR_ARG, "%s: no tokens", name);
    return BT_OK;
}

bt_status bt_session_feed(bt_session *s, const int32_t *ids, size_t n) {
    bt_status st = check_ids(ids, n, "bt_session_feed");
    if (st) return st;
    LOCKED_CALL(s, "bt_session_feed", feed(s, ids, n, NULL));
}

bt_status bt_session_feed_all(bt_session *s, const int32_t *ids, size_t n, float *logits) {
    bt_status st = check_ids(ids, n, "bt_session_feed_all");
    if (st) return st;
    if (!logits) return bt_set_error(BT_ERR_ARG, "bt_session_feed_all: logits is NULL");
    LOCKED_CALL(s, "bt_session_feed_all", feed(s, ids, n, logits));
}

static bt_status set_sampling(bt_session *s, const bt_sampling *opts) {
    bt_capi_push_sampling(s->model->L, opts);
    return bt_capi_session_call(s, "set_sampling", 1, 0, BT_ERR_ARG);
}

bt_status bt_session_set_sampling(bt_session *s, const bt_sampling *opts) {
    if (!opts) return bt_set_error(BT_ERR_ARG, "bt_session_set_sampling: options are NULL");
    LOCKED_CALL(s, "bt_session_set_sampling", set_sampling(s, opts));
}

static bt_status step(bt_session *s, int32_t *id) {
    bt_status st = bt_capi_session_call(s, "step", 0, 1, BT_ERR_ARG);
    if (st) return st;
    *id = (int32_t)lua_tointeger(s->model->L, -1);
    lua_pop(s->model->L, 1);
    return BT_OK;
}

bt_status bt_session_step(bt_session *s, int32_t *id) {
    if (!id) return bt_set_error(BT_ERR_ARG, "bt_session_step: id is NULL");
    LOCKED_CALL(s, "bt_session_step", step(s, id));
}

static bt_status step_budget(bt_session *s, double budget_ms, int32_t *id) {
    lua_pushnumber(s->model->L, budget_ms);
    bt_status st = bt_capi_session_call(s, "step_budget", 1, 1, BT_ERR_ARG);
    if (st) return st;
    *id = (int32_t)lua_tointeger(s->model->L, -1);
    lua_pop(s->model->L, 1);
    return BT_OK;
}

bt_status bt_session_step_budget(bt_session *s, double budget_ms, int32_t *id) {
    if (!id) return bt_set_error(BT_ERR_ARG, "bt_session_step_budget: id is NULL");
    *id = -1;
    LOCKED_CALL(s, "bt_session_step_budget", step_budget(s, budget_ms, id));
}

bt_status bt_session_finish(bt_session *s) {
    LOCKED_CALL(s, "bt_session_finish", bt_capi_session_call(s, "finish", 0, 0, BT_ERR_ARG));
}

bt_status bt_session_reset(bt_session *s) {
    LOCKED_CALL(s, "bt_session_reset", bt_capi_session_call(s, "reset", 0, 0, BT_ERR_ARG));
}

static bt_status number_call(bt_session *s, const char *fn, double v) {
    lua_pushnumber(s->model->L, v);
    return bt_capi_session_call(s, fn, 1, 0, BT_ERR_ARG);
}

bt_status bt_session_set_ttt_lr(bt_session *s, double lr) {
    LOCKED_CALL(s, "bt_session_set_ttt_lr", number_call(s, "set_ttt_lr", lr));
}

static bt_status schedule_call(bt_session *s, const char *text, int is_source) {
    lua_pushstring(s->model->L, text);   /* NULL pushes nil: back to a constant 1 */
    lua_pushboolean(s->model->L, is_source);
    return bt_capi_session_call(s, "set_ttt_schedule", 2, 0, BT_ERR_ARG);
}

bt_status bt_session_set_ttt_schedule(bt_session *s, const char *schedule) {
    LOCKED_CALL(s, "bt_session_set_ttt_schedule", schedule_call(s, schedule, 0));
}

bt_status bt_session_set_ttt_schedule_lua(bt_session *s, const char *source) {
    if (!source) return bt_set_error(BT_ERR_ARG, "bt_session_set_ttt_schedule_lua: source is NULL");
    LOCKED_CALL(s, "bt_session_set_ttt_schedule_lua", schedule_call(s, source, 1));
}

static bt_status path_call(bt_session *s, const char *fn, const char *path, bt_status fallback) {
    lua_pushstring(s->model->L, path);
    return bt_capi_session_call(s, fn, 1, 0, fallback);
}

bt_status bt_session_save_state(bt_session *s, const char *path) {
    if (!path) return bt_set_error(BT_ERR_ARG, "bt_session_save_state: path is NULL");
    LOCKED_CALL(s, "bt_session_save_state", path_call(s, "save_state", path, BT_ERR_IO));
}

bt_status bt_session_load_state(bt_session *s, const char *path) {
    if (!path) return bt_set_error(BT_ERR_ARG, "bt_session_load_state: path is NULL");
    LOCKED_CALL(s, "bt_session_load_state", path_call(s, "load_state", path, BT_ERR_FORMAT));
}

/* A snapshot: a Lua table in the model's state (bitttt.capi.snapshot). */
struct bt_snapshot {
    bt_model *model;
    int ref;
};

static bt_status snapshot(bt_session *s, bt_snapshot *snap) {
    bt_status st = bt_capi_session_call(s, "snapshot", 0, 1, BT_ERR_ARG);
    if (!st) snap->ref = luaL_ref(s->model->L, LUA_REGISTRYINDEX);
    return st;
}

bt_status bt_session_snapshot(bt_session *s, bt_snapshot **out) {
    if (!out) return bt_set_error(BT_ERR_ARG, "bt_session_snapshot: out is NULL");
    *out = NULL;
    if (!s) return bt_set_error(BT_ERR_ARG, "bt_session_snapshot: session is NULL");
    bt_snapshot *snap = calloc(1, sizeof *snap);
    if (!snap) return bt_set_error(BT_ERR_NOMEM, "bt_session_snapshot: out of memory");
    snap->model = s->model;
    bt_mutex_lock(&s->model->lock);
    bt_status st = snapshot(s, snap);
    bt_mutex_unlock(&s->model->lock);
    if (st) { free(snap); return st; }
    bt_capi_model_hold(s->model);
    *out = snap;
    return BT_OK;
}

static bt_status restore(bt_session *s, const bt_snapshot *snap) {
    bt_capi_push_ref(s->model, snap->ref);
    return bt_capi_session_call(s, "restore", 1, 0, BT_ERR_ARG);
}

bt_status bt_session_restore(bt_session *s, const bt_snapshot *snap) {
    if (!snap) return bt_set_error(BT_ERR_ARG, "bt_session_restore: snapshot is NULL");
    if (s && snap->model != s->model)
        return bt_set_error(BT_ERR_ARG, "bt_session_restore: the snapshot is of a session of another model");
    LOCKED_CALL(s, "bt_session_restore", restore(s, snap));
}

void bt_snapshot_free(bt_snapshot *snap) {
    if (!snap) return;
    bt_mutex_lock(&snap->model->lock);
    luaL_unref(snap->model->L, LUA_REGISTRYINDEX, snap->ref);
    lua_gc(snap->model->L, LUA_GCCOLLECT, 0);
    bt_mutex_unlock(&snap->model->lock);
    bt_capi_model_release(snap->model);
    free(snap);
}
