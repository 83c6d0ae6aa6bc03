/* tensor_lua.c - tensors as Lua userdata (metatable "bitttt.tensor").
 *
 * Lua conventions (Torch7's): dims and indices are 1-based; t[i] of a 2-d+
 * tensor is a view of row i, of a 1-d tensor the number; t[{i, j}] is one
 * element. Methods live in the metatable's `methods` table, which the Lua
 * package (lua/bitttt/init.lua) extends.
 */
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "binding.h"

typedef struct { bt_tensor *t; } tensor_box;

/* ---- the collector nudge ----------------------------------------------- */
/* Lua's GC cannot see C memory: when tensor bytes have grown by 64 MiB (and by
 * half again) since the last nudge, run a full collection (Torch7's heap tracking). */
/* Process-wide (the C API runs several Lua states on several threads): relaxed atomics. */
static _Atomic size_t collect_mark = 64u << 20;

static void nudge_collector(lua_State *L) {
    size_t now = bt_tensor_bytes_allocated();
    if (now < atomic_load_explicit(&collect_mark, memory_order_relaxed)) return;
    lua_gc(L, LUA_GCCOLLECT, 0);
    now = bt_tensor_bytes_allocated();
    atomic_store_explicit(&collect_mark, now + now / 2 > (64u << 20) ? now + now / 2 : (64u << 20),
                          memory_order_relaxed);
}

/* ---- helpers ----------------------------------------------------------- */

void bt_lua_check(lua_State *L, bt_status st) {
    if (st != BT_OK) luaL_error(L, "%s", bt_last_error());
}

int64_t bt_lua_whole(lua_State *L, lua_Number x, int64_t lo, int64_t hi, const char *what) {
    if (!(x >= (lua_Number)lo && x <= (lua_Number)hi) || x != floor(x)) {   /* NaN fails the first test */
        char msg[160];   /* lua_pushfstring knows neither %g nor %lld */
        snprintf(msg, sizeof msg, "%s: expected a whole number from %lld to %lld, got %.17g", what, (long long)lo,
                 (long long)hi, (double)x);
        luaL_error(L, "%s", msg);
    }
    return (int64_t)x;
}

int64_t bt_lua_check_whole(lua_State *L, int idx, int64_t lo, int64_t hi) {
    char what[32];
    snprintf(what, sizeof what, "bad argument #%d", idx);
    return bt_lua_whole(L, luaL_checknumber(L, idx), lo, hi, what);
}

int bt_lua_check_int(lua_State *L, int idx) { return (int)bt_lua_check_whole(L, idx, INT_MIN, INT_MAX); }
int64_t bt_lua_check_int64(lua_State *L, int idx) { return bt_lua_check_whole(L, idx, -BT_LUA_WHOLE_MAX, BT_LUA_WHOLE_MAX); }

void bt_lua_set_functions(lua_State *L, const luaL_Reg *fns) {
    for (; fns->name; fns++) {
        lua_pushcfunction(L, fns->func);
        lua_setfield(L, -2, fns->name);
    }
}

bt_tensor *bt_lua_opt_tensor(lua_State *L, int idx) {
    if (lua_isnoneornil(L, idx)) return NULL;
    return bt_lua_check_tensor(L, idx);
}

bt_tensor *bt_lua_check_tensor(lua_State *L, int idx) {
    tensor_box *b = luaL_checkudata(L, idx, BT_LUA_TENSOR);
    if (!b->t) luaL_error(L, "bad argument #%d: tensor was freed", idx);
    return b->t;
}

bt_tensor *bt_lua_to_tensor(lua_State *L, int idx) {
    tensor_box *b = lua_touserdata(L, idx);
    if (!b || !lua_getmetatable(L, idx)) return NULL;
    luaL_getmetatable(L, BT_LUA_TENSOR);
    int is_tensor = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return is_tensor ? b->t : NULL;
}

void bt_lua_push_tensor(lua_State *L, bt_tensor *t) {
    tensor_box *b = lua_newuserdata(L, sizeof *b);
    b->t = t;
    luaL_getmetatable(L, BT_LUA_TENSOR);
    lua_setmetatable(L, -2);
    nudge_collector(L);
}

static bt_dtype check_dtype(lua_State *L, int idx, bt_dtype def) {
    if (lua_isnoneornil(L, idx)) return def;
    const char *name = luaL_checkstring(L, idx);
    bt_dtype d;
    if (!bt_dtype_from_name(name, &d)) luaL_error(L, "unknown dtype '%s'", name);
    return d;
}

