/* repl_history.h - history files: $XDG_STATE_HOME/bitttt/NAME (default
 * ~/.local/state/bitttt/NAME; the REPL's is "history", chat's "chat_history"), one
 * entry per line, appended as lines are entered so several sessions and abrupt
 * exits keep what was typed. */
#ifndef BT_REPL_HISTORY_H
#define BT_REPL_HISTORY_H
#include "repl_line.h"

/* Writes the path of history file `name` into out (creating its folder); returns 0 on success. */
int bt_repl_history_path(char *out, size_t cap, const char *name);

/* Loads the newest entries of the file into the editor's history (the file is
 * trimmed when it has grown well past the limit). */
void bt_repl_history_load(bt_line_editor *ed, const char *path);

/* Adds a line to the editor's history and appends it to the file. */
void bt_repl_history_add(bt_line_editor *ed, const char *path, const char *line);

#endif
