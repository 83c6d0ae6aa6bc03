/* self_path.c - self_path.h on Linux and on Windows. */
#include "self_path.h"
#include <string.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

int self_path(char *out, size_t size) {
    DWORD n = GetModuleFileNameA(NULL, out, (DWORD)size);
    return n > 0 && n < size ? 0 : -1;   /* n == size: truncated */
}

char *last_separator(char *path) {
    char *slash = strrchr(path, '/'), *backslash = strrchr(path, '\\');
    if (!slash || !backslash) return slash ? slash : backslash;
    return slash > backslash ? slash : backslash;
}

#else
#include <unistd.h>

int self_path(char *out, size_t size) {
    ssize_t n = readlink("/proc/self/exe", out, size - 1);
    if (n <= 0) return -1;
    out[n] = 0;
    return 0;
}

char *last_separator(char *path) { return strrchr(path, '/'); }
#endif
