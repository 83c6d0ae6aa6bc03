/* repl_history.h - history files (their path: host_os.h, bt_host_state_path; the
 * REPL's is "history", chat's "chat_history"), one entry per line, appended as lines
 * are entered so several sessions and abrupt exits keep what was typed. */
#ifndef BT_REPL_HISTORY_H
#define BT_REPL_HISTORY_H
#include "repl_line.h"

/* Loads the newest entries of the file into the editor's history (the file is
 * trimmed when it has grown well past the limit). */
void bt_repl_history_load(bt_line_editor *ed, const char *path);

/* Adds a line to the editor's history and appends it to the file. */
void bt_repl_history_add(bt_line_editor *ed, const char *path, const char *line);

#endif
