/* repl_history.c - loading and appending history files (see repl_history.h). */
#include "repl_history.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { HISTORY_KEEP = 1000 };   /* entries loaded; the file is trimmed to this past twice as many */

/* mkdir -p for the folders of `path` (not its last component). */
static int make_parent_dirs(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

int bt_repl_history_path(char *out, size_t cap, const char *name) {
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (state && state[0] == '/') n = snprintf(out, cap, "%s/bitttt/%s", state, name);
    else if (home && *home) n = snprintf(out, cap, "%s/.local/state/bitttt/%s", home, name);
    else return -1;
    if (n < 0 || (size_t)n >= cap) return -1;
    return make_parent_dirs(out);
}

static void rewrite(const char *path, char **lines, int n) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return;
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    for (int i = 0; i < n; i++) fprintf(f, "%s\n", lines[i]);
    if (fclose(f) == 0) rename(tmp, path);
    else remove(tmp);
}

void bt_repl_history_load(bt_line_editor *ed, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    bt_line_editor all = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
        bt_line_history_push(&all, line);
    }
    free(line);
    fclose(f);
    int first = all.n_history > HISTORY_KEEP ? all.n_history - HISTORY_KEEP : 0;
    for (int i = first; i < all.n_history; i++) bt_line_history_push(ed, all.history[i]);
    if (all.n_history > 2 * HISTORY_KEEP) rewrite(path, all.history + first, all.n_history - first);
    bt_line_editor_free(&all);
}

void bt_repl_history_add(bt_line_editor *ed, const char *path, const char *line) {
    if (!bt_line_history_push(ed, line) || !path) return;
    FILE *f = fopen(path, "a");
    if (!f) return;
    fprintf(f, "%s\n", line);
    fclose(f);
}
