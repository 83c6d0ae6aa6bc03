/* ternary_lua.c - ternary weight tools for Lua scripts (quantize, synthetic models):
 *   core.ternary_quantize(w)            -> wq, scale   (BitNet absmean; wq ternary-valued f32)
 *   core.ternary_pack(w, "tq2_0"|"tq1_0") -> packed tensor of that dtype ([n, k] ternary-valued f32 in)
 *   core.ternary_dequantize(w)          -> f32 tensor of a packed ternary weight's values
 *   core.ternary_random({n, k}, fmt, seed, scale) -> packed tensor with random codes (1/3 each),
 *       generated in C so that 2B-parameter synthetic models take seconds, not hours */
#include <stdlib.h>
#include <string.h>
#include "binding.h"
#include "kernels/cpu/ternary.h"
#include "kernels/cpu/ternary_format.h"
#include "kernels/cpu/ternary_quantize.h"
#include "kernels/cpu/quant_q8_0.h"
#include "kernels/cpu/elementwise.h"

static bt_tensor *check_f32_matrix(lua_State *L, int idx) {
    bt_tensor *w = bt_lua_check_tensor(L, idx);
    if (w->dtype != BT_F32 || !bt_tensor_is_contiguous(w) || bt_tensor_device(w).type != BT_DEVICE_CPU)
        luaL_error(L, "expected a contiguous f32 CPU tensor, got %s", bt_dtype_get_info(w->dtype)->name);
    return w;
}

static int l_quantize(lua_State *L) {
    bt_tensor *w = check_f32_matrix(L, 1), *out;
    bt_lua_check(L, bt_tensor_new(&out, BT_F32, w->ndim, w->shape, BT_CPU));
    bt_lua_push_tensor(L, out);
    float scale;
    bt_lua_check(L, bt_ternary_quantize_absmean(bt_tensor_data(out), &scale, bt_tensor_data(w), bt_tensor_numel(w)));
    lua_pushnumber(L, scale);
    return 2;
}

/* The packable dtype named by arg idx (tq2_0 or tq1_0: formats GGUF files hold). */
static bt_dtype check_packed_dtype(lua_State *L, int idx, bt_ternary_format *f) {
    static const char *names[] = {"tq2_0", "tq1_0", NULL};
    int i = luaL_checkoption(L, idx, NULL, names);
    bt_dtype d = i == 0 ? BT_TQ2_0 : BT_TQ1_0;
    bt_ternary_format_from_dtype(d, f);
    return d;
}

static bt_tensor *new_packed(lua_State *L, bt_dtype d, int64_t n, int64_t k) {
    int64_t shape[2] = {n, k};
    bt_tensor *t;
    bt_lua_check(L, bt_tensor_new(&t, d, 2, shape, BT_CPU));
    bt_lua_push_tensor(L, t);
    return t;
}

static int l_pack(lua_State *L) {
    bt_tensor *w = check_f32_matrix(L, 1);
    if (w->ndim != 2) luaL_error(L, "ternary_pack: expected a 2-d [n, k] tensor");
    bt_ternary_format f;
    bt_dtype d = check_packed_dtype(L, 2, &f);
    bt_tensor *out = new_packed(L, d, w->shape[0], w->shape[1]);
    bt_lua_check(L, bt_ternary_pack(bt_tensor_data(out), bt_tensor_nbytes(out), f, bt_tensor_data(w), w->shape[0], w->shape[1]));
    return 1;
}

/* quantize_q8_0(w) -> q8_0 tensor [n, k] of a contiguous 2-d f32 / f16 / bf16 CPU matrix
 * (k % 32 == 0), row by row (an f16 head is never held as f32 whole). */