static bt_device check_device(lua_State *L, int idx) {
    if (lua_isnoneornil(L, idx)) return BT_CPU;
    bt_device d;
    bt_lua_check(L, bt_device_parse(luaL_checkstring(L, idx), &d));
    return d;
}

/* A shape from a Lua array {d1, d2, ...}; returns ndim. `fn` names the function in errors. */
static int check_shape(lua_State *L, int idx, int64_t *shape, const char *fn) {
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: the shape must be a table of sizes such as {3, 4}, got %s", fn, luaL_typename(L, idx));
    int n = (int)lua_objlen(L, idx);
    if (n > BT_MAX_DIMS) luaL_error(L, "shape has %d dims, at most %d are supported", n, BT_MAX_DIMS);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, idx, i + 1);
        if (!lua_isnumber(L, -1)) luaL_error(L, "shape[%d] is not a number", i + 1);
        shape[i] = bt_lua_whole(L, lua_tonumber(L, -1), -BT_LUA_WHOLE_MAX, BT_LUA_WHOLE_MAX, "shape");
        lua_pop(L, 1);
    }
    return n;
}

/* 1-based Lua dim/index -> 0-based, with range errors. */
static int check_dim(lua_State *L, const bt_tensor *t, int idx) {
    int d = bt_lua_check_int(L, idx);
    if (d < 1 || d > t->ndim) luaL_error(L, "dim %d out of range 1..%d", d, t->ndim);
    return d - 1;
}

/* A 0-based position i along 0-based dim d, checked with the 1-based API's numbers;
 * `fn` (or NULL) prefixes the message. */
static void check_in_dim(lua_State *L, const bt_tensor *t, int d, int64_t i, const char *fn) {
    if (i < 0 || i >= t->shape[d])
        luaL_error(L, "%s%sindex %f out of range 1..%f for dim %d", fn ? fn : "", fn ? ": " : "", (double)(i + 1),
                   (double)t->shape[d], d + 1);
}

/* ---- constructors -------------------------------------------------------- */

/* empty(shape, dtype="f32", device="cpu") -> zero-filled tensor */
static int l_empty(lua_State *L) {
    int64_t shape[BT_MAX_DIMS];
    int n = check_shape(L, 1, shape, "empty");
    bt_tensor *t;
    bt_lua_check(L, bt_tensor_new(&t, check_dtype(L, 2, BT_F32), n, shape, check_device(L, 3)));
    bt_lua_push_tensor(L, t);
    return 1;
}

