/* test_ops_place.c - where weights and ops can live (runtime/ops.h, ops_place.c),
 * the parts that need no GPU: placing on the CPU is a view, the bytes a weight
 * takes in the CUDA layout, which dtypes and head shapes the CUDA kernels take
 * (asked without a device), the device scratch the ops need, and placing on a
 * device that is not there. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "kernels/cpu/ternary_format.h"
#include "runtime/ops.h"
#ifdef BT_HAVE_CUDA
#include "kernels/cuda/cuda_backend.h"
#endif

static const bt_device cuda0 = {BT_DEVICE_CUDA, 0};

/* A TQ2_0 matrix [n, k] of random ternary values; `mixed` gives the blocks of each row different scales. */
static bt_tensor *random_tq2_0(int64_t n, int64_t k, int mixed, unsigned seed) {
    float *w = malloc((size_t)(n * k) * sizeof *w);
    for (int64_t i = 0; i < n * k; i++) {
        float scale = mixed && (i % k) / 256 % 2 ? 0.25f : 0.125f;
        w[i] = scale * (float)((int)((seed = seed * 1103515245u + 12345u) >> 16) % 3 - 1);
    }
    bt_tensor *t = NULL;
    int64_t shape[2] = {n, k};
    if (bt_tensor_new(&t, BT_TQ2_0, 2, shape, BT_CPU) ||
        bt_ternary_pack(bt_tensor_data(t), bt_tensor_nbytes(t), BT_TERNARY_TQ2_0, w, n, k)) {
        bt_tensor_free(t);
        t = NULL;
    }
    free(w);
    return t;
}

BT_TEST(ops_place_on_the_cpu_is_a_view) {
    bt_tensor *w = random_tq2_0(5, 256, 0, (unsigned)bt_test_seed()), *v = NULL;
    BT_CHECK(w, "%s", bt_last_error());
    BT_CHECK(bt_op_place_weight(&v, w, BT_CPU) == BT_OK, "%s", bt_last_error());
    BT_CHECK(v->storage == w->storage && v->dtype == BT_TQ2_0 && bt_tensor_same_shape(v, w), "not a view of w");
    size_t bytes = 0;
    BT_CHECK(bt_op_placed_bytes(w, BT_CPU, &bytes) == BT_OK && bytes == bt_tensor_nbytes(w), "%zu bytes", bytes);
    BT_CHECK(bt_op_scratch_bytes(BT_CPU, 64, 2560, 20, 128, 4096) == 0, "the CPU needs no device scratch");
    bt_tensor_free(v);
    bt_tensor_free(w);
}

BT_TEST(ops_place_cuda_bytes_of_ternary_weights) {
    int64_t n = 13 + (int64_t)(bt_test_seed() % 20), k = 512;
    bt_tensor *uniform = random_tq2_0(n, k, 0, (unsigned)bt_test_seed()), *mixed = random_tq2_0(n, k, 1, 7);
    BT_CHECK(uniform && mixed, "%s", bt_last_error());
    size_t a = 0, b = 0;
    bt_status sa = bt_op_placed_bytes(uniform, cuda0, &a), sb = bt_op_placed_bytes(mixed, cuda0, &b);
#ifdef BT_HAVE_CUDA
    BT_CHECK(sa == BT_OK && sb == BT_OK, "%s", bt_last_error());
    BT_CHECK(a == bt_cuda_ternary_bytes((int)n, (int)k, 0), "uniform scales: %zu bytes", a);
    BT_CHECK(b == bt_cuda_ternary_bytes((int)n, (int)k, 1), "mixed block scales: %zu bytes", b);
    BT_CHECK(b > a, "per-block scales take more room");
#else
    BT_CHECK(sa == BT_ERR_DEVICE && sb == BT_ERR_DEVICE, "a build without CUDA must refuse");
#endif
    bt_tensor_free(uniform);
    bt_tensor_free(mixed);
}

