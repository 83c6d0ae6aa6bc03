/* test_capi.c - the public C API (runtime/bitttt.h) on the llama2.c reference
 * checkpoint stories260K: greedy generation reproduces llama2.c's own output,
 * budgeted steps give the tokens plain steps give, snapshots and state files
 * restore the exact logits, all-row logits match last-row logits, tokenizer
 * round trips, the sampler's options, and errors for bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "runtime/bitttt.h"
#include "test_readers_util.h"

static bt_model *load_stories(bt_test_result *bt_result_, int *skip) {
    char model[1024], tok[1024];
    *skip = !bt_readers_data_path(model, sizeof model, "models/stories260K.bin") ||
            !bt_readers_data_path(tok, sizeof tok, "models/tok512.bin");
    if (*skip) return NULL;
    bt_model_options o = {.tokenizer_path = tok};
    bt_model *m = NULL;
    bt_status st = bt_model_load(&m, model, &o);
    if (st) {
        fprintf(stderr, "  load: %s\n", bt_last_error());
        *bt_result_ = BT_TEST_FAIL;
    }
    return m;
}

#define LOAD_OR_SKIP(m)                                                      \
    int skip_;                                                               \
    bt_model *m = load_stories(bt_result_, &skip_);                          \
    if (skip_) BT_CHECK(0, "test data missing (spec/data) (models/stories260K.bin)");      \
    if (!m) return

static int greedy_text(bt_model *m, int n, char *out, size_t cap) {
    bt_model_info info;
    bt_model_get_info(m, &info);
    bt_session *s;
    bt_text_stream *ts;
    if (bt_session_new(&s, m, NULL) || bt_text_stream_new(&ts, m)) return 0;
    bt_sampling sp = bt_sampling_defaults();
    sp.temp = 0;
    size_t len = 0, k;
    int ok = !bt_session_set_sampling(s, &sp) && !bt_session_feed(s, &info.bos, 1) &&
             !bt_text_stream_push(ts, info.bos, out, cap, &k);
    for (int i = 0; ok && i < n; i++) {
        int32_t id;
        ok = !bt_session_step(s, &id);
        if (ok && bt_token_is_end(m, id)) break;
        ok = ok && !bt_text_stream_push(ts, id, out + len, cap - len, &k);
        len += k;
    }
    out[len] = 0;
    bt_text_stream_free(ts);
    bt_session_free(s);
    return ok;
}

BT_TEST(capi_greedy_matches_llama2c_run) {
    LOAD_OR_SKIP(m);
    char ref_path[1024];
    if (!bt_readers_data_path(ref_path, sizeof ref_path, "reference/stories260K_t0_n200.txt")) {
        bt_model_free(m);
        BT_CHECK(0, "test data missing (spec/data) (reference/stories260K_t0_n200.txt)");
    }
    size_t ref_len;
    char *ref = (char *)bt_readers_read_file(ref_path, &ref_len);
    char text[8192];
    int ok = greedy_text(m, 150, text, sizeof text);
    bt_model_free(m);
    int prefix = ok && ref && strlen(text) > 100 && strncmp(text, ref, strlen(text)) == 0;
    free(ref);
    BT_CHECK(ok, "generation failed: %s", bt_last_error());
    BT_CHECK(prefix, "greedy text is not llama2.c's: %.200s", text);
}

BT_TEST(capi_info_and_metadata) {
    LOAD_OR_SKIP(m);
    bt_model_info info;
    bt_model_get_info(m, &info);
    char buf[64];
    size_t len;
    bt_status st = bt_model_meta(m, "llama.embedding_length", buf, sizeof buf, &len);
    bt_status missing = bt_model_meta(m, "no.such.key", buf, sizeof buf, &len);
    const char *mixer = bt_model_layer_mixer(m, 0), *none = bt_model_layer_mixer(m, info.n_layer);
    const int names_ok = !strcmp(info.architecture, "llama") && !strcmp(info.format, "llama2c");
    const int mixer_ok = mixer && !strcmp(mixer, "attention") && !none;
    bt_model_free(m);
    BT_CHECK(names_ok, "architecture and format of a llama2.c checkpoint");
    BT_CHECK(info.n_vocab == 512 && info.n_embd == 64 && info.n_layer == 5 && info.has_tokenizer && info.bos == 1,
             "info: vocab %d embd %d layers %d bos %d", info.n_vocab, info.n_embd, info.n_layer, info.bos);
    BT_CHECK(strlen(info.fingerprint) == 16, "fingerprint '%s'", info.fingerprint);
    BT_CHECK(st == BT_OK && !strcmp(buf, "64"), "meta embedding_length: %s", buf);
    BT_CHECK(missing == BT_ERR_ARG && strstr(bt_last_error(), "no.such.key"), "missing key: %s", bt_last_error());
    BT_CHECK(mixer_ok, "layer mixers");
}

BT_TEST(capi_tokenize_round_trip) {
    LOAD_OR_SKIP(m);
    const char *text = "Once upon a time, a cat sat.";
    int32_t ids[64], tiny[2];
    size_t n = 0, need = 0, len = 0;
    char back[256];
    bt_status st = bt_tokenize(m, text, strlen(text), BT_TOKENIZE_BOS, ids, 64, &n);
    bt_status small = bt_tokenize(m, text, strlen(text), 0, tiny, 2, &need);
    bt_status dt = bt_detokenize(m, ids, n, back, sizeof back, &len);
    bt_model_free(m);
    BT_CHECK(st == BT_OK && n > 3 && ids[0] == 1, "tokenize: %s (n %zu)", bt_last_error(), n);
    BT_CHECK(small == BT_ERR_ARG && need == n - 1, "a small buffer reports the count needed: %zu", need);
    BT_CHECK(dt == BT_OK && !strcmp(back, text), "round trip gave '%s'", back);
}

/* Feeding all rows at once gives the same rows as feeding one token at a time. */
BT_TEST(capi_feed_all_matches_stepwise) {
    LOAD_OR_SKIP(m);
    uint64_t rs = bt_test_seed();
    enum { N = 13, V = 512 };
    int32_t ids[N];
    for (int i = 0; i < N; i++) ids[i] = (int32_t)(bt_readers_rand(&rs) % V);
    float *all = malloc(sizeof(float) * N * V);
    bt_session *a, *b;
    int ok = !bt_session_new(&a, m, NULL) && !bt_session_new(&b, m, NULL) && !bt_session_feed_all(a, ids, N, all);
    double worst = 0;
    for (int i = 0; ok && i < N; i++) {
        ok = !bt_session_feed(b, &ids[i], 1);
        const float *row = bt_session_logits(b);
        for (int j = 0; ok && j < V; j++) worst = fmax(worst, fabs(row[j] - all[i * V + j]));
    }
    const float *last = bt_session_logits(a);
    int last_same = ok && !memcmp(last, all + (N - 1) * V, sizeof(float) * V);
    int pos = bt_session_position(a);
    free(all);
    bt_session_free(a);
    bt_session_free(b);
    bt_model_free(m);
    BT_CHECK(ok, "feed: %s", bt_last_error());
    BT_CHECK(worst < 1e-4, "batched and single-token logits differ by %g", worst);
    BT_CHECK(last_same && pos == N, "last row / position %d", pos);
}