/* Nested Lua arrays: shape from the first element at each level, then values. */
static int table_shape(lua_State *L, int idx, int64_t *shape) {
    int n = 0;
    lua_pushvalue(L, idx);
    while (lua_istable(L, -1)) {
        if (n == BT_MAX_DIMS) luaL_error(L, "nested table deeper than %d levels", BT_MAX_DIMS);
        shape[n++] = (int64_t)lua_objlen(L, -1);
        lua_rawgeti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
    return n;
}

static void fill_from_table(lua_State *L, bt_tensor *t, int dim, int64_t *idx) {
    if ((int64_t)lua_objlen(L, -1) != t->shape[dim])
        luaL_error(L, "ragged table: dim %d has %d entries where %d were expected", dim + 1, (int)lua_objlen(L, -1), (int)t->shape[dim]);
    for (int64_t i = 0; i < t->shape[dim]; i++) {
        idx[dim] = i;
        lua_rawgeti(L, -1, (int)i + 1);
        if (dim + 1 < t->ndim && dim + 1 < BT_MAX_DIMS) {
            if (!lua_istable(L, -1)) luaL_error(L, "ragged table: expected a table at depth %d", dim + 2);
            fill_from_table(L, t, dim + 1, idx);
        } else {
            if (!lua_isnumber(L, -1)) luaL_error(L, "table element is not a number");
            bt_tensor_set(t, idx, lua_tonumber(L, -1));
        }
        lua_pop(L, 1);
    }
}

/* from_table(tbl, dtype="f32") -> tensor with the table's nested shape */
static int l_from_table(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    bt_dtype dtype = check_dtype(L, 2, BT_F32);
    int64_t shape[BT_MAX_DIMS], idx[BT_MAX_DIMS];
    int n = table_shape(L, 1, shape);
    bt_tensor *t;
    bt_lua_check(L, bt_tensor_new(&t, dtype, n, shape, BT_CPU));
    bt_lua_push_tensor(L, t);   /* owned by Lua from here, so errors below don't leak it */
    lua_pushvalue(L, 1);
    if (n > 0) fill_from_table(L, t, 0, idx);
    lua_pop(L, 1);
    return 1;
}

/* ---- methods ------------------------------------------------------------- */

static int l_shape(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    lua_createtable(L, t->ndim, 0);
    for (int i = 0; i < t->ndim; i++) { lua_pushnumber(L, (lua_Number)t->shape[i]); lua_rawseti(L, -2, i + 1); }
    return 1;
}

/* strides in elements (plain dtypes) as Torch7 reports them */
static int l_stride(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    const bt_dtype_info *info = bt_dtype_get_info(t->dtype);
    if (info->block_size > 1) luaL_error(L, "stride: %s tensors have no element strides", info->name);
    lua_createtable(L, t->ndim, 0);
    for (int i = 0; i < t->ndim; i++) { lua_pushnumber(L, (lua_Number)(t->stride[i] / info->block_bytes)); lua_rawseti(L, -2, i + 1); }
    return 1;
}

static int l_size(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    if (lua_isnoneornil(L, 2)) return l_shape(L);
    lua_pushnumber(L, (lua_Number)t->shape[check_dim(L, t, 2)]);
    return 1;
}

static int l_dim(lua_State *L) { lua_pushinteger(L, bt_lua_check_tensor(L, 1)->ndim); return 1; }
static int l_numel(lua_State *L) { lua_pushnumber(L, (lua_Number)bt_tensor_numel(bt_lua_check_tensor(L, 1))); return 1; }
static int l_nbytes(lua_State *L) { lua_pushnumber(L, (lua_Number)bt_tensor_nbytes(bt_lua_check_tensor(L, 1))); return 1; }
static int l_dtype(lua_State *L) { lua_pushstring(L, bt_dtype_get_info(bt_lua_check_tensor(L, 1)->dtype)->name); return 1; }
static int l_is_contiguous(lua_State *L) { lua_pushboolean(L, bt_tensor_is_contiguous(bt_lua_check_tensor(L, 1))); return 1; }

static int l_device(lua_State *L) {
    char buf[32];
    lua_pushstring(L, bt_device_name(bt_tensor_device(bt_lua_check_tensor(L, 1)), buf, sizeof buf));
    return 1;
}

/* Reads 1-based indices from args [first, top] or from a table at `first`. */
static void check_index(lua_State *L, const bt_tensor *t, int first, int64_t *idx) {
    int n;
    if (lua_istable(L, first)) {
        n = (int)lua_objlen(L, first);
        if (n != t->ndim) luaL_error(L, "index has %d entries, the tensor has %d dims", n, t->ndim);
        for (int i = 0; i < n; i++) {
            lua_rawgeti(L, first, i + 1);
            idx[i] = bt_lua_whole(L, luaL_checknumber(L, -1), -BT_LUA_WHOLE_MAX, BT_LUA_WHOLE_MAX, "index") - 1;
            lua_pop(L, 1);
        }
    } else {
        n = lua_gettop(L) - first + 1;
        if (n != t->ndim) luaL_error(L, "got %d indices, the tensor has %d dims", n, t->ndim);
        for (int i = 0; i < n; i++) idx[i] = bt_lua_check_int64(L, first + i) - 1;
    }
    for (int i = 0; i < n; i++) check_in_dim(L, t, i, idx[i], NULL);
}

/* t:get(i, j, ...) or t:get{i, j} */
static int l_get(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    int64_t idx[BT_MAX_DIMS];
    check_index(L, t, 2, idx);
    double v;
    bt_lua_check(L, bt_tensor_get(t, idx, &v));
    lua_pushnumber(L, v);
    return 1;
}

/* t:set(i, j, ..., value) or t:set({i, j}, value) */
static int l_set(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    int top = lua_gettop(L);
    double v = luaL_checknumber(L, top);
    lua_settop(L, top - 1);
    int64_t idx[BT_MAX_DIMS];
    check_index(L, t, 2, idx);
    bt_lua_check(L, bt_tensor_set(t, idx, v));
    lua_pushvalue(L, 1);
    return 1;
}

static int l_fill(lua_State *L) {
    bt_lua_check(L, bt_tensor_fill(bt_lua_check_tensor(L, 1), luaL_checknumber(L, 2)));
    lua_settop(L, 1);
    return 1;
}

/* dst:copy(src): same shape; converts dtypes; any devices */
static int l_copy(lua_State *L) {
    bt_lua_check(L, bt_tensor_copy(bt_lua_check_tensor(L, 1), bt_lua_check_tensor(L, 2)));
    lua_settop(L, 1);
    return 1;
}

/* t:to(dtype_or_device [, device]) -> new tensor: t:to("f16"), t:to("cuda:0"), t:to("f16", "cpu") */
static int l_to(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    bt_dtype dtype = t->dtype;
    bt_device device = bt_tensor_device(t);
    for (int i = 2; i <= 3 && !lua_isnoneornil(L, i); i++) {
        const char *s = luaL_checkstring(L, i);
        if (!bt_dtype_from_name(s, &dtype)) bt_lua_check(L, bt_device_parse(s, &device));
    }
    bt_tensor *out;
    bt_lua_check(L, bt_tensor_to(&out, t, dtype, device));
    bt_lua_push_tensor(L, out);
    return 1;
}

static int l_clone(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1), *out;
    bt_lua_check(L, bt_tensor_to(&out, t, t->dtype, bt_tensor_device(t)));
    bt_lua_push_tensor(L, out);
    return 1;
}

