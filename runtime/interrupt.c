/* interrupt.c - the interrupt flag (see interrupt.h). A lock-free atomic int:
 * safe to set from a signal handler and to read from any thread. */
#include "interrupt.h"
#include <stdatomic.h>

static atomic_int interrupt_flag;

void bt_interrupt_request(void) { atomic_store_explicit(&interrupt_flag, 1, memory_order_relaxed); }
void bt_interrupt_clear(void) { atomic_store_explicit(&interrupt_flag, 0, memory_order_relaxed); }
int bt_interrupted(void) { return atomic_load_explicit(&interrupt_flag, memory_order_relaxed); }

bt_status bt_interrupt_error(void) { return bt_set_error(BT_ERR_INTERRUPTED, "interrupted"); }