/* Budgeted steps (any budget, even 0 ms) give the same tokens as plain steps with the same seed. */
BT_TEST(capi_step_budget_matches_step) {
    LOAD_OR_SKIP(m);
    uint64_t rs = bt_test_seed();
    bt_sampling sp = bt_sampling_defaults();
    sp.seed = bt_readers_rand(&rs) % 1000000;
    sp.temp = 1.0;
    bt_session *a, *b;
    const int32_t bos = 1;
    int ok = !bt_session_new(&a, m, NULL) && !bt_session_new(&b, m, NULL) && !bt_session_set_sampling(a, &sp) &&
             !bt_session_set_sampling(b, &sp) && !bt_session_feed(a, &bos, 1) && !bt_session_feed(b, &bos, 1);
    int32_t want[40], got[40];
    int n_got = 0, calls = 0;
    for (int i = 0; ok && i < 40; i++) ok = !bt_session_step(a, &want[i]);
    while (ok && n_got < 40 && calls < 10000) {
        int32_t id;
        ok = !bt_session_step_budget(b, (double)(calls % 3) * 0.01, &id);
        if (id >= 0) got[n_got++] = id;
        calls++;
    }
    ok = ok && !bt_session_finish(b);
    int same = ok && n_got == 40 && !memcmp(want, got, sizeof want) && bt_session_position(a) == bt_session_position(b);
    bt_session_free(a);
    bt_session_free(b);
    bt_model_free(m);
    BT_CHECK(ok, "step: %s", bt_last_error());
    BT_CHECK(same, "budgeted steps gave other tokens (%d tokens in %d calls)", n_got, calls);
    BT_CHECK(calls > 40, "a zero budget still runs one layer per call (%d calls for 40 tokens)", calls);
}

