/* threads.c - thread-count policy over OpenMP (a build without OpenMP runs one thread). */
#include "threads.h"
#include "platform/platform.h"
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int n_threads;   /* 0: not decided yet */
static int chosen;      /* set by the user: bt_set_num_threads or BITTTT_THREADS */

static void use_threads(int n) {
    n_threads = n;
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

static int default_threads(void) {
    const char *env = getenv("BITTTT_THREADS");
    if (env) {
        int n = atoi(env);
        if (n >= 1 && n <= 4096) {
            chosen = 1;
            return n;
        }
    }
    return bt_cpu_count();
}

bt_status bt_set_num_threads(int n) {
    if (n < 1 || n > 4096) return bt_set_error(BT_ERR_ARG, "thread count must be between 1 and 4096, got %d", n);
    chosen = 1;
    use_threads(n);
    return BT_OK;
}

void bt_suggest_num_threads(int n) {
    if (!n_threads) use_threads(default_threads());
    int cores = bt_cpu_count();
    if (!chosen && n >= 1) use_threads(n < cores ? n : cores);
}

int bt_get_num_threads(void) {
    if (!n_threads) use_threads(default_threads());
    return n_threads;
}

void bt_apply_num_threads(void) {
#ifdef _OPENMP
    omp_set_num_threads(bt_get_num_threads());
#endif
}
