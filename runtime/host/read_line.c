/* read_line.c - see read_line.h. */
#include "read_line.h"
#include <stdlib.h>
#include <string.h>

char *bt_host_read_line(FILE *f) {
    size_t cap = 128, len = 0;
    char *line = malloc(cap);
    if (!line) return NULL;
    while (fgets(line + len, (int)(cap - len), f)) {
        len += strlen(line + len);
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = 0;
            if (len > 0 && line[len - 1] == '\r') line[--len] = 0;
            return line;
        }
        if (len + 1 < cap) break;   /* fgets stopped short of the buffer's end: end of input */
        char *grown = realloc(line, cap * 2);
        if (!grown) { free(line); return NULL; }
        line = grown;
        cap *= 2;
    }
    if (len > 0) return line;   /* the last line, without "\n" */
    free(line);
    return NULL;
}
