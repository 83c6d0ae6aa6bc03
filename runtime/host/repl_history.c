/* repl_history.c - loading and appending history files (see repl_history.h). */
#include "repl_history.h"
#include <stdio.h>
#include <stdlib.h>
#include "host_os.h"   /* bt_host_replace_file */
#include "read_line.h"

enum { HISTORY_KEEP = 1000 };   /* entries loaded; the file is trimmed to this past twice as many */

static void rewrite(const char *path, char **lines, int n) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return;
    FILE *f = fopen(tmp, "wb");
    if (!f) return;
    for (int i = 0; i < n; i++) fprintf(f, "%s\n", lines[i]);
    if (fclose(f) == 0) bt_host_replace_file(tmp, path);
    else remove(tmp);
}

void bt_repl_history_load(bt_line_editor *ed, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return;
    bt_line_editor all = {0};
    char *line;
    while ((line = bt_host_read_line(f))) {
        bt_line_history_push(&all, line);
        free(line);
    }
    fclose(f);
    int first = all.n_history > HISTORY_KEEP ? all.n_history - HISTORY_KEEP : 0;
    for (int i = first; i < all.n_history; i++) bt_line_history_push(ed, all.history[i]);
    if (all.n_history > 2 * HISTORY_KEEP) rewrite(path, all.history + first, all.n_history - first);
    bt_line_editor_free(&all);
}

void bt_repl_history_add(bt_line_editor *ed, const char *path, const char *line) {
    if (!bt_line_history_push(ed, line) || !path) return;
    FILE *f = fopen(path, "ab");
    if (!f) return;
    fprintf(f, "%s\n", line);
    fclose(f);
}
