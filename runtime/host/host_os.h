/* host_os.h - the OS services of the bitttt-lua executable (the host's part of the
 * platform layer; the library's is runtime/platform/): the terminal, Ctrl-C, the
 * executable's path, file names and the history folder. One implementation per OS,
 * chosen by the build: os_posix.c or os_windows.c. No other host file calls an
 * OS-specific API (scripts/check-portable.sh). Paths are UTF-8. */
#ifndef BT_HOST_OS_H
#define BT_HOST_OS_H
#include <stddef.h>

enum { BT_HOST_PATH_MAX = 4096 };   /* the host's path buffers (PATH_MAX is not portable) */

/* Windows: the console reads and writes UTF-8 and argv becomes UTF-8 (from the
 * wide command line). Elsewhere nothing. Call first in main. */
void bt_host_os_init(int *argc, char ***argv);

/* ---- the terminal ---- */

/* 1 when stdin and stdout are both a terminal (Windows: a console). */
int bt_host_is_terminal(void);

/* 1 when the REPL's own line editor (repl_line.c) can run: a terminal that takes raw
 * mode and VT100 keys (POSIX: TERM is not "dumb"). Windows: 0; the REPL then reads
 * the console's lines as they are entered (its own editing and F7 history). */
int bt_host_raw_usable(void);

/* Raw input (no echo, no line buffering, Ctrl-C as a key) until raw_end; 0 on success. */
int bt_host_raw_begin(void);
void bt_host_raw_end(void);
int bt_host_term_read_byte(void);                    /* -1 at the end of input */
void bt_host_term_write(const char *s, size_t n);    /* to stdout, unbuffered */
int bt_host_term_columns(void);                      /* 80 when unknown */
/* The keys that end a terminal's input, for messages: "Ctrl-D", "Ctrl-Z then Enter". */
const char *bt_host_end_of_input_keys(void);

/* ---- Ctrl-C ---- */

/* The handler that bt_host_on_ctrl_c replaced, for bt_host_restore_ctrl_c. */
typedef struct bt_host_ctrl_c_saved {
    void *opaque[24];   /* a struct sigaction fits (152 bytes on x86-64 glibc) */
} bt_host_ctrl_c_saved;

/* Calls handler on Ctrl-C (SIGINT). POSIX: in signal context, and a blocking read is
 * not restarted. Windows: on the console's own thread, as the C runtime does it. */
void bt_host_on_ctrl_c(void (*handler)(int), bt_host_ctrl_c_saved *saved);
void bt_host_restore_ctrl_c(const bt_host_ctrl_c_saved *saved);

/* ---- files ---- */

/* This executable's path; 0 on success. */
int bt_host_exe_path(char *out, size_t cap);
/* The last directory separator in path ('/'; on Windows '\\' too), or NULL. */
const char *bt_host_last_separator(const char *path);
/* 1 when path is a readable regular file (a FIFO would block a load). */
int bt_host_readable_file(const char *path);
/* The absolute path with links resolved, separators written '/'; 0 on success. */
int bt_host_real_path(const char *path, char *out, size_t cap);
/* Renames from over to (which may exist); 0 on success. */
int bt_host_replace_file(const char *from, const char *to);

/* The path of the per-user state file `name`, creating its folder; 0 on success.
 * POSIX: $XDG_STATE_HOME/bitttt/NAME, default ~/.local/state/bitttt/NAME.
 * Windows: %LOCALAPPDATA%\bitttt-lua\NAME. */
int bt_host_state_path(char *out, size_t cap, const char *name);

#endif
