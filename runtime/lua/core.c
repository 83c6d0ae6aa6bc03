/* core.c - luaopen_bitttt_core: the C module `bitttt.core` under lua/bitttt/init.lua.
 * Each part of the binding lives in its own file and adds its functions here. */
#include "binding.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/read_bandwidth.h"
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
    bt_lua_check(L, bt_set_num_threads((int)luaL_checkinteger(L, 1)));
    return 0;
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
    bt_tensor *t = bt_lua_check_tensor(L, 1);
    if (bt_tensor_device(t).type != BT_DEVICE_CPU || !bt_tensor_is_contiguous(t))
        luaL_error(L, "read_all: needs a contiguous CPU tensor");
    bt_apply_num_threads();
    lua_pushnumber(L, (lua_Number)(bt_read_all(bt_tensor_data(t), bt_tensor_nbytes(t)) & 0xffffff));
    return 1;
}

static int l_clock(lua_State *L) { lua_pushnumber(L, bt_time_seconds()); return 1; }
static int l_peak_rss(lua_State *L) { lua_pushnumber(L, (lua_Number)bt_peak_rss_bytes()); return 1; }

/* The module DLL's one export on Windows (to become BT_API with runtime/export.h). */
#if defined(_WIN32)
__declspec(dllexport)
#endif
int luaopen_bitttt_core(lua_State *L) {
    lua_newtable(L);
    static const luaL_Reg fns[] = {{"info", l_info}, {"set_threads", l_set_threads},
                                   {"get_threads", l_get_threads}, {"set_simd", l_set_simd},
                                   {"clock", l_clock}, {"read_all", l_read_all}, {"peak_rss", l_peak_rss}, {NULL, NULL}};
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
