/* os_windows.c - host_os.h for Windows (MinGW-w64, clang-cl). The REPL has no raw
 * mode here: on a console it reads whole lines as the console's own line input gives
 * them (editing keys, F7 history of the session), and history goes to
 * %LOCALAPPDATA%\bitttt-lua\. */
#define WIN32_LEAN_AND_MEAN
#include "host_os.h"
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <shellapi.h>

static int widen(const char *utf8, wchar_t *out, int cap) {
    return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, out, cap) > 0;
}

static int narrow(const wchar_t *wide, char *out, size_t cap) {
    return WideCharToMultiByte(CP_UTF8, 0, wide, -1, out, (int)(cap < INT_MAX ? cap : INT_MAX), NULL, NULL) > 0;
}

/* The wide command line as UTF-8 arguments (kept for the process's life). */
void bt_host_os_init(int *argc, char ***argv) {
    SetConsoleOutputCP(CP_UTF8);
    SetConsoleCP(CP_UTF8);
    int n;
    wchar_t **wide = CommandLineToArgvW(GetCommandLineW(), &n);
    if (!wide) return;
    char **utf8 = calloc((size_t)n + 1, sizeof *utf8);
    for (int i = 0; utf8 && i < n; i++) {
        int size = WideCharToMultiByte(CP_UTF8, 0, wide[i], -1, NULL, 0, NULL, NULL);
        if (size <= 0 || !(utf8[i] = malloc((size_t)size))) { utf8 = NULL; break; }   /* keep the C runtime's */
        WideCharToMultiByte(CP_UTF8, 0, wide[i], -1, utf8[i], size, NULL, NULL);
    }
    LocalFree(wide);
    if (!utf8) return;
    *argc = n;
    *argv = utf8;
}

/* ---- the terminal ---- */

static int is_console(DWORD which) {
    DWORD mode;
    return GetConsoleMode(GetStdHandle(which), &mode) != 0;
}

int bt_host_is_terminal(void) { return is_console(STD_INPUT_HANDLE) && is_console(STD_OUTPUT_HANDLE); }

/* No raw mode: bt_line_read reads whole lines instead, so the raw-mode calls below are
 * never made; they keep repl_line.c linking. */
int bt_host_raw_usable(void) { return 0; }
int bt_host_raw_begin(void) { return -1; }
void bt_host_raw_end(void) {}
int bt_host_term_read_byte(void) { return -1; }
void bt_host_term_write(const char *s, size_t n) { fwrite(s, 1, n, stdout); }
int bt_host_term_columns(void) { return 80; }

const char *bt_host_end_of_input_keys(void) { return "Ctrl-Z then Enter"; }

/* ---- Ctrl-C ---- */

/* The C runtime runs a SIGINT handler on a thread of its own and resets it to SIG_DFL
 * first: the trampoline puts itself back, then calls the handler asked for. */
static void (*volatile ctrl_c_handler)(int);

static void ctrl_c_trampoline(int sig) {
    signal(SIGINT, ctrl_c_trampoline);
    ctrl_c_handler(sig);
}

typedef struct {
    void (*installed)(int);   /* what signal() had */
    void (*handler)(int);     /* the trampoline's target then */
} saved_handlers;
_Static_assert(sizeof(saved_handlers) <= sizeof(bt_host_ctrl_c_saved), "bt_host_ctrl_c_saved holds two pointers");

void bt_host_on_ctrl_c(void (*handler)(int), bt_host_ctrl_c_saved *saved) {
    saved_handlers previous = {.handler = ctrl_c_handler};
    ctrl_c_handler = handler;
    previous.installed = signal(SIGINT, ctrl_c_trampoline);
    memcpy(saved, &previous, sizeof previous);
}

void bt_host_restore_ctrl_c(const bt_host_ctrl_c_saved *saved) {
    saved_handlers previous;
    memcpy(&previous, saved, sizeof previous);
    ctrl_c_handler = previous.handler;
    signal(SIGINT, previous.installed);
}

/* ---- files ---- */

int bt_host_exe_path(char *out, size_t cap) {
    wchar_t wide[BT_HOST_PATH_MAX];
    DWORD n = GetModuleFileNameW(NULL, wide, BT_HOST_PATH_MAX);
    return n > 0 && n < BT_HOST_PATH_MAX && narrow(wide, out, cap) ? 0 : -1;
}

const char *bt_host_last_separator(const char *path) {
    const char *slash = strrchr(path, '/'), *backslash = strrchr(path, '\\');
    if (!slash || (backslash && backslash > slash)) return backslash;
    return slash;
}

/* A disk file (not a folder, a pipe or a device such as NUL) that opens for reading. */
int bt_host_readable_file(const char *path) {
    wchar_t wide[BT_HOST_PATH_MAX];
    if (!widen(path, wide, BT_HOST_PATH_MAX)) return 0;
    HANDLE h = CreateFileW(wide, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) return 0;
    int disk = GetFileType(h) == FILE_TYPE_DISK;
    CloseHandle(h);
    return disk;
}

/* The full path (links are not followed: the host only compares paths it built itself). */
int bt_host_real_path(const char *path, char *out, size_t cap) {
    wchar_t wide[BT_HOST_PATH_MAX], full[BT_HOST_PATH_MAX];
    if (!widen(path, wide, BT_HOST_PATH_MAX)) return -1;
    DWORD n = GetFullPathNameW(wide, BT_HOST_PATH_MAX, full, NULL);
    if (n == 0 || n >= BT_HOST_PATH_MAX || !narrow(full, out, cap)) return -1;
    for (char *p = out; *p; p++)
        if (*p == '\\') *p = '/';
    return 0;
}

int bt_host_replace_file(const char *from, const char *to) {
    wchar_t wide_from[BT_HOST_PATH_MAX], wide_to[BT_HOST_PATH_MAX];
    if (!widen(from, wide_from, BT_HOST_PATH_MAX) || !widen(to, wide_to, BT_HOST_PATH_MAX)) return -1;
    return MoveFileExW(wide_from, wide_to, MOVEFILE_REPLACE_EXISTING) ? 0 : -1;
}

int bt_host_state_path(char *out, size_t cap, const char *name) {
    const wchar_t *local = _wgetenv(L"LOCALAPPDATA");
    wchar_t folder[BT_HOST_PATH_MAX];
    if (!local || !*local) return -1;
    int n = _snwprintf(folder, BT_HOST_PATH_MAX, L"%ls\\bitttt-lua", local);
    if (n < 0 || n >= BT_HOST_PATH_MAX) return -1;
    if (!CreateDirectoryW(folder, NULL) && GetLastError() != ERROR_ALREADY_EXISTS) return -1;
    char dir[BT_HOST_PATH_MAX];
    if (!narrow(folder, dir, sizeof dir)) return -1;
    n = snprintf(out, cap, "%s\\%s", dir, name);
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}