BT_TEST(capi_snapshot_and_state_file_restore_logits) {
    LOAD_OR_SKIP(m);
    char dir[1024], path[1100];
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "scratch dir");
    snprintf(path, sizeof path, "%s/state.safetensors", dir);
    const int32_t prompt[5] = {1, 403, 407, 261, 378}, next = 42;
    bt_session *s, *t;
    bt_snapshot *snap = NULL;
    float a[512], b[512], c[512];
    bt_session_options so = {.n_ctx = 64};
    int ok = !bt_session_new(&s, m, &so) && !bt_session_new(&t, m, &so) && !bt_session_feed(s, prompt, 5) &&
             !bt_session_snapshot(s, &snap) && !bt_session_save_state(s, path) && !bt_session_feed(s, &next, 1);
    if (ok) memcpy(a, bt_session_logits(s), sizeof a);
    ok = ok && !bt_session_restore(s, snap) && bt_session_position(s) == 5 && !bt_session_feed(s, &next, 1);
    if (ok) memcpy(b, bt_session_logits(s), sizeof b);
    ok = ok && !bt_session_load_state(t, path) && bt_session_position(t) == 5 && !bt_session_feed(t, &next, 1);
    if (ok) memcpy(c, bt_session_logits(t), sizeof c);
    bt_session *other;
    bt_session_options small = {.n_ctx = 4};   /* the state's position (5) does not fit */
    int refused = !bt_session_new(&other, m, &small) && bt_session_load_state(other, path) == BT_ERR_FORMAT &&
                  strstr(bt_last_error(), "context");
    bt_session_free(other);
    int reset_ok = !bt_session_reset(t) && bt_session_position(t) == 0 && !bt_session_logits(t);
    bt_snapshot_free(snap);
    bt_session_free(s);
    bt_session_free(t);
    bt_model_free(m);
    bt_readers_scratch_remove(dir);
    BT_CHECK(ok, "state calls: %s", bt_last_error());
    BT_CHECK(!memcmp(a, b, sizeof a), "restored snapshot gives other logits");
    BT_CHECK(!memcmp(a, c, sizeof a), "loaded state file gives other logits");
    BT_CHECK(refused, "a state whose position does not fit the context is refused");
    BT_CHECK(reset_ok, "reset");
}

