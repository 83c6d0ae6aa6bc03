/* gguf_write_lua.c - writing GGUF files from Lua (converters, quantize, synthetic models):
 *
 *   core.gguf_write(path, meta, tensors)
 *     meta:    array of { key, type, value }, type one of u32 i32 u64 f32 bool str,
 *              or "[str]", "[f32]", "[i32]", "[u32]", "[u8]" for arrays (value: a Lua array),
 *              or { key, "from", path [, source_key] }: the value of source_key (default: key)
 *              copied, type and all, from the GGUF at path
 *     tensors: array of { name, tensor } (any dtype; CPU, contiguous), written in this order
 */
#include <stdint.h>
#include <string.h>
#include "binding.h"
#include "runtime/gguf_write.h"

#define WRITER "bitttt.gguf_writer"

static int writer_gc(lua_State *L) {
    bt_gguf_writer **w = luaL_checkudata(L, 1, WRITER);
    bt_gguf_writer_free(*w);
    *w = NULL;
    return 0;
}

/* Reads a Lua array of numbers into a new buffer of elements of `size` bytes, converted by `put`. */
static void *number_array(lua_State *L, int idx, size_t size, uint64_t *count,
                          void (*put)(void *dst, lua_Number v)) {
    *count = lua_objlen(L, idx);
    void *buf = lua_newuserdata(L, (size_t)(*count ? *count : 1) * size);   /* freed by the collector */
    for (uint64_t i = 0; i < *count; i++) {
        lua_rawgeti(L, idx, (int)i + 1);
        if (!lua_isnumber(L, -1)) luaL_error(L, "gguf_write: array element %d is not a number", (int)i + 1);
        put((char *)buf + i * size, lua_tonumber(L, -1));
        lua_pop(L, 1);
    }
    return buf;
}
static void put_f32(void *d, lua_Number v) { *(float *)d = (float)v; }
static void put_i32(void *d, lua_Number v) { *(int32_t *)d = (int32_t)v; }
static void put_u32(void *d, lua_Number v) { *(uint32_t *)d = (uint32_t)v; }
static void put_u8(void *d, lua_Number v) { *(uint8_t *)d = (uint8_t)v; }

/* Copies one metadata value (any type, arrays included) from another GGUF file,
 * where it is named source_key. */
static bt_status copy_entry(bt_gguf_writer *w, const char *key, const char *path, const char *source_key) {
    bt_gguf *g;
    bt_status st = bt_gguf_open(&g, path);
    if (st) return st;
    const bt_gguf_kv *kv = bt_gguf_find(g, source_key);
    st = kv ? bt_gguf_writer_add_value(w, key, &kv->value)
            : bt_set_error(BT_ERR_ARG, "gguf_write: %s has no key '%s' to copy", path, source_key);
    bt_gguf_close(g);
    return st;
}

