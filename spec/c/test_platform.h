/* test_platform.h - the test harness's only OS-specific helpers (test_platform.c):
 * scratch directories and files under the system's temporary folder. */
#ifndef BT_TEST_PLATFORM_H
#define BT_TEST_PLATFORM_H
#include <stddef.h>
#include <stdio.h>

/* A fresh directory "<temp>/<stem>-XXXXXX" in out[cap]; 1 on success. */
int bt_test_temp_dir(char *out, size_t cap, const char *stem);
/* Removes the files in dir (not subfolders), then dir. */
void bt_test_remove_dir(const char *dir);
/* A fresh file "<temp>/<stem>-XXXXXX" opened for binary writing, its path in out[cap];
 * NULL on failure. The caller closes and removes it. */
FILE *bt_test_temp_file(char *out, size_t cap, const char *stem);

#endif
