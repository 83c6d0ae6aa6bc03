/* test_cuda_capi.c - the C API placing layers on the GPU (bt_model_options.n_gpu_layers):
 * the reference BitNet fixture (TQ2_0) with every layer on the GPU, and with one, reports
 * the layers it placed, and its logits after a prompt and after decoding steps are the
 * CPU's within a tolerance (sums in another order, and int8 rounding ties). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "runtime/bitttt.h"
#include "test_cuda_util.h"
#include "test_readers_util.h"

enum { PROMPT_LEN = 11, DECODE_STEPS = 6 };

/* logits [DECODE_STEPS + 1][n_vocab]: after the prompt, then after each fed token */
static int run_session(bt_model *m, int n_vocab, float *logits) {
    static const int32_t prompt[PROMPT_LEN] = {1, 45, 300, 12, 7, 411, 96, 3, 250, 18, 77};
    bt_session *s;
    if (bt_session_new(&s, m, NULL) || bt_session_feed(s, prompt, PROMPT_LEN)) return 0;
    int ok = 1;
    for (int step = 0; ok && step <= DECODE_STEPS; step++) {
        const float *row = bt_session_logits(s);
        ok = row != NULL;
        if (ok) memcpy(logits + (size_t)step * n_vocab, row, sizeof(float) * (size_t)n_vocab);
        const int32_t next = 5 + 31 * step;
        if (ok && step < DECODE_STEPS) ok = !bt_session_feed(s, &next, 1);
    }
    bt_session_free(s);
    return ok;
}

BT_TEST(cuda_capi_places_layers_and_matches_the_cpu) {
    CU_REQUIRE_DEVICE();
    char path[1024];
    if (!bt_readers_data_path(path, sizeof path, "reference/bitnet/bitnet-s4321-tq2_0.gguf"))
        BT_CHECK(0, "test data missing (spec/data) (reference/bitnet/bitnet-s4321-tq2_0.gguf)");
    bt_model *cpu = NULL;
    bt_model_options co = {.n_gpu_layers = 0};
    BT_CHECK(!bt_model_load(&cpu, path, &co), "load on the CPU: %s", bt_last_error());
    bt_model_info info;
    bt_model_get_info(cpu, &info);
    const int n_vocab = info.n_vocab, rows = DECODE_STEPS + 1;
    float *want = malloc(sizeof(float) * (size_t)rows * n_vocab), *got = malloc(sizeof(float) * (size_t)rows * n_vocab);
    BT_CHECK(want && got && run_session(cpu, n_vocab, want), "CPU session: %s", bt_last_error());
    bt_model_free(cpu);

    const int requests[] = {BT_GPU_LAYERS_AUTO, 1};
    for (int r = 0; r < 2; r++) {
        bt_model *gpu = NULL;
        bt_model_options go = {.n_gpu_layers = requests[r]};
        BT_CHECK(!bt_model_load(&gpu, path, &go), "load with n_gpu_layers %d: %s", requests[r], bt_last_error());
        bt_model_info gi;
        bt_model_get_info(gpu, &gi);
        const int placed_want = requests[r] == BT_GPU_LAYERS_AUTO ? gi.n_layer : 1;
        BT_CHECK(gi.n_gpu_layers == placed_want, "n_gpu_layers %d: %d layers placed, want %d", requests[r],
                 gi.n_gpu_layers, placed_want);
        BT_CHECK(run_session(gpu, n_vocab, got), "GPU session: %s", bt_last_error());
        double worst = 0, scale = 0;
        for (size_t i = 0; i < (size_t)rows * n_vocab; i++) {
            worst = fmax(worst, fabs((double)got[i] - want[i]));
            scale = fmax(scale, fabs((double)want[i]));
        }
        bt_model_free(gpu);
        /* loose: an int8 activation at a rounding tie may round the other way on the GPU */
        BT_CHECK(worst <= 1e-2 * (1 + scale), "n_gpu_layers %d: logits differ from the CPU's by %g (largest %g)",
                 requests[r], worst, scale);
    }
    free(want);
    free(got);
}
