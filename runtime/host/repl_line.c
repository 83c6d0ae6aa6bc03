/* repl_line.c - the REPL's line editor (see repl_line.h): the terminal in raw
 * mode while a line is read (host_os.h), the edit buffer, keys, completion and
 * redrawing. */
#include "repl_line.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host_os.h"
#include "read_line.h"

enum { KEY_CTRL_A = 1, KEY_CTRL_B = 2, KEY_CTRL_C = 3, KEY_CTRL_D = 4, KEY_CTRL_E = 5, KEY_CTRL_F = 6,
       KEY_CTRL_H = 8, KEY_TAB = 9, KEY_LF = 10, KEY_CTRL_K = 11, KEY_CTRL_L = 12, KEY_CR = 13,
       KEY_CTRL_N = 14, KEY_CTRL_P = 16, KEY_CTRL_U = 21, KEY_CTRL_W = 23, KEY_ESC = 27, KEY_BACKSPACE = 127,
       /* escape sequences, decoded */
       KEY_UP = 1000, KEY_DOWN, KEY_LEFT, KEY_RIGHT, KEY_HOME, KEY_END, KEY_DELETE, KEY_NONE };

/* The line being edited. */
typedef struct {
    char *buf;          /* NUL-terminated */
    size_t len, cap, pos;
    const char *prompt;
    int history_at;     /* index into history; n_history = the new line */
    char *saved;        /* the new line while browsing history */
} edit_state;

int bt_line_editor_usable(void) { return bt_host_is_terminal(); }

static void write_str(const char *s) { bt_host_term_write(s, strlen(s)); }

/* A key: a byte, or one of the decoded escape sequences (ESC [ x, ESC [ n ~, ESC O x). */
static int read_key(void) {
    int c = bt_host_term_read_byte();
    if (c != KEY_ESC) return c;
    int kind = bt_host_term_read_byte();
    int code = bt_host_term_read_byte();
    if (kind == '[' && code >= '0' && code <= '9') {
        int tilde = bt_host_term_read_byte();
        if (tilde != '~') return KEY_NONE;
        switch (code) {
        case '1': case '7': return KEY_HOME;
        case '4': case '8': return KEY_END;
        case '3': return KEY_DELETE;
        default: return KEY_NONE;
        }
    }
    if (kind != '[' && kind != 'O') return KEY_NONE;
    switch (code) {
    case 'A': return KEY_UP;
    case 'B': return KEY_DOWN;
    case 'C': return KEY_RIGHT;
    case 'D': return KEY_LEFT;
    case 'H': return KEY_HOME;
    case 'F': return KEY_END;
    default: return KEY_NONE;
    }
}

/* ---- the buffer (bytes; the cursor moves by whole UTF-8 characters) ---- */

