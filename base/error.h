/* error.h - status codes and the thread-local error message.
 *
 * The C core never aborts on bad input: a function that can fail returns a
 * bt_status and, on failure, sets a message with bt_set_error() saying what was
 * wrong (file, field, expected, found). Callers read it with bt_last_error().
 */
#ifndef BT_ERROR_H
#define BT_ERROR_H
#include "export.h"

/* BT_PRINTF_FORMAT(fmt, args): checks printf-style calls. MinGW's `printf` format
 * means the Microsoft dialect (warnings on %zu, %lld); the runtime formats with the
 * C99 dialect, which MinGW's gcc calls gnu_printf. Other compilers: nothing. */
#if defined(__MINGW32__)
#define BT_PRINTF_FORMAT(fmt, args) __attribute__((format(gnu_printf, fmt, args)))
#elif defined(__GNUC__) || defined(__clang__)
#define BT_PRINTF_FORMAT(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define BT_PRINTF_FORMAT(fmt, args)
#endif

typedef enum bt_status {
    BT_OK = 0,
    BT_ERR_ARG,      /* bad argument: shape, dtype, range */
    BT_ERR_NOMEM,    /* allocation failed */
    BT_ERR_IO,       /* open/read/mmap failed */
    BT_ERR_FORMAT,   /* a file's contents are malformed */
    BT_ERR_DEVICE,   /* device unavailable or a device call failed */
    BT_ERR_UNSUPPORTED,
    BT_ERR_INTERRUPTED
} bt_status;

/* printf-style; always returns `st` so callers can write `return bt_set_error(...)`. */
BT_API bt_status bt_set_error(bt_status st, const char *fmt, ...)
    BT_PRINTF_FORMAT(2, 3);
BT_API const char *bt_last_error(void);   /* "" when no error was set on this thread */
BT_API void bt_clear_error(void);
BT_API const char *bt_status_name(bt_status st);

#endif
