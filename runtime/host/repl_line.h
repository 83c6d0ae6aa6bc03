/* repl_line.h - a small line editor for the REPL on a terminal: editing keys,
 * history (kept in memory; repl_history.c loads and appends the file) and tab
 * completion through a callback. Single-line display that scrolls sideways. */
#ifndef BT_REPL_LINE_H
#define BT_REPL_LINE_H
#include <stddef.h>

typedef enum bt_line_result {
    BT_LINE_OK,         /* a line was entered */
    BT_LINE_EOF,        /* Ctrl-D on an empty line, or input closed */
    BT_LINE_CANCELLED   /* Ctrl-C: the line was dropped */
} bt_line_result;

/* Completion of `before` (the text left of the cursor): returns `*n` malloc'd
 * candidates (in a malloc'd array) that replace before[*word_start ..]. */
typedef char **(*bt_line_complete_fn)(void *ctx, const char *before, size_t *word_start, int *n);

typedef struct bt_line_editor {
    char **history;            /* oldest first */
    int n_history, cap_history;
    bt_line_complete_fn complete;
    void *complete_ctx;
} bt_line_editor;

/* 1 when stdin and stdout are a terminal. */
int bt_line_editor_usable(void);

/* Reads one line (without its newline) into *line (malloc'd; the caller frees it)
 * showing `prompt` (ASCII). Where the terminal takes no raw mode (host_os.h:
 * Windows, TERM=dumb) it prints the prompt and reads the line as the terminal gives
 * it. Keys: arrows, Home/End, Backspace/Delete, Ctrl-A/E/B/F,
 * Ctrl-K/U/W, Ctrl-L, Ctrl-P/N (history), Tab (completion), Ctrl-C, Ctrl-D, Enter. */
bt_line_result bt_line_read(bt_line_editor *ed, const char *prompt, char **line);

/* Adds a line to the in-memory history (empty lines and repeats of the last are skipped);
 * returns 1 when it was added. */
int bt_line_history_push(bt_line_editor *ed, const char *line);

void bt_line_editor_free(bt_line_editor *ed);

#endif
