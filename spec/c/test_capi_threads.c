/* test_capi_threads.c - several sessions of one model on several threads at
 * once (the C API's thread-safety promise, runtime/bitttt.h): each thread
 * generates with its own seed; the tokens must equal a single-threaded run of
 * the same seeds. scripts/test-tsan.sh runs this under ThreadSanitizer. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "runtime/bitttt.h"
#include "runtime/platform/platform.h"
#include "runtime/threads.h"
#include "test_readers_util.h"

enum { N_THREADS = 4, N_TOKENS = 24 };

typedef struct job {
    bt_model *model;
    uint64_t seed;
    int32_t tokens[N_TOKENS];
    bt_status status;
    char error[256];
} job;

/* Prompt, then N_TOKENS sampled tokens; a snapshot/restore round in the middle. */
static void generate(void *arg) {
    job *j = arg;
    bt_session *s = NULL;
    bt_snapshot *snap = NULL;
    const int32_t prompt[4] = {1, 403, 407, 261};
    bt_sampling sp = bt_sampling_defaults();
    sp.seed = j->seed;
    bt_session_options so = {.n_ctx = 64};
    bt_status st = bt_session_new(&s, j->model, &so);
    if (!st) st = bt_session_set_sampling(s, &sp);
    if (!st) st = bt_session_feed(s, prompt, 4);
    for (int i = 0; !st && i < N_TOKENS; i++) {
        st = bt_session_step(s, &j->tokens[i]);
        if (!st && i == N_TOKENS / 2) {
            st = bt_session_snapshot(s, &snap);
            if (!st) st = bt_session_reset(s);
            if (!st) st = bt_session_restore(s, snap);
        }
    }
    j->status = st;
    if (st) snprintf(j->error, sizeof j->error, "%s", bt_last_error());
    bt_snapshot_free(snap);
    bt_session_free(s);
}

/* Loads a reference model (NULL when its data is missing; a failed load fails the test). */
static bt_model *load(bt_test_result *bt_result_, const char *rel, const char *tok_rel) {
    char path[1024], tok[1024];
    if (!bt_readers_data_path(path, sizeof path, rel) || (tok_rel && !bt_readers_data_path(tok, sizeof tok, tok_rel)))
        return NULL;
    bt_model_options o = {.tokenizer_path = tok_rel ? tok : NULL};
    bt_model *m = NULL;
    if (bt_model_load(&m, path, &o)) {
        fprintf(stderr, "  load %s: %s\n", rel, bt_last_error());
        *bt_result_ = BT_TEST_FAIL;
    }
    return m;
}

/* N_THREADS jobs, thread i on models[i % n_models], against a single-threaded run of the same seeds. */
static void run_models(bt_test_result *bt_result_, bt_model **models, int n_models, const char *rel) {
    uint64_t rs = bt_test_seed();
    job serial[N_THREADS], parallel[N_THREADS];
    bt_thread th[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        bt_model *m = models[i % n_models];
        serial[i] = (job){.model = m, .seed = bt_readers_rand(&rs) % 1000000};
        parallel[i] = (job){.model = m, .seed = serial[i].seed};
        generate(&serial[i]);
    }
    int started = 0;
    for (int i = 0; i < N_THREADS; i++) started += bt_thread_start(&th[i], generate, &parallel[i]) == 0;
    for (int i = 0; i < started; i++) bt_thread_join(&th[i]);
    int same = started == N_THREADS;
    for (int i = 0; i < N_THREADS; i++) {
        if (serial[i].status || parallel[i].status) {
            fprintf(stderr, "  %s thread %d: %s%s\n", rel, i, serial[i].error, parallel[i].error);
            same = 0;
        } else if (memcmp(serial[i].tokens, parallel[i].tokens, sizeof serial[i].tokens)) {
            fprintf(stderr, "  %s thread %d (seed %llu): tokens differ from the single-threaded run\n", rel, i,
                    (unsigned long long)serial[i].seed);
            same = 0;
        }
    }
    if (!same) *bt_result_ = BT_TEST_FAIL;
}

static int run_model(bt_test_result *bt_result_, const char *rel, const char *tok_rel) {
    bt_model *m = load(bt_result_, rel, tok_rel);
    if (!m) return *bt_result_ == BT_TEST_FAIL;
    run_models(bt_result_, &m, 1, rel);
    bt_model_free(m);
    return 1;
}

BT_TEST(capi_threads_sessions_share_a_model) {
    const int threads_before = bt_get_num_threads();
    bt_set_threads(1);   /* one OpenMP thread per call: the sessions are the parallelism */
    int ran = run_model(bt_result_, "models/stories260K.bin", "models/tok512.bin");
    if (*bt_result_ != BT_TEST_FAIL) ran += run_model(bt_result_, "reference/bitnet/bitnet-s4321-tq2_0.gguf", NULL);
    bt_set_threads(threads_before);
    if (!ran) BT_CHECK(0, "test data missing (spec/data) (models/stories260K.bin, reference/bitnet)");
}

/* Two models' private Lua states working at once, two sessions each. */
BT_TEST(capi_threads_two_models_at_once) {
    const int threads_before = bt_get_num_threads();
    bt_set_threads(1);
    bt_model *models[2] = {load(bt_result_, "models/stories260K.bin", "models/tok512.bin"),
                           load(bt_result_, "reference/bitnet/bitnet-s4321-tq2_0.gguf", NULL)};
    if (models[0] && models[1]) run_models(bt_result_, models, 2, "stories260K + bitnet");
    bt_model_free(models[0]);
    bt_model_free(models[1]);
    bt_set_threads(threads_before);
    if (*bt_result_ != BT_TEST_FAIL && (!models[0] || !models[1]))
        BT_SKIP("test data not found (models/stories260K.bin, reference/bitnet)");
}
