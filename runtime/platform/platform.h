/* platform.h - the few OS services the runtime needs: read-only file mapping,
 * a monotonic clock, peak RSS, the usable CPU count, aligned memory, per-thread
 * pointers. One implementation file per OS, chosen by the build: posix.c (Linux,
 * macOS, BSD) or windows.c. portable.c holds what needs no OS call.
 * No file outside runtime/platform/ calls an OS-specific API (scripts/test.sh
 * checks with scripts/check-portable.sh). */
#ifndef BT_PLATFORM_H
#define BT_PLATFORM_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"

typedef struct bt_mapped_file {
    const uint8_t *data;   /* [size] read-only */
    size_t size;
} bt_mapped_file;

bt_status bt_map_file(bt_mapped_file *out, const char *path);
void bt_unmap_file(bt_mapped_file *f);
double bt_time_seconds(void);        /* monotonic */
size_t bt_peak_rss_bytes(void);
/* Memory a process can still allocate without swapping (Linux: MemAvailable of
 * /proc/meminfo; elsewhere the physical memory); 0 when unknown. */
uint64_t bt_memory_available_bytes(void);
int bt_cpu_count(void);              /* online logical CPUs usable by this process */
/* "file", "directory", "fifo", "socket", "character device", "block device" (links followed),
 * or NULL when path does not exist. Callers refuse what is not a file before opening it:
 * opening a FIFO for reading blocks until a writer comes. */
const char *bt_path_kind(const char *path);

/* size bytes aligned to `alignment` (a power of two, at most 4096); NULL when out of
 * memory. Free with bt_aligned_free only (Windows cannot free() them). */
void *bt_aligned_alloc(size_t alignment, size_t size);
void bt_aligned_free(void *p);

/* A pointer per thread, created on first use; `release` runs on a thread's non-NULL
 * value when that thread ends. Declare static with BT_THREAD_SLOT_INIT(release). */
typedef struct bt_thread_slot {
    void (*release)(void *);
    volatile int state;     /* 0 new, 1 being created, 2 ready, 3 failed (atomic builtins) */
    uintptr_t key;          /* pthread_key_t / FLS index */
} bt_thread_slot;
#define BT_THREAD_SLOT_INIT(release) { (release), 0, 0 }
void *bt_thread_slot_get(bt_thread_slot *s);               /* NULL when unset */
int bt_thread_slot_set(bt_thread_slot *s, void *value);    /* 0 on success */

/* A mutex (pthread_mutex_t on POSIX, an SRWLOCK on Windows, kept in `os`). A zeroed
 * bt_mutex (static storage, calloc, BT_MUTEX_INIT) is ready: the OS object is set up at
 * the first lock. bt_mutex_destroy releases it (the bt_mutex is then as if zeroed). */
typedef struct bt_mutex {
    volatile int state;   /* as bt_thread_slot's */
    union { void *align_pointer; long long align_integer; unsigned char bytes[64]; } os;
} bt_mutex;
#define BT_MUTEX_INIT { 0, { 0 } }
void bt_mutex_lock(bt_mutex *m);
void bt_mutex_unlock(bt_mutex *m);
void bt_mutex_destroy(bt_mutex *m);   /* not while locked */

/* A thread running fn(arg), for callers that need threads of their own (the C API's
 * thread test); the runtime's parallelism is OpenMP's. start returns 0 on success. */
typedef struct bt_thread { uintptr_t os; } bt_thread;   /* pthread_t / HANDLE */
int bt_thread_start(bt_thread *t, void (*fn)(void *), void *arg);
void bt_thread_join(bt_thread *t);

/* memmem: the first occurrence of needle[nlen] in hay[hlen], or NULL (an empty
 * needle is found at hay). Portable C (portable.c). */
const void *bt_memmem(const void *hay, size_t hlen, const void *needle, size_t nlen);

#endif