BT_TEST(capi_sampler_options) {
    enum { V = 37 };
    uint64_t rs = bt_test_seed();
    float logits[V];
    for (int i = 0; i < V; i++) logits[i] = (float)((double)(bt_readers_rand(&rs) % 1000) / 100.0 - 5);
    int best = 0;
    for (int i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    bt_sampling o = bt_sampling_defaults();
    o.temp = 0;
    bt_sampler *greedy, *k1, *a, *b, *pen;
    int32_t id = -1, id_k1 = -1, id_pen = -1;
    BT_CHECK(!bt_sampler_new(&greedy, &o) && !bt_sampler_sample(greedy, logits, V, NULL, 0, &id), "greedy");
    o.temp = 1.5; o.top_k = 1; o.seed = 7;
    BT_CHECK(!bt_sampler_new(&k1, &o) && !bt_sampler_sample(k1, logits, V, NULL, 0, &id_k1), "top_k 1");
    BT_CHECK(id == best && id_k1 == best, "greedy %d, top-k 1 %d, best %d", id, id_k1, best);
    /* a huge repeat penalty on the best token moves greedy elsewhere */
    o = bt_sampling_defaults();
    o.temp = 0; o.repeat_penalty = 1e9; o.presence_penalty = 1e9;
    const int32_t hist[1] = {best};
    BT_CHECK(!bt_sampler_new(&pen, &o) && !bt_sampler_sample(pen, logits, V, hist, 1, &id_pen), "penalty");
    BT_CHECK(id_pen != best, "penalized token %d still chosen", id_pen);
    /* the same seed gives the same draws; every draw stays within top-k */
    o = bt_sampling_defaults();
    o.top_k = 5; o.top_p = 1; o.min_p = 0; o.seed = bt_readers_rand(&rs) % 100000;
    BT_CHECK(!bt_sampler_new(&a, &o) && !bt_sampler_new(&b, &o), "seeded samplers");
    int same = 1, within = 1;
    for (int i = 0; i < 200; i++) {
        int32_t x, y;
        bt_sampler_sample(a, logits, V, NULL, 0, &x);
        bt_sampler_sample(b, logits, V, NULL, 0, &y);
        same &= x == y;
        int rank = 0;
        for (int j = 0; j < V; j++) rank += logits[j] > logits[x];
        within &= rank < 5;
    }
    bt_sampling bad = bt_sampling_defaults();
    bad.top_p = 0;
    bt_sampler *none = NULL;
    bt_status bad_st = bt_sampler_new(&none, &bad);
    bt_sampler_free(greedy); bt_sampler_free(k1); bt_sampler_free(a); bt_sampler_free(b); bt_sampler_free(pen);
    BT_CHECK(same && within, "seeded draws: same %d, within top-k %d", same, within);
    BT_CHECK(bad_st == BT_ERR_ARG && !none && strstr(bt_last_error(), "top_p"), "top_p 0 refused: %s", bt_last_error());
}

BT_TEST(capi_errors_name_the_problem) {
    bt_model *m = NULL;
    bt_status st = bt_model_load(&m, "/nonexistent/model.gguf", NULL);
    BT_CHECK(st != BT_OK && !m && strstr(bt_last_error(), "/nonexistent/model.gguf"), "missing file: %s", bt_last_error());
    BT_CHECK(bt_api_version() == BT_API_VERSION && !strcmp(bt_version_string(), BT_VERSION_STRING), "version");
    LOAD_OR_SKIP(model);
    bt_session *s;
    bt_session_options tiny = {.n_ctx = 2};
    int32_t id, ids[3] = {1, 2, 3}, bad = 9999;
    int ok = !bt_session_new(&s, model, &tiny);
    bt_status no_logits = bt_session_step(s, &id);
    bt_status full = bt_session_feed(s, ids, 3);
    bt_status range = bt_session_feed(s, &bad, 1);
    bt_session_free(s);
    bt_model_free(model);
    BT_CHECK(ok, "session");
    BT_CHECK(no_logits == BT_ERR_ARG, "step before feed");
    BT_CHECK(full == BT_ERR_ARG, "context overflow");
    BT_CHECK(range == BT_ERR_ARG, "token id out of range");
}

/* Every pointer argument the header does not allow to be NULL gives BT_ERR_ARG, never a crash. */
BT_TEST(capi_null_arguments_are_refused) {
    LOAD_OR_SKIP(m);
    bt_model_info info;
    bt_model *other = NULL;
    bt_session *s = NULL;
    bt_text_stream *ts = NULL;
    bt_sampler *smp = NULL;
    bt_snapshot *snap = NULL;
    int32_t id, ids[2] = {1, 2};
    char buf[16];
    size_t n;
    const bt_sampling sp = bt_sampling_defaults();
    const bt_status got[] = {
        bt_model_load(NULL, "x", NULL), bt_model_load(&other, NULL, NULL),
        bt_model_get_info(m, NULL), bt_model_get_info(NULL, &info),
        bt_model_meta(NULL, "k", buf, sizeof buf, &n), bt_model_meta(m, NULL, buf, sizeof buf, &n),
        bt_model_meta(m, "general.architecture", NULL, sizeof buf, &n),
        bt_model_sampling(NULL, &(bt_sampling){0}), bt_model_sampling(m, NULL),
        bt_tokenize(NULL, "a", 1, 0, ids, 2, &n), bt_tokenize(m, NULL, 3, 0, ids, 2, &n),
        bt_detokenize(m, NULL, 3, buf, sizeof buf, &n), bt_detokenize(NULL, ids, 2, buf, sizeof buf, &n),
        bt_detokenize(m, ids, 2, NULL, sizeof buf, &n),
        bt_text_stream_new(NULL, m), bt_text_stream_new(&ts, NULL),
        bt_text_stream_push(NULL, 1, buf, sizeof buf, &n), bt_text_stream_flush(NULL, buf, sizeof buf, &n),
        bt_session_new(NULL, m, NULL), bt_session_new(&s, NULL, NULL),
        bt_session_feed(NULL, ids, 2), bt_session_feed_all(NULL, ids, 2, NULL),
        bt_session_set_sampling(NULL, &sp), bt_session_step(NULL, &id), bt_session_step_budget(NULL, 1, &id),
        bt_session_finish(NULL), bt_session_reset(NULL), bt_session_set_ttt_lr(NULL, 1),
        bt_session_set_ttt_schedule(NULL, "constant:1"), bt_session_set_ttt_schedule_lua(NULL, "return nil"),
        bt_session_snapshot(NULL, &snap), bt_session_restore(NULL, NULL),
        bt_session_save_state(NULL, "x"), bt_session_load_state(NULL, "x"),
        bt_sampler_new(NULL, &sp), bt_sampler_new(&smp, NULL), bt_sampler_sample(NULL, NULL, 3, NULL, 0, &id),
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof got / sizeof got[0]; i++) {
        if (got[i] != BT_ERR_ARG) {
            fprintf(stderr, "  call %zu gave %s\n", i, bt_status_name(got[i]));
            ok = 0;
        }
    }
    int session_ok = !bt_session_new(&s, m, NULL);
    const bt_status with_session[] = {
        bt_session_feed(s, NULL, 2), bt_session_feed_all(s, ids, 2, NULL), bt_session_set_sampling(s, NULL),
        bt_session_step(s, NULL), bt_session_step_budget(s, 1, NULL), bt_session_snapshot(s, NULL),
        bt_session_restore(s, NULL), bt_session_save_state(s, NULL), bt_session_load_state(s, NULL),
        bt_session_set_ttt_schedule_lua(s, NULL),
    };
    for (size_t i = 0; i < sizeof with_session / sizeof with_session[0]; i++) {
        if (with_session[i] != BT_ERR_ARG) {
            fprintf(stderr, "  session call %zu gave %s\n", i, bt_status_name(with_session[i]));
            ok = 0;
        }
    }
    bt_session_free(s);
    bt_model_free(m);
    /* NULL is fine for the frees and the queries */
    bt_model_free(NULL);
    bt_session_free(NULL);
    bt_text_stream_free(NULL);
    bt_sampler_free(NULL);
    bt_snapshot_free(NULL);
    BT_CHECK(bt_session_logits(NULL) == NULL && bt_session_position(NULL) == 0 && bt_model_layer_mixer(NULL, 0) == NULL,
             "NULL queries");
    BT_CHECK(session_ok, "session: %s", bt_last_error());
    BT_CHECK(ok, "NULL arguments must give BT_ERR_ARG");
}
