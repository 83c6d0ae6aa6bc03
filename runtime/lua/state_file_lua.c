/* state_file_lua.c - session state files for Lua:
 *
 *   core.safetensors_save(path, { {name, tensor}, ... } [, { key = "value", ... }])
 *       tensors: contiguous CPU tensors of plain dtypes, written in this order;
 *       metadata: strings to strings
 *   core.safetensors_load(path) -> { name = tensor }, { key = value }, { name, ... }
 *       copies of every tensor (the file is closed before returning), the
 *       __metadata__ map, and the names in file order
 *   core.hash64(prev|nil, string|tensor [, max_bytes]) -> 16 hex digits
 *       64-bit FNV-1a of the bytes (a tensor's first max_bytes bytes when given),
 *       continuing from prev (the hex digits of an earlier hash); for model
 *       fingerprints, not for security
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "binding.h"
#include "state_file_lua.h"
#include "runtime/safetensors.h"
#include "runtime/safetensors_write.h"

#define SAFETENSORS_HANDLE "bitttt.safetensors_handle"

static int l_save(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 3);   /* metadata (or nil) at 3; what this function pushes goes above */
    const size_t n = lua_objlen(L, 2);
    /* entries, shapes and metadata live in userdata blocks the collector frees */
    bt_safetensors_entry *entries = lua_newuserdata(L, (n ? n : 1) * sizeof *entries);
    int64_t(*shapes)[BT_MAX_DIMS] = lua_newuserdata(L, (n ? n : 1) * sizeof *shapes);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 2, (int)i + 1);
        if (!lua_istable(L, -1)) luaL_error(L, "safetensors_save: entry %d must be {name, tensor}", (int)i + 1);
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "safetensors_save: entry %d has no name", (int)i + 1);
        const char *name = lua_tostring(L, -2);   /* kept alive by the entry table */
        bt_tensor *t = bt_lua_check_tensor(L, -1);
        if (!bt_tensor_is_contiguous(t) || bt_tensor_device(t).type != BT_DEVICE_CPU)
            luaL_error(L, "safetensors_save: tensor '%s' must be a contiguous CPU tensor (use :clone())", name);
        for (int d = 0; d < t->ndim; d++) shapes[i][d] = t->shape[d];
        entries[i] = (bt_safetensors_entry){name, t->dtype, t->ndim, shapes[i], bt_tensor_data(t), bt_tensor_nbytes(t)};
        lua_pop(L, 3);
    }
    size_t n_meta = 0;
    bt_safetensors_meta *meta = NULL;
    if (!lua_isnil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        for (lua_pushnil(L); lua_next(L, 3); lua_pop(L, 1)) n_meta++;
        meta = lua_newuserdata(L, (n_meta ? n_meta : 1) * sizeof *meta);
        size_t i = 0;
        for (lua_pushnil(L); lua_next(L, 3); lua_pop(L, 1)) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "safetensors_save: metadata must map strings to strings");
            meta[i++] = (bt_safetensors_meta){lua_tostring(L, -2), lua_tostring(L, -1)};   /* strings in table 3 */
        }
    }
    bt_lua_check(L, bt_safetensors_write_file(path, entries, n, meta, n_meta));
    return 0;
}

static int handle_gc(lua_State *L) {
    bt_safetensors **box = luaL_checkudata(L, 1, SAFETENSORS_HANDLE);
    bt_safetensors_close(*box);
    *box = NULL;
    return 0;
}

static int l_load(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    bt_safetensors **box = lua_newuserdata(L, sizeof *box);
    *box = NULL;
    luaL_getmetatable(L, SAFETENSORS_HANDLE);
    lua_setmetatable(L, -2);
    bt_lua_check(L, bt_safetensors_open(box, path));
    const bt_safetensors *st = *box;
    lua_createtable(L, 0, (int)st->n_tensors);   /* by name */
    lua_createtable(L, 0, (int)st->n_metadata);
    lua_createtable(L, (int)st->n_tensors, 0);   /* names in order */
    for (size_t i = 0; i < st->n_tensors; i++) {
        const bt_safetensors_tensor *e = &st->tensors[i];
        if (!e->has_dtype) luaL_error(L, "%s: tensor '%s' has dtype %s, which the runtime lacks", path, e->name, e->file_dtype);
        if (e->n_dims > BT_MAX_DIMS) luaL_error(L, "%s: tensor '%s' has %d dims, at most %d", path, e->name, e->n_dims, BT_MAX_DIMS);
        bt_tensor *t;
        bt_lua_check(L, bt_tensor_new(&t, e->dtype, e->n_dims, e->shape, BT_CPU));
        memcpy(bt_tensor_data(t), e->data, (size_t)e->nbytes);
        lua_pushstring(L, e->name);
        bt_lua_push_tensor(L, t);
        lua_settable(L, -5);
        lua_pushstring(L, e->name);
        lua_rawseti(L, -2, (int)i + 1);
    }
    for (size_t i = 0; i < st->n_metadata; i++) {
        lua_pushstring(L, st->metadata[i].value);
        lua_setfield(L, -3, st->metadata[i].key);
    }
    bt_safetensors_close(*box);
    *box = NULL;
    return 3;
}

static int l_hash64(lua_State *L) {
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a offset basis */
    if (!lua_isnoneornil(L, 1)) {
        const char *prev = luaL_checkstring(L, 1);
        char *end = NULL;
        h = strtoull(prev, &end, 16);
        if (strlen(prev) != 16 || *end) luaL_error(L, "hash64: '%s' is not a 16-digit hex hash", prev);
    }
    const unsigned char *p;
    size_t n;
    if (lua_type(L, 2) == LUA_TSTRING) {
        p = (const unsigned char *)lua_tolstring(L, 2, &n);
    } else {
        bt_tensor *t = bt_lua_check_tensor(L, 2);
        if (!bt_tensor_is_contiguous(t) || bt_tensor_device(t).type != BT_DEVICE_CPU)
            luaL_error(L, "hash64: needs a contiguous CPU tensor");
        p = bt_tensor_data(t);
        n = bt_tensor_nbytes(t);
        if (!lua_isnoneornil(L, 3)) {
            lua_Number max = luaL_checknumber(L, 3);
            if (max >= 0 && max < (lua_Number)n) n = (size_t)max;
        }
    }
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;   /* FNV prime */
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    lua_pushstring(L, hex);
    return 1;
}

void bt_lua_open_state_file(lua_State *L) {
    luaL_newmetatable(L, SAFETENSORS_HANDLE);
    lua_pushcfunction(L, handle_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        {"safetensors_save", l_save}, {"safetensors_load", l_load}, {"hash64", l_hash64}, {NULL, NULL}};
    bt_lua_set_functions(L, fns);
}