static bt_status add_entry(lua_State *L, bt_gguf_writer *w, const char *key, const char *type, int vi) {
    if (strcmp(type, "from") == 0) return copy_entry(w, key, luaL_checkstring(L, vi), luaL_optstring(L, vi + 1, key));
    if (strcmp(type, "str") == 0) return bt_gguf_writer_add_str(w, key, luaL_checkstring(L, vi));
    if (strcmp(type, "bool") == 0) return bt_gguf_writer_add_bool(w, key, lua_toboolean(L, vi));
    if (strcmp(type, "u32") == 0) return bt_gguf_writer_add_u32(w, key, (uint32_t)bt_lua_check_whole(L, vi, 0, UINT32_MAX));
    if (strcmp(type, "i32") == 0) return bt_gguf_writer_add_i32(w, key, (int32_t)bt_lua_check_whole(L, vi, INT32_MIN, INT32_MAX));
    if (strcmp(type, "u64") == 0) return bt_gguf_writer_add_u64(w, key, (uint64_t)bt_lua_check_whole(L, vi, 0, BT_LUA_WHOLE_MAX));
    if (strcmp(type, "f32") == 0) return bt_gguf_writer_add_f32(w, key, (float)luaL_checknumber(L, vi));
    if (type[0] == '[') {
        luaL_checktype(L, vi, LUA_TTABLE);
        uint64_t n;
        if (strcmp(type, "[str]") == 0) {
            n = lua_objlen(L, vi);
            const char **strs = lua_newuserdata(L, (size_t)(n ? n : 1) * sizeof *strs);
            uint64_t *lens = lua_newuserdata(L, (size_t)(n ? n : 1) * sizeof *lens);
            for (uint64_t i = 0; i < n; i++) {
                lua_rawgeti(L, vi, (int)i + 1);
                size_t len;
                strs[i] = luaL_checklstring(L, -1, &len);   /* kept alive by the meta table */
                lens[i] = len;
                lua_pop(L, 1);
            }
            return bt_gguf_writer_add_str_array(w, key, strs, lens, n);
        }
        static const struct { const char *name; bt_gguf_type t; size_t size; void (*put)(void *, lua_Number); } arrays[] = {
            {"[f32]", BT_GGUF_FLOAT32, 4, put_f32}, {"[i32]", BT_GGUF_INT32, 4, put_i32},
            {"[u32]", BT_GGUF_UINT32, 4, put_u32}, {"[u8]", BT_GGUF_UINT8, 1, put_u8}};
        for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
            if (strcmp(type, arrays[i].name) == 0) {
                void *buf = number_array(L, vi, arrays[i].size, &n, arrays[i].put);
                return bt_gguf_writer_add_array(w, key, arrays[i].t, buf, n);
            }
    }
    return bt_set_error(BT_ERR_ARG, "gguf_write: key '%s': unknown value type '%s'", key, type);
}

static int l_gguf_write(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    bt_gguf_writer **w = lua_newuserdata(L, sizeof *w);
    *w = NULL;
    luaL_getmetatable(L, WRITER);
    lua_setmetatable(L, -2);
    bt_lua_check(L, bt_gguf_writer_new(w));
    int n_meta = (int)lua_objlen(L, 2);
    for (int i = 1; i <= n_meta; i++) {
        int top = lua_gettop(L);
        lua_rawgeti(L, 2, i);
        int e = lua_gettop(L);
        if (!lua_istable(L, e)) luaL_error(L, "gguf_write: meta[%d] must be {key, type, value}", i);
        lua_rawgeti(L, e, 1);
        lua_rawgeti(L, e, 2);
        lua_rawgeti(L, e, 3);
        lua_rawgeti(L, e, 4);
        const char *key = luaL_checkstring(L, e + 1), *type = luaL_checkstring(L, e + 2);
        bt_lua_check(L, add_entry(L, *w, key, type, e + 3));
        lua_settop(L, top);
    }
    int n_tensors = (int)lua_objlen(L, 3);
    for (int i = 1; i <= n_tensors; i++) {
        int top = lua_gettop(L);
        lua_rawgeti(L, 3, i);
        int e = lua_gettop(L);
        if (!lua_istable(L, e)) luaL_error(L, "gguf_write: tensors[%d] must be {name, tensor}", i);
        lua_rawgeti(L, e, 1);
        lua_rawgeti(L, e, 2);
        const char *name = luaL_checkstring(L, e + 1);
        bt_tensor *t = bt_lua_check_tensor(L, e + 2);
        if (!bt_tensor_is_contiguous(t) || bt_tensor_device(t).type != BT_DEVICE_CPU)
            luaL_error(L, "gguf_write: tensor '%s' must be a contiguous CPU tensor", name);
        if (t->dtype == BT_I2_S) luaL_error(L, "gguf_write: tensor '%s': writing I2_S is not supported", name);
        bt_lua_check(L, bt_gguf_writer_add_tensor(*w, name, t->dtype, t->ndim, t->shape, bt_tensor_data(t),
                                                  bt_tensor_nbytes(t)));
        lua_settop(L, top);
    }
    bt_lua_check(L, bt_gguf_writer_write_file(*w, path));
    return 0;
}

void bt_lua_open_gguf_write(lua_State *L) {
    luaL_newmetatable(L, WRITER);
    lua_pushcfunction(L, writer_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_gguf_write);
    lua_setfield(L, -2, "gguf_write");
}
