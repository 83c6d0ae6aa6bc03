/* os_posix.c - host_os.h for Linux and other POSIX systems. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "host_os.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

void bt_host_os_init(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
}

/* ---- the terminal ---- */

int bt_host_is_terminal(void) { return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO); }

int bt_host_raw_usable(void) {
    const char *term = getenv("TERM");
    return bt_host_is_terminal() && !(term && strcmp(term, "dumb") == 0);
}

static struct termios cooked;   /* the terminal's settings outside raw mode */

/* Output processing stays on; TCSADRAIN keeps type-ahead. */
int bt_host_raw_begin(void) {
    if (tcgetattr(STDIN_FILENO, &cooked) != 0) return -1;
    struct termios raw = cooked;
    raw.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
    raw.c_cflag |= CS8;
    raw.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    return tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
}

void bt_host_raw_end(void) { tcsetattr(STDIN_FILENO, TCSADRAIN, &cooked); }

int bt_host_term_read_byte(void) {
    unsigned char c;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n == 1) return c;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}

void bt_host_term_write(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

int bt_host_term_columns(void) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

const char *bt_host_end_of_input_keys(void) { return "Ctrl-D"; }

/* ---- Ctrl-C ---- */

_Static_assert(sizeof(struct sigaction) <= sizeof(bt_host_ctrl_c_saved), "bt_host_ctrl_c_saved holds a struct sigaction");

/* No SA_RESTART: a script blocked in io.read sees the interrupt. */
void bt_host_on_ctrl_c(void (*handler)(int), bt_host_ctrl_c_saved *saved) {
    struct sigaction sa, previous;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &previous);
    memcpy(saved, &previous, sizeof previous);
}

void bt_host_restore_ctrl_c(const bt_host_ctrl_c_saved *saved) {
    struct sigaction previous;
    memcpy(&previous, saved, sizeof previous);
    sigaction(SIGINT, &previous, NULL);
}

/* ---- files ---- */

int bt_host_exe_path(char *out, size_t cap) {
    if (cap < 2) return -1;
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0) return -1;
    out[n] = 0;
    return 0;
}

const char *bt_host_last_separator(const char *path) { return strrchr(path, '/'); }

int bt_host_readable_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

int bt_host_real_path(const char *path, char *out, size_t cap) {
    char *real = realpath(path, NULL);
    if (!real) return -1;
    int n = snprintf(out, cap, "%s", real);
    free(real);
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}

int bt_host_replace_file(const char *from, const char *to) { return rename(from, to); }

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

int bt_host_state_path(char *out, size_t cap, const char *name) {
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (state && state[0] == '/') n = snprintf(out, cap, "%s/bitttt/%s", state, name);
    else if (home && *home) n = snprintf(out, cap, "%s/.local/state/bitttt/%s", home, name);
    else return -1;
    if (n < 0 || (size_t)n >= cap) return -1;
    return make_parent_dirs(out);
}
