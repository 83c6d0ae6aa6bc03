/* windows.c - platform.h for Windows (MinGW-w64, clang-cl). */
#define WIN32_LEAN_AND_MEAN
#include "platform.h"
#include "platform_os.h"
#include <malloc.h>
#include <windows.h>
#include <psapi.h>

/* Paths are UTF-8 (what the rest of the runtime and Lua use); Windows wants UTF-16.
 * NULL when out of memory or not UTF-8; free() the result. */
static wchar_t *wide_path(const char *path) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (n <= 0) return NULL;
    wchar_t *wide = malloc((size_t)n * sizeof *wide);
    if (wide) MultiByteToWideChar(CP_UTF8, 0, path, -1, wide, n);
    return wide;
}

/* access 0 opens for a look at the kind only; FILE_FLAG_BACKUP_SEMANTICS opens folders too */
static HANDLE open_utf8(const char *path, DWORD access, DWORD flags) {
    wchar_t *wide = wide_path(path);
    if (!wide) return INVALID_HANDLE_VALUE;
    HANDLE h = CreateFileW(wide, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           OPEN_EXISTING, flags, NULL);
    free(wide);
    return h;
}

bt_status bt_map_file(bt_mapped_file *out, const char *path) {
    out->data = NULL;
    out->size = 0;
    HANDLE file = open_utf8(path, GENERIC_READ, FILE_ATTRIBUTE_NORMAL);
    if (file == INVALID_HANDLE_VALUE) return bt_set_error(BT_ERR_IO, "%s: cannot open (Windows error %lu)", path, GetLastError());
    LARGE_INTEGER size;
    if (GetFileType(file) != FILE_TYPE_DISK || !GetFileSizeEx(file, &size)) {
        CloseHandle(file);
        return bt_set_error(BT_ERR_IO, "%s: not a regular file", path);
    }
    if (size.QuadPart == 0) {   /* a mapping of 0 bytes fails; an empty file is a valid (empty) map */
        CloseHandle(file);
        out->data = (const uint8_t *)"";
        return BT_OK;
    }
    HANDLE mapping = CreateFileMappingW(file, NULL, PAGE_READONLY, 0, 0, NULL);
    CloseHandle(file);   /* the mapping keeps the file open */
    if (!mapping) return bt_set_error(BT_ERR_IO, "%s: CreateFileMapping failed (Windows error %lu)", path, GetLastError());
    void *p = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
    CloseHandle(mapping);   /* the view keeps the mapping */
    if (!p) return bt_set_error(BT_ERR_IO, "%s: MapViewOfFile failed (Windows error %lu)", path, GetLastError());
    out->data = p;
    out->size = (size_t)size.QuadPart;
    return BT_OK;
}

void bt_unmap_file(bt_mapped_file *f) {
    if (f->size) UnmapViewOfFile((void *)f->data);
    f->data = NULL;
    f->size = 0;
}

double bt_time_seconds(void) {
    LARGE_INTEGER freq, now;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    return (double)now.QuadPart / (double)freq.QuadPart;
}

size_t bt_peak_rss_bytes(void) {
    PROCESS_MEMORY_COUNTERS pmc;
    if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc)) return 0;
    return pmc.PeakWorkingSetSize;   /* bytes */
}

uint64_t bt_memory_available_bytes(void) {
    MEMORYSTATUSEX status = {.dwLength = sizeof status};
    return GlobalMemoryStatusEx(&status) ? (uint64_t)status.ullAvailPhys : 0;
}

const char *bt_path_kind(const char *path) {
    HANDLE h = open_utf8(path, 0, FILE_FLAG_BACKUP_SEMANTICS);
    if (h == INVALID_HANDLE_VALUE) return NULL;
    BY_HANDLE_FILE_INFORMATION info;
    int folder = GetFileInformationByHandle(h, &info) && (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY);
    DWORD type = GetFileType(h);
    CloseHandle(h);
    if (folder) return "directory";
    if (type == FILE_TYPE_DISK) return "file";
    if (type == FILE_TYPE_PIPE) return "fifo";
    if (type == FILE_TYPE_CHAR) return "character device";
    return "special file";
}

int bt_cpu_count(void) {
    DWORD_PTR process_mask, system_mask;
    if (GetProcessAffinityMask(GetCurrentProcess(), &process_mask, &system_mask) && process_mask) {
        int n = 0;
        for (; process_mask; process_mask &= process_mask - 1) n++;
        return n;   /* this process's processor group (at most 64 CPUs) */
    }
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwNumberOfProcessors > 0 ? (int)si.dwNumberOfProcessors : 1;
}

void *bt_aligned_alloc(size_t alignment, size_t size) { return _aligned_malloc(size ? size : alignment, alignment); }

void bt_aligned_free(void *p) { _aligned_free(p); }

/* Fiber-local storage: unlike TlsAlloc, its callback runs at thread exit. On x64
 * there is one calling convention, so `release` serves as the FLS callback.
 * The module holding `release` is pinned (never unloaded, like -z nodelete on Linux):
 * a host that frees the DLL (lua_close) would otherwise leave threads calling into
 * unmapped code when they end. */
int bt_os_tls_create(uintptr_t *key, void (*release)(void *)) {
    HMODULE self;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                            (LPCWSTR)(void *)release, &self))
        return -1;
    DWORD index = FlsAlloc((PFLS_CALLBACK_FUNCTION)(void (*)(void))release);
    if (index == FLS_OUT_OF_INDEXES) return -1;
    *key = index;
    return 0;
}

void *bt_os_tls_get(uintptr_t key) { return FlsGetValue((DWORD)key); }

int bt_os_tls_set(uintptr_t key, void *value) { return FlsSetValue((DWORD)key, value) ? 0 : -1; }

/* SRWLOCK: no resources, nothing to destroy; exclusive use only (as a plain mutex). */
_Static_assert(sizeof(SRWLOCK) <= sizeof(((bt_mutex *)0)->os), "bt_mutex holds an SRWLOCK");

int bt_os_mutex_init(void *os) {
    InitializeSRWLock(os);
    return 0;
}
void bt_os_mutex_lock(void *os) { AcquireSRWLockExclusive(os); }
void bt_os_mutex_unlock(void *os) { ReleaseSRWLockExclusive(os); }
void bt_os_mutex_destroy(void *os) { (void)os; }

static DWORD WINAPI thread_entry(void *call) {
    bt_thread_run(call);
    return 0;
}

int bt_os_thread_start(uintptr_t *os, bt_thread_call *call) {
    HANDLE th = CreateThread(NULL, 0, thread_entry, call, 0, NULL);
    if (!th) return -1;
    *os = (uintptr_t)th;
    return 0;
}

void bt_thread_join(bt_thread *t) {
    WaitForSingleObject((HANDLE)t->os, INFINITE);
    CloseHandle((HANDLE)t->os);
}
