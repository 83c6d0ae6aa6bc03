/* platform_os.h - what posix.c / windows.c give portable.c (not for other files). */
#ifndef BT_PLATFORM_OS_H
#define BT_PLATFORM_OS_H
#include <stdint.h>

/* Thread-local keys whose destructor runs `release` at thread exit; 0 on success. */
int bt_os_tls_create(uintptr_t *key, void (*release)(void *));
void *bt_os_tls_get(uintptr_t key);
int bt_os_tls_set(uintptr_t key, void *value);

/* A mutex in `os` (the bt_mutex's storage, 64 bytes); init returns 0 on success. */
int bt_os_mutex_init(void *os);
void bt_os_mutex_lock(void *os);
void bt_os_mutex_unlock(void *os);
void bt_os_mutex_destroy(void *os);

/* A thread whose OS entry calls bt_thread_run(call) (portable.c: runs and frees the call). */
typedef struct bt_thread_call { void (*fn)(void *); void *arg; } bt_thread_call;
void bt_thread_run(void *call);
int bt_os_thread_start(uintptr_t *os, bt_thread_call *call);   /* 0 on success */

#endif
