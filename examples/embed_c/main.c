/* embed_c - a game loop that streams a story from a language model while
 * keeping its frame rate: a fixed 60 Hz timestep, and each frame gives the
 * model at most a budget of milliseconds (bt_session_step_budget), so a token
 * that takes longer than a frame's budget is spread over several frames,
 * resumed between layers. At the end it prints per-frame work statistics.
 *
 *   embed_c [MODEL] [-p PROMPT] [-b BUDGET_MS] [-n TOKENS] [-f MAX_FRAMES] [-s SEED] [-z TOKENIZER] [--fast]
 *
 * MODEL defaults to the bundled model, found as bitttt-lua finds it: under $BITTTT_HOME,
 * else in models/ of the folder above this program's bin/ (the project, or an install's
 * share/bitttt). --fast skips sleeping to the next
 * frame (for tests); the work per frame is the same.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/bitttt.h"
#include "frame_clock.h"
#include "self_path.h"

#define FRAME_HZ 60

typedef struct options {
    const char *model, *prompt, *tokenizer;
    double budget_ms;
    int max_tokens, max_frames, fast;
    unsigned long long seed;
} options;

/* models/default.gguf under $BITTTT_HOME, else in the first folder above this program that
 * has one (bin/embed_c in the project, share/bitttt/bin/embed_c when installed). */
static const char *default_model(void) {
    static char path[PATH_MAX + 32];
    const char *home = getenv("BITTTT_HOME");
    if (home && *home) {
        snprintf(path, sizeof path, "%s/models/default.gguf", home);
        return path;
    }
    char dir[PATH_MAX];
    if (self_path(dir, sizeof dir) == 0) {
        for (char *sep; (sep = last_separator(dir)) != NULL;) {
            *sep = 0;
            snprintf(path, sizeof path, "%s/models/default.gguf", dir);
            FILE *f = fopen(path, "rb");
            if (f) { fclose(f); return path; }
        }
    }
    return "models/default.gguf";
}

static int parse_args(int argc, char **argv, options *o) {
    *o = (options){default_model(), "Once upon a time", NULL, 4.0, 120, 3600, 0, 42};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--fast")) { o->fast = 1; continue; }
        if (a[0] != '-') { o->model = a; continue; }
        if (!v) { fprintf(stderr, "embed_c: %s needs a value\n", a); return 0; }
        i++;
        if (!strcmp(a, "-p")) o->prompt = v;
        else if (!strcmp(a, "-b")) o->budget_ms = atof(v);
        else if (!strcmp(a, "-n")) o->max_tokens = atoi(v);
        else if (!strcmp(a, "-f")) o->max_frames = atoi(v);
        else if (!strcmp(a, "-s")) o->seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "-z")) o->tokenizer = v;
        else { fprintf(stderr, "embed_c: unknown option %s\n", a); return 0; }
    }
    return o->budget_ms > 0 && o->max_tokens > 0 && o->max_frames > 0;
}

static int compare_doubles(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean, 50th / 99th percentile and max of the frames' work, in ms. */
static void print_stats(double *work_ms, int frames, int tokens, double budget_ms, double seconds) {
    double sum = 0;
    for (int i = 0; i < frames; i++) sum += work_ms[i];
    qsort(work_ms, (size_t)frames, sizeof *work_ms, compare_doubles);
    const int p99 = (int)((frames - 1) * 0.99 + 0.5), p50 = (frames - 1) / 2;
    fprintf(stderr, "\nframes: %d at %d Hz, tokens: %d (%.1f tokens/s)\n", frames, FRAME_HZ, tokens,
            seconds > 0 ? tokens / seconds : 0.0);
    fprintf(stderr, "frame work ms: budget %.3f mean %.3f p50 %.3f p99 %.3f max %.3f\n", budget_ms,
            frames ? sum / frames : 0.0, work_ms[p50], work_ms[p99], work_ms[frames - 1]);
}

static int fail(const char *what) {
    fprintf(stderr, "embed_c: %s: %s\n", what, bt_last_error());
    return 1;
}

int main(int argc, char **argv) {
    options o;
    if (!parse_args(argc, argv, &o)) {
        fprintf(stderr, "usage: embed_c [MODEL] [-p PROMPT] [-b BUDGET_MS] [-n TOKENS] [-f MAX_FRAMES] [-s SEED] "
                        "[-z TOKENIZER] [--fast]\n");
        return 2;
    }
    bt_set_threads(1);   /* a game keeps its other cores; one thread makes frame times steady */
    bt_model_options mo = {.tokenizer_path = o.tokenizer};
    bt_model *model;
    if (bt_model_load(&model, o.model, &mo)) return fail("load");
    bt_session *s;
    bt_text_stream *out;
    bt_session_options so = {.n_ctx = 0};
    if (bt_session_new(&s, model, &so) || bt_text_stream_new(&out, model)) return fail("session");

    int32_t prompt[512];
    size_t n_prompt;
    bt_model_info info;
    bt_model_get_info(model, &info);
    if (bt_tokenize(model, o.prompt, strlen(o.prompt), info.add_bos ? BT_TOKENIZE_BOS : 0, prompt, 512, &n_prompt) ||
        bt_session_feed(s, prompt, n_prompt))
        return fail("prompt");
    bt_sampling sp;   /* what the model recommends (general.sampling.*), with our seed */
    if (bt_model_sampling(model, &sp)) return fail("sampling");
    sp.seed = o.seed;
    bt_session_set_sampling(s, &sp);
    char piece[256];
    size_t len;
    for (size_t i = 0; i < n_prompt; i++) {   /* echo the prompt as the stream renders it */
        if (!bt_text_stream_push(out, prompt[i], piece, sizeof piece, &len)) fwrite(piece, 1, len, stdout);
    }

    double *work_ms = calloc((size_t)o.max_frames, sizeof *work_ms);
    const double frame = 1.0 / FRAME_HZ, start = now_seconds();
    int frames = 0, tokens = 0, done = 0;
    while (frames < o.max_frames && !done) {
        const double t0 = now_seconds();
        int32_t id;
        if (bt_session_step_budget(s, o.budget_ms, &id)) return fail("step");
        work_ms[frames++] = (now_seconds() - t0) * 1000;   /* the model's share of this frame */
        if (id >= 0) {
            tokens++;
            if (bt_token_is_end(model, id)) done = 1;
            else if (!bt_text_stream_push(out, id, piece, sizeof piece, &len)) fwrite(piece, 1, len, stdout);
            fflush(stdout);
            if (tokens >= o.max_tokens || bt_session_position(s) + 1 >= bt_session_context(s)) done = 1;
        }
        /* ... the game would update and draw here ... */
        if (!o.fast) sleep_until(start + frames * frame);
    }
    if (!bt_text_stream_flush(out, piece, sizeof piece, &len)) fwrite(piece, 1, len, stdout);
    fputc('\n', stdout);
    print_stats(work_ms, frames, tokens, o.budget_ms, now_seconds() - start);
    free(work_ms);
    bt_text_stream_free(out);
    bt_session_free(s);
    bt_model_free(model);
    return 0;
}
