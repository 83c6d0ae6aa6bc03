/* test_platform.c - test_platform.h on POSIX systems and on Windows. */
#include "test_platform.h"
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

static void temp_folder(char *out, size_t cap) {
    char buf[MAX_PATH + 1];
    DWORD n = GetTempPathA(sizeof buf, buf);
    if (n == 0 || n > MAX_PATH) strcpy(buf, ".\\");
    snprintf(out, cap, "%s", buf);
}

/* "<temp><stem>-<pid><counter>": unique in this process, and CREATE_NEW / CreateDirectory
 * fail rather than reuse an existing name, so a clash only costs another try. */
static int next_name(char *out, size_t cap, const char *stem) {
    static volatile LONG counter;
    char dir[MAX_PATH + 1];
    temp_folder(dir, sizeof dir);
    int n = snprintf(out, cap, "%s%s-%lu-%ld", dir, stem, GetCurrentProcessId(), InterlockedIncrement(&counter));
    return n > 0 && (size_t)n < cap;
}

int bt_test_temp_dir(char *out, size_t cap, const char *stem) {
    for (int tries = 0; tries < 100; tries++)
        if (next_name(out, cap, stem) && CreateDirectoryA(out, NULL)) return 1;
    return 0;
}

void bt_test_remove_dir(const char *dir) {
    char pattern[MAX_PATH + 8], path[2 * MAX_PATH];
    snprintf(pattern, sizeof pattern, "%s\\*", dir);
    WIN32_FIND_DATAA e;
    HANDLE h = FindFirstFileA(pattern, &e);
    if (h != INVALID_HANDLE_VALUE) {
        do {
            if (e.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) continue;
            snprintf(path, sizeof path, "%s\\%s", dir, e.cFileName);
            DeleteFileA(path);
        } while (FindNextFileA(h, &e));
        FindClose(h);
    }
    RemoveDirectoryA(dir);
}

FILE *bt_test_temp_file(char *out, size_t cap, const char *stem) {
    for (int tries = 0; tries < 100; tries++) {
        if (!next_name(out, cap, stem)) return NULL;
        HANDLE h = CreateFileA(out, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
        if (h == INVALID_HANDLE_VALUE) continue;
        CloseHandle(h);
        return fopen(out, "wb");
    }
    return NULL;
}

#else
#include <dirent.h>
#include <unistd.h>

static const char *temp_folder(void) {
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

int bt_test_temp_dir(char *out, size_t cap, const char *stem) {
    int n = snprintf(out, cap, "%s/%s-XXXXXX", temp_folder(), stem);
    return n > 0 && (size_t)n < cap && mkdtemp(out) != NULL;
}

void bt_test_remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

FILE *bt_test_temp_file(char *out, size_t cap, const char *stem) {
    int n = snprintf(out, cap, "%s/%s-XXXXXX", temp_folder(), stem);
    if (n <= 0 || (size_t)n >= cap) return NULL;
    int fd = mkstemp(out);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "wb");
    if (!f) close(fd);
    return f;
}
#endif
