/* model_lua.c - model files as Lua userdata ("bitttt.model_file"):
 *   local f = core.model_open(path)
 *   f:format() -> "gguf" | "llama2c" | "safetensors";  f:tensor(name) -> read-only tensor over the file
 *   f:has_tensor(name), f:tensor_names(), f:llama2c_config() (llama2.c only),
 *   f:config() (safetensors: config.json as a table, or nil), f:close()
 * GGUF metadata comes from core.gguf_meta(path) (gguf_lua.c). */
#include "binding.h"
#include "runtime/model_file.h"

#define MODEL_FILE "bitttt.model_file"

typedef struct { bt_model_file *mf; } model_box;

static bt_model_file *check_file(lua_State *L, int idx) {
    model_box *b = luaL_checkudata(L, idx, MODEL_FILE);
    if (!b->mf) luaL_error(L, "model file was closed");
    return b->mf;
}

static int l_model_open(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    model_box *b = lua_newuserdata(L, sizeof *b);
    b->mf = NULL;
    luaL_getmetatable(L, MODEL_FILE);
    lua_setmetatable(L, -2);
    bt_lua_check(L, bt_model_file_open(&b->mf, path));
    return 1;
}

static int l_format(lua_State *L) {
    static const char *names[] = {[BT_MODEL_GGUF] = "gguf", [BT_MODEL_LLAMA2C] = "llama2c",
                                  [BT_MODEL_SAFETENSORS] = "safetensors"};
    lua_pushstring(L, names[bt_model_file_format(check_file(L, 1))]);
    return 1;
}

/* JSON -> Lua: objects and arrays become tables, null becomes nil. */
static void push_json(lua_State *L, const bt_json *j, int depth) {
    luaL_checkstack(L, 4, "JSON nested too deeply");
    switch (j->type) {
    case BT_JSON_NULL: lua_pushnil(L); break;
    case BT_JSON_BOOL: lua_pushboolean(L, j->boolean); break;
    case BT_JSON_NUMBER: lua_pushnumber(L, j->number); break;
    case BT_JSON_STRING: lua_pushlstring(L, j->string, j->length); break;
    case BT_JSON_ARRAY:
    case BT_JSON_OBJECT:
        lua_createtable(L, j->type == BT_JSON_ARRAY ? (int)j->count : 0, j->type == BT_JSON_OBJECT ? (int)j->count : 0);
        for (size_t i = 0; i < j->count; i++) {
            push_json(L, &j->items[i], depth + 1);
            if (j->type == BT_JSON_ARRAY) lua_rawseti(L, -2, (int)i + 1);
            else lua_setfield(L, -2, j->items[i].key);
        }
        break;
    }
}

/* f:config() -> config.json beside a safetensors model as a table, or nil */
static int l_config(lua_State *L) {
    const bt_json *cfg = bt_model_file_config(check_file(L, 1));
    if (!cfg) return 0;
    push_json(L, cfg, 0);
    return 1;
}

static int l_path(lua_State *L) { lua_pushstring(L, bt_model_file_path(check_file(L, 1))); return 1; }

static int l_tensor(lua_State *L) {
    bt_model_file *mf = check_file(L, 1);
    bt_tensor *t;
    bt_lua_check(L, bt_model_file_tensor(&t, mf, luaL_checkstring(L, 2)));
    bt_lua_push_tensor(L, t);
    return 1;
}

static int l_has_tensor(lua_State *L) {
    lua_pushboolean(L, bt_model_file_has_tensor(check_file(L, 1), luaL_checkstring(L, 2)));
    return 1;
}

static int l_tensor_names(lua_State *L) {
    bt_model_file *mf = check_file(L, 1);
    int64_t n = bt_model_file_tensor_count(mf);
    lua_createtable(L, (int)n, 0);
    char buf[512];
    for (int64_t i = 0; i < n; i++) {
        lua_pushstring(L, bt_model_file_tensor_name(mf, i, buf, sizeof buf));
        lua_rawseti(L, -2, (int)i + 1);
    }
    return 1;
}

static int l_llama2c_config(lua_State *L) {
    const bt_llama2c *m = bt_model_file_llama2c(check_file(L, 1));
    if (!m) luaL_error(L, "llama2c_config: not a llama2.c checkpoint");
    const bt_llama2c_config *c = &m->config;
    lua_newtable(L);
    const struct { const char *k; int v; } fields[] = {
        {"dim", c->dim}, {"hidden_dim", c->hidden_dim}, {"n_layers", c->n_layers}, {"n_heads", c->n_heads},
        {"n_kv_heads", c->n_kv_heads}, {"vocab_size", c->vocab_size}, {"seq_len", c->seq_len}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        lua_pushinteger(L, fields[i].v);
        lua_setfield(L, -2, fields[i].k);
    }
    lua_pushboolean(L, c->shared_classifier);
    lua_setfield(L, -2, "shared_classifier");
    return 1;
}

static int l_close(lua_State *L) {
    model_box *b = luaL_checkudata(L, 1, MODEL_FILE);
    bt_model_file_close(b->mf);   /* tensors handed out keep the mapping alive */
    b->mf = NULL;
    return 0;
}

void bt_lua_open_model(lua_State *L) {
    static const luaL_Reg methods[] = {{"format", l_format}, {"path", l_path}, {"tensor", l_tensor},
                                       {"has_tensor", l_has_tensor}, {"tensor_names", l_tensor_names},
                                       {"llama2c_config", l_llama2c_config}, {"config", l_config}, {"close", l_close}, {NULL, NULL}};
    luaL_newmetatable(L, MODEL_FILE);
    lua_newtable(L);
    bt_lua_set_functions(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_model_open);
    lua_setfield(L, -2, "model_open");
}
