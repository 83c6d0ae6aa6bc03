/* interrupt.h - a process-wide "stop what you are doing" flag.
 *
 * A host sets it from its SIGINT handler (bt_interrupt_request is
 * async-signal-safe); long-running work polls it: every op in ops.c checks it
 * on entry and fails with BT_ERR_INTERRUPTED ("interrupted"), and the Lua
 * token loop checks it per token. The host clears it before running new work.
 */
#ifndef BT_INTERRUPT_H
#define BT_INTERRUPT_H
#include "base/error.h"

BT_API void bt_interrupt_request(void);   /* async-signal-safe */
BT_API void bt_interrupt_clear(void);
BT_API int bt_interrupted(void);          /* 1 after a request, until cleared */

/* Sets the message "interrupted" and returns BT_ERR_INTERRUPTED; work that polls
 * writes `if (bt_interrupted()) return bt_interrupt_error();`. */
bt_status bt_interrupt_error(void);

#endif