/* t:reshape(d1, d2, ...) or t:reshape{d1, d2}; one size may be -1 */
static int l_reshape(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1), *out;
    int64_t shape[BT_MAX_DIMS];
    int n;
    if (lua_istable(L, 2)) n = check_shape(L, 2, shape, "reshape");
    else {
        n = lua_gettop(L) - 1;
        if (n > BT_MAX_DIMS) luaL_error(L, "reshape: at most %d dims", BT_MAX_DIMS);
        for (int i = 0; i < n; i++) shape[i] = bt_lua_check_int64(L, i + 2);
    }
    bt_lua_check(L, bt_tensor_reshape(&out, t, n, shape));
    bt_lua_push_tensor(L, out);
    return 1;
}

/* t:narrow(dim, start, len), 1-based dim and start */
static int l_narrow(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1), *out;
    int d = check_dim(L, t, 2);
    int64_t start = bt_lua_check_int64(L, 3), len = bt_lua_check_int64(L, 4);
    if (start < 1 || len < 0 || start - 1 + len > t->shape[d])
        luaL_error(L, "narrow: elements %f..%f out of range 1..%f of dim %d", (double)start, (double)(start + len - 1),
                   (double)t->shape[d], d + 1);
    bt_lua_check(L, bt_tensor_narrow(&out, t, d, start - 1, len));
    bt_lua_push_tensor(L, out);
    return 1;
}

/* t:select(dim, index), 1-based */
static int l_select(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1), *out;
    int d = check_dim(L, t, 2);
    int64_t i = bt_lua_check_int64(L, 3) - 1;
    check_in_dim(L, t, d, i, "select");
    bt_lua_check(L, bt_tensor_select(&out, t, d, i));
    bt_lua_push_tensor(L, out);
    return 1;
}

static int l_transpose(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1), *out;
    int a = check_dim(L, t, 2), b = check_dim(L, t, 3);
    bt_lua_check(L, bt_tensor_transpose(&out, t, a, b));
    bt_lua_push_tensor(L, out);
    return 1;
}

static void push_values(lua_State *L, const bt_tensor *t, int dim, int64_t *idx) {
    lua_createtable(L, (int)t->shape[dim], 0);
    for (int64_t i = 0; i < t->shape[dim]; i++) {
        idx[dim] = i;
        if (dim + 1 < t->ndim && dim + 1 < BT_MAX_DIMS) push_values(L, t, dim + 1, idx);
        else {
            double v;
            bt_tensor_get(t, idx, &v);
            lua_pushnumber(L, v);
        }
        lua_rawseti(L, -2, (int)i + 1);
    }
}

