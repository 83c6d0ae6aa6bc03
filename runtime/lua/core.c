/* core.c - bt_lua_open_core: the C module `bitttt.core` under lua/bitttt/init.lua
 * (bin/bitttt/core.so's luaopen_bitttt_core calls it; see open_core.h).
 * Each part of the binding lives in its own file and adds its functions here. */
#include <math.h>
#include "binding.h"
#include "open_core.h"
#include "runtime/device.h"
#include "runtime/ops_probe.h"
#include "runtime/platform/platform.h"
#include "runtime/threads.h"
#include "runtime/version.h"

/* info() -> {version=, api_version=, simd=, cpu={avx2=, ...}, cuda={compiled=, devices=}, threads=} */
static int l_info(lua_State *L) {
    const bt_cpu_features *f = bt_cpu_features_get();
    lua_newtable(L);
    lua_pushstring(L, BT_VERSION_STRING); lua_setfield(L, -2, "version");
    lua_pushinteger(L, BT_API_VERSION); lua_setfield(L, -2, "api_version");
    lua_pushstring(L, bt_simd_level_name(bt_simd_level_get())); lua_setfield(L, -2, "simd");
    lua_newtable(L);
    const struct { const char *name; int on; } flags[] = {
        {"avx2", f->avx2}, {"fma", f->fma}, {"f16c", f->f16c}, {"avx512f", f->avx512f},
        {"avx512bw", f->avx512bw}, {"avx512vl", f->avx512vl}, {"avx512vnni", f->avx512vnni}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        lua_pushboolean(L, flags[i].on);
        lua_setfield(L, -2, flags[i].name);
    }
    lua_setfield(L, -2, "cpu");
    lua_newtable(L);
    lua_pushboolean(L, bt_cuda_compiled()); lua_setfield(L, -2, "compiled");
    lua_pushinteger(L, bt_cuda_device_count()); lua_setfield(L, -2, "devices");
    lua_setfield(L, -2, "cuda");
    lua_pushinteger(L, bt_get_num_threads()); lua_setfield(L, -2, "threads");
    return 1;
}

static int l_set_threads(lua_State *L) {
    lua_Number n = luaL_checknumber(L, 1);
    if (!(n >= 1 && n <= 4096) || n != (lua_Number)(int)n)   /* before the cast: 1e12 is not -727379968 */
        luaL_error(L, "set_threads: a whole number from 1 to 4096 expected, got %s", lua_tostring(L, 1));
    bt_lua_check(L, bt_set_num_threads((int)n));
    return 0;
}

/* suggest_threads(n): the count to use unless the user chose one (set_threads, BITTTT_THREADS);
 * returns the count in force. */
static int l_suggest_threads(lua_State *L) {
    lua_Number n = luaL_checknumber(L, 1);
    if (n >= 1 && n <= 4096) bt_suggest_num_threads((int)n);
    lua_pushinteger(L, bt_get_num_threads());
    return 1;
}

/* path_kind(path) -> "file", "directory", "fifo", "socket", "character device", "block device"
 * (links followed), or nil, message when it does not exist. Asked before opening: a FIFO would block. */
static int l_path_kind(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    const char *kind = bt_path_kind(path);
    if (!kind) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: no such file or folder", path);
        return 2;
    }
    lua_pushstring(L, kind);
    return 1;
}

static int l_get_threads(lua_State *L) { lua_pushinteger(L, bt_get_num_threads()); return 1; }

/* set_simd("scalar"|"avx2"|"avx512") caps the SIMD level (tests and benchmarks) */
static int l_set_simd(lua_State *L) {
    static const char *names[] = {"scalar", "avx2", "avx512", NULL};
    bt_simd_level_set((bt_simd_level)luaL_checkoption(L, 1, NULL, names));
    lua_pushstring(L, bt_simd_level_name(bt_simd_level_get()));
    return 1;
}

/* read_all(t): reads every byte of a CPU tensor once with the kernels' threads and vector
 * width (the benchmarks' bandwidth probe); returns a checksum */
static int l_read_all(lua_State *L) {
    uint64_t checksum;
    bt_lua_check(L, bt_op_read_all(bt_lua_check_tensor(L, 1), &checksum));
    lua_pushnumber(L, (lua_Number)(checksum & 0xffffff));
    return 1;
}

static int l_clock(lua_State *L) { lua_pushnumber(L, bt_time_seconds()); return 1; }
static int l_memory_available(lua_State *L) {
    lua_pushnumber(L, (lua_Number)bt_memory_available_bytes());
    return 1;
}

/* first_non_finite(t) -> the 1-based flat index of the first NaN or infinity of a
 * contiguous f32 CPU tensor, or nil when every value is finite (the logits check). */
static int l_first_non_finite(lua_State *L) {
    const bt_tensor *t = bt_lua_check_tensor(L, 1);
    if (t->dtype != BT_F32 || !bt_tensor_is_contiguous(t) || bt_tensor_device(t).type != BT_DEVICE_CPU)
        return luaL_error(L, "first_non_finite: needs a contiguous f32 CPU tensor");
    const float *x = bt_tensor_data(t);
    const int64_t n = bt_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            lua_pushnumber(L, (lua_Number)(i + 1));
            return 1;
        }
    lua_pushnil(L);
    return 1;
}

static int l_peak_rss(lua_State *L) { lua_pushnumber(L, (lua_Number)bt_peak_rss_bytes()); return 1; }

int bt_lua_open_core(lua_State *L) {
    lua_newtable(L);
    static const luaL_Reg fns[] = {{"info", l_info}, {"set_threads", l_set_threads},
                                   {"get_threads", l_get_threads}, {"set_simd", l_set_simd},
                                   {"suggest_threads", l_suggest_threads}, {"path_kind", l_path_kind},
                                   {"clock", l_clock}, {"read_all", l_read_all}, {"peak_rss", l_peak_rss},
                                   {"memory_available", l_memory_available},
                                   {"first_non_finite", l_first_non_finite}, {NULL, NULL}};
    bt_lua_set_functions(L, fns);
    bt_lua_open_tensor(L);
    bt_lua_open_model(L);
    bt_lua_open_ops(L);
    bt_lua_open_gguf(L);
    bt_lua_open_gguf_write(L);
    bt_lua_open_tokenizer(L);
    bt_lua_open_ternary(L);
    bt_lua_open_ternary_hf(L);
    bt_lua_open_ttt(L);
    bt_lua_open_placer(L);
    return 1;
}