BT_TEST(ops_place_which_weights_the_cuda_kernels_take) {
    char why[256];
    int64_t shape[2] = {64, 256};
    bt_tensor *f16 = NULL, *q8 = NULL, *tq1 = NULL, *tq2 = NULL;
    BT_CHECK(!bt_tensor_new(&f16, BT_F16, 2, shape, BT_CPU) && !bt_tensor_new(&q8, BT_Q8_0, 2, shape, BT_CPU) &&
             !bt_tensor_new(&tq1, BT_TQ1_0, 2, shape, BT_CPU) && !bt_tensor_new(&tq2, BT_TQ2_0, 2, shape, BT_CPU),
             "%s", bt_last_error());
    BT_CHECK(bt_op_linear_unsupported(q8, 0, BT_CPU, why, sizeof why) == NULL, "the CPU takes everything");
#ifdef BT_HAVE_CUDA
    BT_CHECK(bt_op_linear_unsupported(tq2, 1, cuda0, why, sizeof why) == NULL, "tq2_0: %s", why);
    BT_CHECK(bt_op_linear_unsupported(f16, 0, cuda0, why, sizeof why) == NULL, "f16: %s", why);
    const char *r = bt_op_linear_unsupported(f16, 1, cuda0, why, sizeof why);
    BT_CHECK(r && strstr(r, "activation quantization"), "f16 with act_quant: %s", r ? r : "accepted");
    r = bt_op_linear_unsupported(q8, 0, cuda0, why, sizeof why);
    BT_CHECK(r && strstr(r, "q8_0"), "q8_0: %s", r ? r : "accepted");
    r = bt_op_linear_unsupported(tq1, 1, cuda0, why, sizeof why);
    BT_CHECK(r && strstr(r, "tq1_0"), "tq1_0: %s", r ? r : "accepted");
#else
    const char *r = bt_op_linear_unsupported(tq2, 1, cuda0, why, sizeof why);
    BT_CHECK(r && strstr(r, "no CUDA support"), "%s", r ? r : "accepted");
#endif
    bt_tensor_free(f16);
    bt_tensor_free(q8);
    bt_tensor_free(tq1);
    bt_tensor_free(tq2);
}

BT_TEST(ops_place_which_attention_shapes_the_cuda_kernels_take) {
    char why[256];
    BT_CHECK(bt_op_attention_unsupported(6, 6, 48, 48, BT_CPU, why, sizeof why) == NULL, "the CPU takes any head size");
#ifdef BT_HAVE_CUDA
    BT_CHECK(bt_op_attention_unsupported(20, 5, 128, 128, cuda0, why, sizeof why) == NULL, "2B4T heads: %s", why);
    BT_CHECK(bt_op_attention_unsupported(4, 2, 64, 32, cuda0, why, sizeof why) == NULL, "partial rotary: %s", why);
    const char *r = bt_op_attention_unsupported(6, 6, 48, 48, cuda0, why, sizeof why);
    BT_CHECK(r && strstr(r, "head_dim 48"), "head_dim 48: %s", r ? r : "accepted");
    r = bt_op_attention_unsupported(32, 2, 64, 64, cuda0, why, sizeof why);
    BT_CHECK(r != NULL, "16 query heads per kv head accepted");
    r = bt_op_attention_unsupported(4, 3, 64, 64, cuda0, why, sizeof why);
    BT_CHECK(r != NULL, "kv heads that do not divide the heads accepted");
    BT_CHECK(bt_op_scratch_bytes(cuda0, 64, 6912, 20, 128, 4096) >= (size_t)64 * 6912, "scratch below the int8 activations");
#else
    BT_CHECK(bt_op_attention_unsupported(20, 5, 128, 128, cuda0, why, sizeof why) != NULL, "no CUDA: accepted");
#endif
}

BT_TEST(ops_place_on_a_missing_device_fails_cleanly) {
    /* Without a GPU (or without CUDA compiled in) placing fails with an error naming the
     * device; with one it places. Ops across devices are tested in test_cuda_ops.c. */
    bt_tensor *w = random_tq2_0(8, 256, 0, 3), *out = NULL;
    BT_CHECK(w, "%s", bt_last_error());
    bt_status st = bt_op_place_weight(&out, w, cuda0);
    if (bt_cuda_device_count() == 0) {
        BT_CHECK(st != BT_OK && out == NULL, "placing on a missing device succeeded");
        BT_CHECK(strstr(bt_last_error(), "cuda:0"), "the error should name the device: %s", bt_last_error());
    } else {
        BT_CHECK(st == BT_OK && bt_tensor_device(out).type == BT_DEVICE_CUDA, "%s", bt_last_error());
    }
    bt_tensor_free(out);
    bt_tensor_free(w);
}
