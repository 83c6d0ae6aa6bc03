/* error.c - the thread-local error message behind bt_set_error/bt_last_error. */
#include "error.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

bt_status bt_set_error(bt_status st, const char *fmt, ...) {
    /* Format into a local buffer first: callers may pass bt_last_error() as an
     * argument to wrap a message with more context. */
    char buf[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(last_error, buf, sizeof buf);
    return st;
}

const char *bt_last_error(void) { return last_error; }
void bt_clear_error(void) { last_error[0] = 0; }

const char *bt_status_name(bt_status st) {
    switch (st) {
    case BT_OK: return "ok";
    case BT_ERR_ARG: return "bad argument";
    case BT_ERR_NOMEM: return "out of memory";
    case BT_ERR_IO: return "i/o error";
    case BT_ERR_FORMAT: return "bad file format";
    case BT_ERR_DEVICE: return "device error";
    case BT_ERR_UNSUPPORTED: return "unsupported";
    case BT_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}