static int is_continuation(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

static size_t columns_of(const char *s, size_t n) {
    size_t cols = 0;
    for (size_t i = 0; i < n; i++) cols += !is_continuation(s[i]);
    return cols;
}

static size_t next_char(const edit_state *s, size_t at) {
    if (at < s->len) at++;
    while (at < s->len && is_continuation(s->buf[at])) at++;
    return at;
}

static size_t prev_char(const edit_state *s, size_t at) {
    if (at > 0) at--;
    while (at > 0 && is_continuation(s->buf[at])) at--;
    return at;
}

static int reserve(edit_state *s, size_t extra) {
    if (s->len + extra + 1 <= s->cap) return 0;
    size_t cap = (s->len + extra + 1) * 2;
    char *p = realloc(s->buf, cap);
    if (!p) return -1;
    s->buf = p;
    s->cap = cap;
    return 0;
}

static void insert(edit_state *s, const char *text, size_t n) {
    if (reserve(s, n) != 0) return;
    memmove(s->buf + s->pos + n, s->buf + s->pos, s->len - s->pos + 1);
    memcpy(s->buf + s->pos, text, n);
    s->len += n;
    s->pos += n;
}

/* Removes buf[from, to). */
static void erase(edit_state *s, size_t from, size_t to) {
    memmove(s->buf + from, s->buf + to, s->len - to + 1);
    s->len -= to - from;
    if (s->pos >= to) s->pos -= to - from;
    else if (s->pos > from) s->pos = from;
}

static void set_text(edit_state *s, const char *text) {
    s->len = s->pos = 0;
    s->buf[0] = 0;
    insert(s, text, strlen(text));
}

/* ---- display ---- */

/* Redraws the prompt and the part of the line around the cursor that fits the terminal. */
static void refresh(const edit_state *s) {
    size_t room = (size_t)bt_host_term_columns();
    size_t prompt_cols = strlen(s->prompt);
    room = room > prompt_cols + 1 ? room - prompt_cols - 1 : 1;
    size_t start = 0;
    while (columns_of(s->buf + start, s->pos - start) >= room) start = next_char(s, start);
    size_t end = start;
    while (end < s->len && columns_of(s->buf + start, next_char(s, end) - start) <= room) end = next_char(s, end);
    size_t cursor_col = prompt_cols + columns_of(s->buf + start, s->pos - start);
    char move[32];
    snprintf(move, sizeof move, "\r\x1b[%zuC", cursor_col);
    write_str("\r");
    write_str(s->prompt);
    bt_host_term_write(s->buf + start, end - start);
    write_str("\x1b[0K");
    write_str(cursor_col > 0 ? move : "\r");
}

/* Candidates in columns below the line, then the line again. */
static void show_candidates(const edit_state *s, char **cands, int n) {
    size_t width = 0;
    for (int i = 0; i < n; i++) width = strlen(cands[i]) > width ? strlen(cands[i]) : width;
    width += 2;
    int per_row = (int)((size_t)bt_host_term_columns() / width);
    if (per_row < 1) per_row = 1;
    write_str("\r\n");
    for (int i = 0; i < n; i++) {
        write_str(cands[i]);
        if ((i + 1) % per_row == 0 || i + 1 == n) write_str("\r\n");
        else for (size_t pad = strlen(cands[i]); pad < width; pad++) write_str(" ");
    }
    refresh(s);
}

/* ---- keys with more to them ---- */

static void complete(bt_line_editor *ed, edit_state *s) {
    if (!ed->complete) return;
    char *before = malloc(s->pos + 1);
    if (!before) return;
    memcpy(before, s->buf, s->pos);
    before[s->pos] = 0;
    size_t word_start = s->pos;
    int n = 0;
    char **cands = ed->complete(ed->complete_ctx, before, &word_start, &n);
    free(before);
    if (word_start > s->pos) word_start = s->pos;
    if (n == 0) write_str("\a");
    else {
        size_t common = strlen(cands[0]);
        for (int i = 1; i < n; i++) {
            size_t j = 0;
            while (j < common && cands[i][j] == cands[0][j]) j++;
            common = j;
        }
        size_t word_len = s->pos - word_start;
        if (common > word_len || (common == word_len && strncmp(cands[0], s->buf + word_start, common) != 0)) {
            erase(s, word_start, s->pos);
            insert(s, cands[0], common);
            refresh(s);
        } else if (n > 1) {
            show_candidates(s, cands, n);
        }
    }
    for (int i = 0; i < n; i++) free(cands[i]);
    free(cands);
}

static void browse_history(bt_line_editor *ed, edit_state *s, int step) {
    int to = s->history_at + step;
    if (to < 0 || to > ed->n_history) return;
    if (s->history_at == ed->n_history) {
        free(s->saved);
        s->saved = strdup(s->buf);
    }
    s->history_at = to;
    set_text(s, to == ed->n_history ? (s->saved ? s->saved : "") : ed->history[to]);
    refresh(s);
}

/* Applies one key; returns -1 to keep editing, else the line's result. */
static int handle_key(bt_line_editor *ed, edit_state *s, int key) {
    switch (key) {
    case KEY_CR: case KEY_LF: write_str("\r\n"); return BT_LINE_OK;
    case KEY_CTRL_C: write_str("^C\r\n"); return BT_LINE_CANCELLED;
    case -1: write_str("\r\n"); return BT_LINE_EOF;
    case KEY_CTRL_D:
        if (s->len == 0) { write_str("\r\n"); return BT_LINE_EOF; }
        __attribute__((fallthrough));   /* else delete under the cursor */
    case KEY_DELETE: if (s->pos < s->len) erase(s, s->pos, next_char(s, s->pos)); break;
    case KEY_BACKSPACE: case KEY_CTRL_H: if (s->pos > 0) erase(s, prev_char(s, s->pos), s->pos); break;
    case KEY_LEFT: case KEY_CTRL_B: s->pos = prev_char(s, s->pos); break;
    case KEY_RIGHT: case KEY_CTRL_F: s->pos = next_char(s, s->pos); break;
    case KEY_HOME: case KEY_CTRL_A: s->pos = 0; break;
    case KEY_END: case KEY_CTRL_E: s->pos = s->len; break;
    case KEY_CTRL_K: erase(s, s->pos, s->len); break;
    case KEY_CTRL_U: erase(s, 0, s->pos); break;
    case KEY_CTRL_W: {
        size_t from = s->pos;
        while (from > 0 && s->buf[from - 1] == ' ') from--;
        while (from > 0 && s->buf[from - 1] != ' ') from--;
        erase(s, from, s->pos);
        break;
    }
    case KEY_CTRL_L: write_str("\x1b[H\x1b[2J"); break;
    case KEY_UP: case KEY_CTRL_P: browse_history(ed, s, -1); return -1;
    case KEY_DOWN: case KEY_CTRL_N: browse_history(ed, s, +1); return -1;
    case KEY_TAB: complete(ed, s); return -1;
    default:
        if (key >= 32 && key < 256) {
            char c = (char)key;
            insert(s, &c, 1);
        }
        break;
    }
    refresh(s);
    return -1;
}

static volatile sig_atomic_t ctrl_c_at_prompt;
static void on_ctrl_c_at_prompt(int sig) {
    (void)sig;
    ctrl_c_at_prompt = 1;
}

/* A terminal without raw mode: the prompt, then the line as the terminal gives it. Ctrl-C
 * ends the read (Windows' console, or EINTR) and drops the line, as in the editor. */
static bt_line_result read_whole_line(const char *prompt, char **line) {
    bt_host_ctrl_c_saved saved;
    ctrl_c_at_prompt = 0;
    bt_host_on_ctrl_c(on_ctrl_c_at_prompt, &saved);
    fputs(prompt, stdout);
    fflush(stdout);
    *line = bt_host_read_line(stdin);
    bt_host_restore_ctrl_c(&saved);
    if (*line) return BT_LINE_OK;
    if (!ctrl_c_at_prompt) return BT_LINE_EOF;
    clearerr(stdin);
    fputs("\n", stdout);
    return BT_LINE_CANCELLED;
}

bt_line_result bt_line_read(bt_line_editor *ed, const char *prompt, char **line) {
    *line = NULL;
    if (!bt_host_raw_usable()) return read_whole_line(prompt, line);
    edit_state s = {.buf = malloc(128), .cap = 128, .prompt = prompt, .history_at = ed->n_history};
    if (!s.buf) return BT_LINE_EOF;
    s.buf[0] = 0;
    if (bt_host_raw_begin() != 0) { free(s.buf); return BT_LINE_EOF; }
    write_str(prompt);
    int result;
    while ((result = handle_key(ed, &s, read_key())) < 0) {}
    bt_host_raw_end();
    free(s.saved);
    if (result == BT_LINE_OK) *line = s.buf;
    else free(s.buf);
    return (bt_line_result)result;
}

int bt_line_history_push(bt_line_editor *ed, const char *line) {
    if (!*line || (ed->n_history > 0 && strcmp(ed->history[ed->n_history - 1], line) == 0)) return 0;
    if (ed->n_history == ed->cap_history) {
        int cap = ed->cap_history ? ed->cap_history * 2 : 64;
        char **h = realloc(ed->history, (size_t)cap * sizeof *h);
        if (!h) return 0;
        ed->history = h;
        ed->cap_history = cap;
    }
    char *copy = strdup(line);
    if (!copy) return 0;
    ed->history[ed->n_history++] = copy;
    return 1;
}

void bt_line_editor_free(bt_line_editor *ed) {
    for (int i = 0; i < ed->n_history; i++) free(ed->history[i]);
    free(ed->history);
    ed->history = NULL;
    ed->n_history = ed->cap_history = 0;
}
