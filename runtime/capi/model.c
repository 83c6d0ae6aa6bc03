/* model.c - bt_model_*: a model is a private Lua state in which
 * bitttt.capi.load ran lua/bitttt/model.lua's loader; what bt_model_get_info
 * and friends return is copied out once, at load. */
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"
#include "runtime/threads.h"
#include "runtime/version.h"

int bt_api_version(void) { return BT_API_VERSION; }
const char *bt_version_string(void) { return BT_VERSION_STRING; }
bt_status bt_set_threads(int n) { return bt_set_num_threads(n); }

void bt_capi_push_ref(bt_model *m, int ref) { lua_rawgeti(m->L, LUA_REGISTRYINDEX, ref); }

static int int_field(lua_State *L, int t, const char *key) {
    lua_getfield(L, t, key);
    int v = lua_isboolean(L, -1) ? lua_toboolean(L, -1) : (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return v;
}

static char *string_field(lua_State *L, int t, const char *key) {
    lua_getfield(L, t, key);
    const char *v = lua_tostring(L, -1);
    char *copy = strdup(v ? v : "");
    lua_pop(L, 1);
    return copy;
}

/* Copies the info table at the top of the stack (bitttt.capi.load's second result). */
static bt_status read_info(bt_model *m) {
    lua_State *L = m->L;
    const int t = lua_gettop(L);
    bt_model_info *i = &m->info;
    i->n_vocab = int_field(L, t, "n_vocab");
    i->n_embd = int_field(L, t, "n_embd");
    i->n_layer = int_field(L, t, "n_layer");
    i->n_ff = int_field(L, t, "n_ff");
    i->n_ctx_train = int_field(L, t, "n_ctx_train");
    i->has_tokenizer = int_field(L, t, "has_tokenizer");
    i->bos = int_field(L, t, "bos");
    i->eos = int_field(L, t, "eos");
    i->add_bos = int_field(L, t, "add_bos");
    i->n_gpu_layers = int_field(L, t, "n_gpu_layers");
    m->stop_at_bos = int_field(L, t, "stop_at_bos");
    lua_getfield(L, t, "fingerprint");
    snprintf(i->fingerprint, sizeof i->fingerprint, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
    lua_pop(L, 1);
    m->architecture = string_field(L, t, "architecture");
    m->format = string_field(L, t, "format");
    m->mixers = calloc((size_t)i->n_layer + 1, sizeof *m->mixers);
    if (!m->architecture || !m->format || !m->mixers) return bt_set_error(BT_ERR_NOMEM, "model info: out of memory");
    lua_getfield(L, t, "mixers");
    for (int l = 0; l < i->n_layer; l++) {
        lua_rawgeti(L, -1, l + 1);
        m->mixers[l] = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_pop(L, 1);
        if (!m->mixers[l]) return bt_set_error(BT_ERR_NOMEM, "model info: out of memory");
    }
    lua_pop(L, 1);
    i->architecture = m->architecture;
    i->format = m->format;
    return BT_OK;
}

/* The options table for bitttt.capi.load. */
static void push_options(lua_State *L, const bt_model_options *o) {
    lua_newtable(L);
    if (!o) return;
    if (o->tokenizer_path) { lua_pushstring(L, o->tokenizer_path); lua_setfield(L, -2, "tokenizer"); }
    if (o->max_batch > 0) { lua_pushinteger(L, o->max_batch); lua_setfield(L, -2, "max_batch"); }
    lua_pushboolean(L, o->float_activations);
    lua_setfield(L, -2, "float_activations");
    if (o->n_gpu_layers == BT_GPU_LAYERS_AUTO) lua_pushliteral(L, "auto");
    else lua_pushinteger(L, o->n_gpu_layers);
    lua_setfield(L, -2, "n_gpu_layers");
    if (o->n_ctx > 0) { lua_pushinteger(L, o->n_ctx); lua_setfield(L, -2, "n_ctx"); }
    if (o->device) { lua_pushstring(L, o->device); lua_setfield(L, -2, "device"); }
}

bt_status bt_model_load(bt_model **out, const char *path, const bt_model_options *opts) {
    if (!out) return bt_set_error(BT_ERR_ARG, "bt_model_load: out is NULL");
    *out = NULL;
    if (!path) return bt_set_error(BT_ERR_ARG, "bt_model_load: path is NULL");
    if (opts && (opts->max_batch < 0 || (opts->n_gpu_layers < 0 && opts->n_gpu_layers != BT_GPU_LAYERS_AUTO)))
        return bt_set_error(BT_ERR_ARG, "bt_model_load: max_batch must be >= 0 and n_gpu_layers >= 0 or BT_GPU_LAYERS_AUTO");
    bt_model *m = calloc(1, sizeof *m);
    if (!m) return bt_set_error(BT_ERR_NOMEM, "bt_model_load: out of memory");
    m->ref = LUA_NOREF;
    atomic_init(&m->holders, 1);
    /* m->lock: zeroed by calloc, ready */
    bt_status st = bt_capi_state_new(&m->L);
    if (!st) {
        lua_pushstring(m->L, path);
        push_options(m->L, opts);
        st = bt_capi_call(m->L, "load", 2, 2, BT_ERR_FORMAT);
    }
    if (!st) {
        st = read_info(m);
        lua_pop(m->L, 1);
        m->ref = luaL_ref(m->L, LUA_REGISTRYINDEX);
    }
    if (st) { bt_model_free(m); return st; }
    *out = m;
    return BT_OK;
}

void bt_capi_model_hold(bt_model *m) { atomic_fetch_add(&m->holders, 1); }

/* Frees the model once its last holder lets go: a session freed after its model
 * (finalizers run in any order in a garbage-collected host) still finds it. */
static void destroy(bt_model *m) {
    if (m->L) lua_close(m->L);   /* frees every tensor: the weights and the file's mapping go with them */
    bt_mutex_destroy(&m->lock);
    if (m->mixers)
        for (int l = 0; l < m->info.n_layer; l++) free(m->mixers[l]);
    free(m->mixers);
    free(m->architecture);
    free(m->format);
    free(m);
}

void bt_capi_model_release(bt_model *m) {
    if (atomic_fetch_sub(&m->holders, 1) == 1) destroy(m);
}

void bt_model_free(bt_model *m) {
    if (m) bt_capi_model_release(m);
}

bt_status bt_model_get_info(const bt_model *m, bt_model_info *out) {
    if (!m || !out) return bt_set_error(BT_ERR_ARG, "bt_model_get_info: model and out are required");
    *out = m->info;
    return BT_OK;
}

const char *bt_model_layer_mixer(const bt_model *m, int layer) {
    if (!m || layer < 0 || layer >= m->info.n_layer) return NULL;
    return m->mixers[layer];
}

int bt_token_is_end(const bt_model *m, int32_t id) {
    if (!m || id < 0) return 0;
    return id == m->info.eos || (m->stop_at_bos && id == m->info.bos);
}

/* Copies text into buf (NUL-terminated, cut to cap - 1); *len gets the full length. */
void bt_capi_put_text(char *buf, size_t cap, size_t *len, const char *text, size_t n) {
    if (len) *len = n;
    if (!buf || !cap) return;
    size_t k = n < cap - 1 ? n : cap - 1;
    if (k) memcpy(buf, text, k);
    buf[k] = 0;
}

bt_status bt_model_meta(const bt_model *cm, const char *key, char *buf, size_t cap, size_t *len) {
    if (!cm || !key) return bt_set_error(BT_ERR_ARG, "bt_model_meta: model and key are required");
    if (!buf && cap) return bt_set_error(BT_ERR_ARG, "bt_model_meta: buf is NULL with cap %zu", cap);
    bt_model *m = (bt_model *)cm;   /* const to the caller: the lock and the Lua stack change, not the model */
    bt_mutex_lock(&m->lock);
    bt_capi_push_ref(m, m->ref);
    lua_pushstring(m->L, key);
    bt_status st = bt_capi_call(m->L, "meta", 2, 1, BT_ERR_ARG);
    if (!st) {
        size_t n;
        const char *text = lua_tolstring(m->L, -1, &n);
        bt_capi_put_text(buf, cap, len, text ? text : "", text ? n : 0);
        lua_pop(m->L, 1);
    }
    bt_mutex_unlock(&m->lock);
    return st;
}

static const char *sampling_names[] = {"temp", "top_k", "top_p", "min_p", "repeat_penalty", "repeat_last_n",
                                       "frequency_penalty", "presence_penalty"};

/* The numeric fields of bt_sampling, in sampling_names order. */
static void sampling_set(bt_sampling *s, int i, double v) {
    switch (i) {
    case 0: s->temp = v; break;
    case 1: s->top_k = (int)v; break;
    case 2: s->top_p = v; break;
    case 3: s->min_p = v; break;
    case 4: s->repeat_penalty = v; break;
    case 5: s->repeat_last_n = (int)v; break;
    case 6: s->frequency_penalty = v; break;
    case 7: s->presence_penalty = v; break;
    }
}

static double sampling_get(const bt_sampling *s, int i) {
    const double v[] = {s->temp, s->top_k, s->top_p, s->min_p, s->repeat_penalty, s->repeat_last_n,
                        s->frequency_penalty, s->presence_penalty};
    return v[i];
}

void bt_capi_push_sampling(lua_State *L, const bt_sampling *s) {
    lua_newtable(L);
    for (int i = 0; i < 8; i++) {
        lua_pushnumber(L, sampling_get(s, i));
        lua_setfield(L, -2, sampling_names[i]);
    }
    if (s->seed != BT_SEED_RANDOM) {   /* exact below 2^53: Lua numbers are doubles */
        lua_pushnumber(L, (lua_Number)s->seed);
        lua_setfield(L, -2, "seed");
    }
}

bt_sampling bt_sampling_defaults(void) {
    return (bt_sampling){.temp = 0.8, .top_k = 40, .top_p = 0.95, .min_p = 0.05, .repeat_penalty = 1.0,
                         .repeat_last_n = 64, .seed = BT_SEED_RANDOM};
}

bt_status bt_model_sampling(const bt_model *cm, bt_sampling *out) {
    if (!cm || !out) return bt_set_error(BT_ERR_ARG, "bt_model_sampling: model and out are required");
    bt_model *m = (bt_model *)cm;
    bt_mutex_lock(&m->lock);
    bt_capi_push_ref(m, m->ref);
    bt_status st = bt_capi_call(m->L, "sampling", 1, 1, BT_ERR_FORMAT);
    if (!st) {
        bt_sampling s = bt_sampling_defaults();
        for (int i = 0; i < 8; i++) {
            lua_getfield(m->L, -1, sampling_names[i]);
            if (lua_isnumber(m->L, -1)) sampling_set(&s, i, lua_tonumber(m->L, -1));
            lua_pop(m->L, 1);
        }
        lua_pop(m->L, 1);
        *out = s;
    }
    bt_mutex_unlock(&m->lock);
    return st;
}