static int l_quantize_q8_0(lua_State *L) {
    bt_tensor *w = bt_lua_check_tensor(L, 1);
    if (w->ndim != 2 || !bt_tensor_is_contiguous(w) || bt_tensor_device(w).type != BT_DEVICE_CPU ||
        !(w->dtype == BT_F32 || w->dtype == BT_F16 || w->dtype == BT_BF16))
        luaL_error(L, "quantize_q8_0: expected a contiguous 2-d f32, f16 or bf16 CPU tensor, got %s",
                   bt_dtype_get_info(w->dtype)->name);
    const int64_t n = w->shape[0], k = w->shape[1];
    if (k % BT_Q8_0_COLS) luaL_error(L, "quantize_q8_0: rows of %d values; q8_0 needs a multiple of 32", (int)k);
    bt_tensor *out = new_packed(L, BT_Q8_0, n, k);
    const uint8_t *src = bt_tensor_data(w);
    uint8_t *dst = bt_tensor_data(out);
    const size_t src_row = (size_t)k * bt_dtype_get_info(w->dtype)->block_bytes, dst_row = (size_t)k / BT_Q8_0_COLS * BT_Q8_0_BYTES;
    const bt_dtype dtype = w->dtype;
    int failed = 0;
#pragma omp parallel reduction(|| : failed)
    {
        float *row = dtype == BT_F32 ? NULL : malloc((size_t)k * sizeof(float));   /* this thread's f32 row */
        failed = dtype != BT_F32 && !row;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < n; i++) {
            const void *r = src + (size_t)i * src_row;
            if (failed) continue;
            if (dtype == BT_F16) bt_convert_f16_to_f32(row, r, k);
            if (dtype == BT_BF16) bt_convert_bf16_to_f32(row, r, k);
            bt_q8_0_quantize_row(dst + (size_t)i * dst_row, row ? row : r, k);
        }
        free(row);
    }
    if (failed) luaL_error(L, "quantize_q8_0: out of memory");
    return 1;
}

/* splitmix64: a fast, seedable stream for synthetic weights */
static uint64_t next_random(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int l_random(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, 1);
    lua_rawgeti(L, 1, 2);
    int64_t n = (int64_t)luaL_checknumber(L, -2), k = (int64_t)luaL_checknumber(L, -1);
    lua_pop(L, 2);
    bt_ternary_format f;
    bt_dtype d = check_packed_dtype(L, 2, &f);
    uint64_t seed = (uint64_t)luaL_checknumber(L, 3);
    float scale = (float)luaL_checknumber(L, 4);
    if (n < 1 || k < 1) luaL_error(L, "ternary_random: bad shape [%d, %d]", (int)n, (int)k);
    bt_tensor *out = new_packed(L, d, n, k);
    size_t row_bytes = bt_ternary_row_bytes(f, k);
    float *row = malloc((size_t)k * sizeof *row);
    if (!row) luaL_error(L, "ternary_random: out of memory");
    uint8_t *dst = bt_tensor_data(out);
    bt_status st = BT_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        for (int64_t j = 0; j < k; j++) row[j] = scale * (float)((int)(next_random(&seed) % 3) - 1);
        st = bt_ternary_pack(dst + (size_t)i * row_bytes, row_bytes, f, row, 1, k);
    }
    free(row);
    bt_lua_check(L, st);
    return 1;
}

/* ternary_dequantize(w) -> f32 tensor of the weights' values (TQ2_0, TQ1_0, I2_S) */
static int l_dequantize(lua_State *L) {
    bt_tensor *w = bt_lua_check_tensor(L, 1), *out;
    bt_ternary_format f;
    if (w->ndim != 2 || !bt_ternary_format_from_dtype(w->dtype, &f) || !bt_tensor_is_contiguous(w))
        luaL_error(L, "ternary_dequantize: expected a contiguous 2-d ternary tensor, got %s", bt_dtype_get_info(w->dtype)->name);
    bt_ternary_matrix m;
    bt_lua_check(L, bt_ternary_prepare(&m, f, bt_tensor_data(w), w->storage->nbytes - w->offset, w->shape[0], w->shape[1]));
    bt_lua_check(L, bt_tensor_new(&out, BT_F32, 2, w->shape, BT_CPU));
    bt_lua_push_tensor(L, out);
    for (int64_t i = 0; i < w->shape[0]; i++)
        bt_ternary_dequantize_row((float *)bt_tensor_data(out) + i * w->shape[1], &m, i);
    return 1;
}

void bt_lua_open_ternary(lua_State *L) {
    static const luaL_Reg fns[] = {{"ternary_quantize", l_quantize}, {"ternary_pack", l_pack},
                                   {"ternary_random", l_random}, {"ternary_dequantize", l_dequantize},
                                   {"quantize_q8_0", l_quantize_q8_0}, {NULL, NULL}};
    bt_lua_set_functions(L, fns);
}
