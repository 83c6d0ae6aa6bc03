/* self_path.h - where this program's file is (self_path.c, one version per OS), to find
 * the bundled model beside it. */
#ifndef EMBED_C_SELF_PATH_H
#define EMBED_C_SELF_PATH_H
#include <stddef.h>

int self_path(char *out, size_t size);   /* 0 and a NUL-terminated path, or -1 */
char *last_separator(char *path);        /* the last '/' (or '\\' on Windows), or NULL */

#endif
