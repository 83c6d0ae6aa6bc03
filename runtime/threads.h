/* threads.h - the CPU thread count used by OpenMP kernels.
 * Default: BITTTT_THREADS if set, else the cores this process may use. */
#ifndef BT_THREADS_H
#define BT_THREADS_H
#include "base/error.h"

bt_status bt_set_num_threads(int n);   /* n >= 1 */
/* The count chosen from the work (a model's layer sizes: lua/bitttt/threads.lua), capped at the
 * cores; used unless the user set one with bt_set_num_threads or BITTTT_THREADS. */
void bt_suggest_num_threads(int n);
BT_API int bt_get_num_threads(void);
/* OpenMP's team size belongs to the calling thread: kernels entry points call this
 * so that work started from any thread uses the runtime's count. */
void bt_apply_num_threads(void);

#endif
