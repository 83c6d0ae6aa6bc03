/* read_line.h - reading text lines in portable C (getline is POSIX). */
#ifndef BT_READ_LINE_H
#define BT_READ_LINE_H
#include <stdio.h>

/* One line of f without its line end ("\n", or "\r\n" as Windows writes it), malloc'd;
 * NULL at the end of input (or when out of memory). A last line without "\n" counts. */
char *bt_host_read_line(FILE *f);

#endif
