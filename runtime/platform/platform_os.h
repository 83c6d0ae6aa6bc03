/* platform_os.h - what posix.c / windows.c give portable.c (not for other files). */
#ifndef BT_PLATFORM_OS_H
#define BT_PLATFORM_OS_H
#include <stdint.h>

/* Thread-local keys whose destructor runs `release` at thread exit; 0 on success. */
int bt_os_tls_create(uintptr_t *key, void (*release)(void *));
void *bt_os_tls_get(uintptr_t key);
int bt_os_tls_set(uintptr_t key, void *value);

#endif
