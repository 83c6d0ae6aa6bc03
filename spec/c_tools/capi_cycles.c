/* capi_cycles.c - N load/use/free cycles of a model through the C API, then a
 * check that no mapping of the model file is left (/proc/self/maps). Run by
 * spec/capi_leaks_spec.lua under the ASan build with LeakSanitizer on, which
 * reports any allocation still held at exit.
 *
 *   capi-cycles N MODEL [TOKENIZER]
 * Prints "mapped while loaded: M" (the check would see a mapping: M > 0) and
 * "cycles: N, mappings left: K"; exits 0 when every call succeeded and K is 0. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/bitttt.h"

/* Lines of /proc/self/maps that name a file under `path` (a file, or a folder's files). */
static int mappings_of(const char *path) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    char line[4096];
    int n = 0;
    size_t len = strlen(path);
    while (fgets(line, sizeof line, f)) {
        const char *name = strchr(line, '/');
        if (name && strncmp(name, path, len) == 0) n++;
    }
    fclose(f);
    return n;
}

/* Load, a session, a prompt and two sampled tokens, a snapshot, free everything. */
static bt_status cycle(const char *path, const char *tokenizer) {
    bt_model_options o = {.tokenizer_path = tokenizer};
    bt_model *m = NULL;
    bt_session *s = NULL;
    bt_snapshot *snap = NULL;
    const int32_t prompt[3] = {1, 72, 101};
    int32_t id;
    bt_status st = bt_model_load(&m, path, &o);
    if (!st) st = bt_session_new(&s, m, &(bt_session_options){.n_ctx = 16});
    if (!st) st = bt_session_feed(s, prompt, 3);
    if (!st) st = bt_session_step(s, &id);
    if (!st) st = bt_session_snapshot(s, &snap);
    if (!st) st = bt_session_step(s, &id);
    bt_snapshot_free(snap);
    bt_session_free(s);
    bt_model_free(m);
    return st;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: capi-cycles N MODEL [TOKENIZER]\n"); return 2; }
    int n = atoi(argv[1]);
    char path[PATH_MAX];   /* /proc/self/maps names files by their canonical path */
    if (!realpath(argv[2], path)) { perror(argv[2]); return 2; }
    bt_set_threads(1);
    bt_model *m = NULL;
    if (bt_model_load(&m, path, &(bt_model_options){.tokenizer_path = argc > 3 ? argv[3] : NULL})) {
        fprintf(stderr, "%s\n", bt_last_error());
        return 1;
    }
    printf("mapped while loaded: %d\n", mappings_of(path));
    bt_model_free(m);
    for (int i = 0; i < n; i++) {
        if (cycle(path, argc > 3 ? argv[3] : NULL) != BT_OK) {
            fprintf(stderr, "cycle %d: %s\n", i + 1, bt_last_error());
            return 1;
        }
    }
    int left = mappings_of(path);
    printf("cycles: %d, mappings left: %d\n", n, left);
    return left == 0 ? 0 : 1;
}
