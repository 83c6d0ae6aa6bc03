/* gguf_lua.c - GGUF metadata and tensor listings for Lua (part of bitttt.core):
 *
 *   core.gguf_meta(path)    -> { [key] = value }   integers and floats as numbers
 *                              (integers above 2^53 lose precision), strings,
 *                              bools, arrays as Lua arrays (nested arrays nested)
 *   core.gguf_tensors(path) -> { {name=, type=, ggml_type=, shape=, offset=, nbytes=}, ... }
 *                              in file order; type is the runtime dtype name ("tq2_0"),
 *                              shape is numpy order, offset is the data's byte offset
 *                              in the file.
 *
 * Each call opens the file, copies what it needs into Lua values and closes it.
 * The open file sits in a userdata with __gc, so a Lua error half-way (out of
 * memory) cannot leak the mapping. Errors raise bt_last_error(). */
#include "binding.h"
#include "runtime/gguf.h"
#include <limits.h>

#define GGUF_HANDLE "bitttt.gguf_handle"


static int handle_gc(lua_State *L) {
    bt_gguf **box = luaL_checkudata(L, 1, GGUF_HANDLE);
    bt_gguf_close(*box);
    *box = NULL;
    return 0;
}

/* Opens path into a handle userdata left on the stack; raises on failure. */
static bt_gguf **open_handle(lua_State *L, const char *path) {
    bt_gguf **box = lua_newuserdata(L, sizeof *box);
    *box = NULL;
    luaL_getmetatable(L, GGUF_HANDLE);
    lua_setmetatable(L, -2);
    bt_lua_check(L, bt_gguf_open(box, path));
    return box;
}

static void push_value(lua_State *L, const bt_gguf_value *v);

static void push_array(lua_State *L, const bt_gguf_value *arr) {
    uint64_t count = arr->v.arr.count;
    if (count > INT_MAX) luaL_error(L, "gguf array of %f elements is too long for a Lua table", (double)count);
    lua_createtable(L, (int)count, 0);
    for (uint64_t i = 0; i < count; i++) {
        bt_gguf_value elem;
        bt_lua_check(L, bt_gguf_array_value(arr, i, &elem));
        push_value(L, &elem);
        lua_rawseti(L, -2, (int)i + 1);
    }
}

static void push_value(lua_State *L, const bt_gguf_value *v) {
    luaL_checkstack(L, 4, "gguf arrays nested too deep");
    switch (v->type) {
    case BT_GGUF_UINT8: case BT_GGUF_UINT16: case BT_GGUF_UINT32: case BT_GGUF_UINT64:
        lua_pushnumber(L, (lua_Number)v->v.u);
        break;
    case BT_GGUF_INT8: case BT_GGUF_INT16: case BT_GGUF_INT32: case BT_GGUF_INT64:
        lua_pushnumber(L, (lua_Number)v->v.i);
        break;
    case BT_GGUF_FLOAT32: case BT_GGUF_FLOAT64: lua_pushnumber(L, v->v.f); break;
    case BT_GGUF_BOOL: lua_pushboolean(L, v->v.u != 0); break;
    case BT_GGUF_STRING: lua_pushlstring(L, v->v.s.ptr, (size_t)v->v.s.len); break;
    case BT_GGUF_ARRAY: push_array(L, v); break;
    }
}

/* gguf_meta(path) -> table key -> value */
static int l_gguf_meta(lua_State *L) {
    bt_gguf **box = open_handle(L, luaL_checkstring(L, 1));
    const bt_gguf *g = *box;
    lua_createtable(L, 0, g->n_kv > INT_MAX ? INT_MAX : (int)g->n_kv);
    for (uint64_t i = 0; i < g->n_kv; i++) {
        lua_pushlstring(L, g->kv[i].key.ptr, (size_t)g->kv[i].key.len);
        push_value(L, &g->kv[i].value);
        lua_rawset(L, -3);
    }
    bt_gguf_close(*box);
    *box = NULL;
    return 1;
}

static void set_number(lua_State *L, const char *field, double v) {
    lua_pushnumber(L, v);
    lua_setfield(L, -2, field);
}

static void push_tensor_info(lua_State *L, const bt_gguf *g, const bt_gguf_tensor_info *t) {
    lua_createtable(L, 0, 6);
    lua_pushlstring(L, t->name.ptr, (size_t)t->name.len);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, bt_dtype_get_info(t->dtype)->name);
    lua_setfield(L, -2, "type");
    set_number(L, "ggml_type", t->ggml_type);
    lua_createtable(L, (int)t->n_dims, 0);
    for (uint32_t j = 0; j < t->n_dims; j++) {   /* numpy order: ggml's ne reversed */
        lua_pushnumber(L, (lua_Number)t->ne[t->n_dims - 1 - j]);
        lua_rawseti(L, -2, (int)j + 1);
    }
    lua_setfield(L, -2, "shape");
    set_number(L, "offset", (double)(g->data_offset + t->offset));
    set_number(L, "nbytes", (double)t->nbytes);
}

/* gguf_tensors(path) -> array of tensor infos in file order */
static int l_gguf_tensors(lua_State *L) {
    bt_gguf **box = open_handle(L, luaL_checkstring(L, 1));
    const bt_gguf *g = *box;
    if (g->n_tensors > INT_MAX) return luaL_error(L, "%s: too many tensors for a Lua table", g->path);
    lua_createtable(L, (int)g->n_tensors, 0);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        push_tensor_info(L, g, &g->tensors[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    bt_gguf_close(*box);
    *box = NULL;
    return 1;
}

void bt_lua_open_gguf(lua_State *L) {
    luaL_newmetatable(L, GGUF_HANDLE);
    lua_pushcfunction(L, handle_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {{"gguf_meta", l_gguf_meta}, {"gguf_tensors", l_gguf_tensors}, {NULL, NULL}};
    bt_lua_set_functions(L, fns);
}
