/* tokenize.c - text <-> token ids for the C API, through the model's Lua
 * tokenizer object (runtime/lua/tokenizer_lua.c), into caller-owned buffers. */
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"

bt_status bt_tokenize(const bt_model *cm, const char *text, size_t len, unsigned flags, int32_t *ids, size_t cap,
                      size_t *n) {
    if (!cm) return bt_set_error(BT_ERR_ARG, "bt_tokenize: model is NULL");
    if (!text && len) return bt_set_error(BT_ERR_ARG, "bt_tokenize: text is NULL");
    bt_model *m = (bt_model *)cm;
    bt_mutex_lock(&m->lock);
    lua_State *L = m->L;
    bt_capi_push_ref(m, m->ref);
    lua_pushlstring(L, text ? text : "", len);
    lua_pushboolean(L, flags & BT_TOKENIZE_BOS);
    lua_pushboolean(L, flags & BT_TOKENIZE_EOS);
    lua_pushboolean(L, flags & BT_TOKENIZE_SPECIAL);
    bt_status st = bt_capi_call(L, "tokenize", 5, 1, BT_ERR_ARG);
    if (!st) {
        size_t count = lua_objlen(L, -1);
        if (n) *n = count;
        if (count > cap || (!ids && count)) {
            st = bt_set_error(BT_ERR_ARG, "tokenize: %zu tokens do not fit a buffer of %zu", count, cap);
        } else {
            for (size_t i = 0; i < count; i++) {
                lua_rawgeti(L, -1, (int)i + 1);
                ids[i] = (int32_t)lua_tointeger(L, -1);
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    bt_mutex_unlock(&m->lock);
    return st;
}

bt_status bt_detokenize(const bt_model *cm, const int32_t *ids, size_t n, char *buf, size_t cap, size_t *len) {
    if (!cm) return bt_set_error(BT_ERR_ARG, "bt_detokenize: model is NULL");
    if (!ids && n) return bt_set_error(BT_ERR_ARG, "bt_detokenize: ids is NULL with n %zu", n);
    if (!buf && cap) return bt_set_error(BT_ERR_ARG, "bt_detokenize: buf is NULL with cap %zu", cap);
    bt_model *m = (bt_model *)cm;
    bt_mutex_lock(&m->lock);
    bt_capi_push_ref(m, m->ref);
    bt_capi_push_ids(m->L, ids, n);
    bt_status st = bt_capi_call(m->L, "detokenize", 2, 1, BT_ERR_ARG);
    if (!st) {
        size_t k;
        const char *text = lua_tolstring(m->L, -1, &k);
        bt_capi_put_text(buf, cap, len, text, k);
        lua_pop(m->L, 1);
    }
    bt_mutex_unlock(&m->lock);
    return st;
}

/* A Lua token stream (tok:stream()) in the model's state. */
struct bt_text_stream {
    bt_model *model;
    int ref;
};

bt_status bt_text_stream_new(bt_text_stream **out, const bt_model *cm) {
    if (!out) return bt_set_error(BT_ERR_ARG, "bt_text_stream_new: out is NULL");
    *out = NULL;
    if (!cm) return bt_set_error(BT_ERR_ARG, "bt_text_stream_new: model is NULL");
    bt_text_stream *s = calloc(1, sizeof *s);
    if (!s) return bt_set_error(BT_ERR_NOMEM, "text stream: out of memory");
    bt_model *m = s->model = (bt_model *)cm;
    bt_mutex_lock(&m->lock);
    bt_capi_push_ref(m, m->ref);
    bt_status st = bt_capi_call(m->L, "text_stream", 1, 1, BT_ERR_ARG);
    if (!st) s->ref = luaL_ref(m->L, LUA_REGISTRYINDEX);
    bt_mutex_unlock(&m->lock);
    if (st) { free(s); return st; }
    bt_capi_model_hold(m);
    *out = s;
    return BT_OK;
}

/* push (id >= 0) or flush (id < 0): the new text into buf (not NUL-terminated). */
static bt_status stream_call(bt_text_stream *s, int32_t id, int push, char *buf, size_t cap, size_t *len) {
    if (!s) return bt_set_error(BT_ERR_ARG, "text stream is NULL");
    if (!buf && cap) return bt_set_error(BT_ERR_ARG, "text stream: buf is NULL with cap %zu", cap);
    bt_model *m = s->model;
    bt_mutex_lock(&m->lock);
    bt_capi_push_ref(m, s->ref);
    if (push) lua_pushinteger(m->L, id);
    bt_status st = bt_capi_call(m->L, push ? "stream_push" : "stream_flush", push ? 2 : 1, 1, BT_ERR_ARG);
    if (!st) {
        size_t n;
        const char *text = lua_tolstring(m->L, -1, &n);
        if (len) *len = n;
        if (n > cap) st = bt_set_error(BT_ERR_ARG, "text stream: %zu bytes do not fit a buffer of %zu", n, cap);
        else if (n) memcpy(buf, text, n);
        lua_pop(m->L, 1);
    }
    bt_mutex_unlock(&m->lock);
    return st;
}

bt_status bt_text_stream_push(bt_text_stream *s, int32_t id, char *buf, size_t cap, size_t *len) {
    return stream_call(s, id, 1, buf, cap, len);
}

bt_status bt_text_stream_flush(bt_text_stream *s, char *buf, size_t cap, size_t *len) {
    return stream_call(s, -1, 0, buf, cap, len);
}

void bt_text_stream_free(bt_text_stream *s) {
    if (!s) return;
    bt_mutex_lock(&s->model->lock);
    luaL_unref(s->model->L, LUA_REGISTRYINDEX, s->ref);
    bt_mutex_unlock(&s->model->lock);
    bt_capi_model_release(s->model);
    free(s);
}