/* t:totable() -> nested Lua arrays (a number for a 0-d tensor) */
static int l_totable(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1), *cpu = NULL;
    if (bt_dtype_get_info(t->dtype)->block_size > 1)
        luaL_error(L, "totable: %s tensors hold packed blocks; dequantize first", bt_dtype_get_info(t->dtype)->name);
    if (bt_tensor_device(t).type != BT_DEVICE_CPU) {
        bt_lua_check(L, bt_tensor_to(&cpu, t, t->dtype, BT_CPU));
        bt_lua_push_tensor(L, cpu);   /* collected if anything below raises */
        t = cpu;
    }
    int64_t idx[BT_MAX_DIMS];
    if (t->ndim == 0) {
        double v;
        bt_tensor_get(t, idx, &v);
        lua_pushnumber(L, v);
    } else {
        push_values(L, t, 0, idx);
    }
    return 1;
}

/* t:data_ptr() -> light userdata of the first element (CPU only); init.lua casts it with the FFI */
static int l_data_ptr(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    if (bt_tensor_device(t).type != BT_DEVICE_CPU) luaL_error(L, "ptr: tensor lives on a device");
    lua_pushlightuserdata(L, bt_tensor_data(t));
    return 1;
}

/* splitmix64, then Box-Muller: a fast seeded normal stream for synthetic weights */
static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* t:normal_(seed, std [, mean]) fills a contiguous CPU tensor with N(mean, std^2) values (in place) */
static int l_normal(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    uint64_t seed = (uint64_t)bt_lua_check_whole(L, 2, 0, BT_LUA_WHOLE_MAX);
    double std = luaL_checknumber(L, 3), mean = luaL_optnumber(L, 4, 0);
    if (!bt_tensor_is_contiguous(t) || bt_tensor_device(t).type != BT_DEVICE_CPU || t->storage->read_only ||
        (t->dtype != BT_F32 && t->dtype != BT_F16 && t->dtype != BT_BF16))
        luaL_error(L, "normal_: needs a writable contiguous f32/f16/bf16 CPU tensor");
    int64_t n = bt_tensor_numel(t);
    char *p = bt_tensor_data(t);
    for (int64_t i = 0; i < n; i++) {
        double u1 = ((double)(splitmix(&seed) >> 11) + 1.0) / 9007199254740993.0;   /* (0, 1] */
        double u2 = (double)(splitmix(&seed) >> 11) / 9007199254740992.0;
        float v = (float)(mean + std * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
        if (t->dtype == BT_F32) ((float *)p)[i] = v;
        else if (t->dtype == BT_F16) ((uint16_t *)p)[i] = bt_f32_to_f16(v);
        else ((uint16_t *)p)[i] = bt_f32_to_bf16(v);
    }
    lua_settop(L, 1);
    return 1;
}

/* t:tobytes() -> the raw bytes of a contiguous CPU tensor (little-endian elements) */
static int l_tobytes(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    if (!bt_tensor_is_contiguous(t) || bt_tensor_device(t).type != BT_DEVICE_CPU)
        luaL_error(L, "tobytes: needs a contiguous CPU tensor (use :clone() or :to('cpu'))");
    lua_pushlstring(L, bt_tensor_data(t), bt_tensor_nbytes(t));
    return 1;
}

/* from_bytes(str, dtype, shape) -> a new tensor holding a copy of the bytes */
static int l_from_bytes(lua_State *L) {
    size_t len;
    const char *bytes = luaL_checklstring(L, 1, &len);
    int64_t shape[BT_MAX_DIMS];
    int n = check_shape(L, 3, shape, "from_bytes");
    bt_tensor *t;
    bt_lua_check(L, bt_tensor_new(&t, check_dtype(L, 2, BT_F32), n, shape, BT_CPU));
    bt_lua_push_tensor(L, t);
    if (bt_tensor_nbytes(t) != len)
        luaL_error(L, "from_bytes: %d bytes given, the tensor needs %d", (int)len, (int)bt_tensor_nbytes(t));
    memcpy(bt_tensor_data(t), bytes, len);
    return 1;
}

static int l_free(lua_State *L) {
    tensor_box *b = luaL_checkudata(L, 1, BT_LUA_TENSOR);
    bt_tensor_free(b->t);
    b->t = NULL;
    return 0;
}

static int l_tostring(lua_State *L) {
    tensor_box *b = luaL_checkudata(L, 1, BT_LUA_TENSOR);
    if (!b->t) { lua_pushstring(L, "tensor (freed)"); return 1; }
    char *s = bt_tensor_format(b->t, 3);
    if (!s) luaL_error(L, "out of memory formatting a tensor");
    lua_pushstring(L, s);
    free(s);
    return 1;
}

static int l_len(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    lua_pushnumber(L, t->ndim ? (lua_Number)t->shape[0] : 0);
    return 1;
}

/* __index: methods by name, t[i] (row view or element), t[{i, j}] (element) */
static int l_index(lua_State *L) {
    if (lua_type(L, 2) == LUA_TSTRING) {
        luaL_getmetatable(L, BT_LUA_TENSOR);
        lua_getfield(L, -1, "methods");
        lua_pushvalue(L, 2);
        lua_rawget(L, -2);
        return 1;
    }
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    if (lua_istable(L, 2)) { lua_settop(L, 2); return l_get(L); }
    int64_t i = bt_lua_check_int64(L, 2) - 1;
    if (t->ndim == 0) luaL_error(L, "cannot index a 0-d tensor");
    check_in_dim(L, t, 0, i, NULL);
    if (t->ndim == 1) {
        double v;
        bt_lua_check(L, bt_tensor_get(t, &i, &v));
        lua_pushnumber(L, v);
        return 1;
    }
    bt_tensor *row;
    bt_lua_check(L, bt_tensor_select(&row, t, 0, i));
    bt_lua_push_tensor(L, row);
    return 1;
}

/* __newindex: t[i] = number (1-d element, or fill of row i), t[i] = tensor (copy into row i), t[{i, j}] = number */
static int l_newindex(lua_State *L) {
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    if (lua_istable(L, 2)) {
        int64_t idx[BT_MAX_DIMS];
        double v = luaL_checknumber(L, 3);
        lua_settop(L, 2);
        check_index(L, t, 2, idx);
        bt_lua_check(L, bt_tensor_set(t, idx, v));
        return 0;
    }
    int64_t i = bt_lua_check_int64(L, 2) - 1;
    if (t->ndim == 0) luaL_error(L, "cannot index a 0-d tensor");
    check_in_dim(L, t, 0, i, NULL);
    if (t->ndim == 1) { bt_lua_check(L, bt_tensor_set(t, &i, luaL_checknumber(L, 3))); return 0; }
    bt_tensor *row;
    bt_lua_check(L, bt_tensor_select(&row, t, 0, i));
    bt_status st = lua_isnumber(L, 3) ? bt_tensor_fill(row, lua_tonumber(L, 3))
                                      : bt_tensor_copy(row, bt_lua_check_tensor(L, 3));
    bt_tensor_free(row);
    bt_lua_check(L, st);
    return 0;
}

static const luaL_Reg methods[] = {
    {"shape", l_shape}, {"size", l_size}, {"stride", l_stride}, {"dim", l_dim}, {"numel", l_numel},
    {"nbytes", l_nbytes}, {"dtype", l_dtype}, {"device", l_device}, {"is_contiguous", l_is_contiguous},
    {"get", l_get}, {"set", l_set}, {"fill", l_fill}, {"copy", l_copy}, {"to", l_to}, {"clone", l_clone},
    {"reshape", l_reshape}, {"view", l_reshape}, {"narrow", l_narrow}, {"select", l_select},
    {"transpose", l_transpose}, {"totable", l_totable}, {"data_ptr", l_data_ptr}, {"tobytes", l_tobytes}, {"normal_", l_normal}, {"free", l_free},
    {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__index", l_index}, {"__newindex", l_newindex}, {"__tostring", l_tostring},
    {"__len", l_len}, {"__gc", l_free}, {NULL, NULL}};

static int l_bytes_allocated(lua_State *L) { lua_pushnumber(L, (lua_Number)bt_tensor_bytes_allocated()); return 1; }
static int l_is_tensor(lua_State *L) {
    int is = 0;
    if (lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, BT_LUA_TENSOR);
        is = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    lua_pushboolean(L, is);
    return 1;
}

void bt_lua_open_tensor(lua_State *L) {
    luaL_newmetatable(L, BT_LUA_TENSOR);
    bt_lua_set_functions(L, metamethods);
    lua_newtable(L);
    bt_lua_set_functions(L, methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "methods");
    lua_setfield(L, -3, "tensor_methods");   /* module.tensor_methods: for init.lua to extend */
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {{"empty", l_empty}, {"from_table", l_from_table},
                                   {"from_bytes", l_from_bytes}, {"bytes_allocated", l_bytes_allocated}, {"is_tensor", l_is_tensor}, {NULL, NULL}};
    bt_lua_set_functions(L, fns);
}
