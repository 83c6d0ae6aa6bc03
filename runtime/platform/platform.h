/* platform.h - the few OS services the runtime needs: read-only file mapping,
 * a monotonic clock, peak RSS. One implementation file per OS (posix.c now). */
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

#endif
