/* posix.c - platform.h for Linux and other POSIX systems (macOS: see README, "macOS"). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "platform.h"
#include "platform_os.h"
#include <pthread.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bt_status bt_map_file(bt_mapped_file *out, const char *path) {
    out->data = NULL;
    out->size = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK);   /* a FIFO fails the check below instead of blocking */
    if (fd < 0) return bt_set_error(BT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return bt_set_error(BT_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {  /* mmap of 0 bytes fails; an empty file is a valid (empty) map */
        close(fd);
        out->data = (const uint8_t *)"";
        return BT_OK;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return bt_set_error(BT_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
    out->data = p;
    out->size = (size_t)st.st_size;
    return BT_OK;
}

void bt_unmap_file(bt_mapped_file *f) {
    if (f->size) munmap((void *)f->data, f->size);
    f->data = NULL;
    f->size = 0;
}

double bt_time_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

size_t bt_peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024;  /* Linux reports KiB */
}

uint64_t bt_memory_available_bytes(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kib = 0;
        int found = 0;
        while (!found && fgets(line, sizeof line, f)) found = sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
        fclose(f);
        if (found) return (uint64_t)kib * 1024;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
}

int bt_cpu_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void *bt_aligned_alloc(size_t alignment, size_t size) {
    size = (size + alignment - 1) & ~(alignment - 1);   /* aligned_alloc wants a multiple */
    return aligned_alloc(alignment, size ? size : alignment);
}

void bt_aligned_free(void *p) { free(p); }

int bt_os_tls_create(uintptr_t *key, void (*release)(void *)) {
    pthread_key_t k;
    if (pthread_key_create(&k, release) != 0) return -1;
    *key = (uintptr_t)k;
    return 0;
}

void *bt_os_tls_get(uintptr_t key) { return pthread_getspecific((pthread_key_t)key); }

int bt_os_tls_set(uintptr_t key, void *value) { return pthread_setspecific((pthread_key_t)key, value) == 0 ? 0 : -1; }

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(((bt_mutex *)0)->os), "bt_mutex holds a pthread_mutex_t");

int bt_os_mutex_init(void *os) { return pthread_mutex_init(os, NULL) == 0 ? 0 : -1; }
void bt_os_mutex_lock(void *os) { pthread_mutex_lock(os); }
void bt_os_mutex_unlock(void *os) { pthread_mutex_unlock(os); }
void bt_os_mutex_destroy(void *os) { pthread_mutex_destroy(os); }

static void *thread_entry(void *call) {
    bt_thread_run(call);
    return NULL;
}

int bt_os_thread_start(uintptr_t *os, bt_thread_call *call) {
    pthread_t th;
    if (pthread_create(&th, NULL, thread_entry, call) != 0) return -1;
    *os = (uintptr_t)th;
    return 0;
}

void bt_thread_join(bt_thread *t) { pthread_join((pthread_t)t->os, NULL); }

const char *bt_path_kind(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return NULL;
    if (S_ISREG(st.st_mode)) return "file";
    if (S_ISDIR(st.st_mode)) return "directory";
    if (S_ISFIFO(st.st_mode)) return "fifo";
    if (S_ISSOCK(st.st_mode)) return "socket";
    if (S_ISCHR(st.st_mode)) return "character device";
    if (S_ISBLK(st.st_mode)) return "block device";
    return "special file";
}
