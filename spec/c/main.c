/* main.c - runs the C tests registered with BT_TEST (see check.h). */
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct { const char *name; bt_test_fn fn; } test_entry;
static test_entry tests[512];
static int n_tests;
static uint64_t seed;

void bt_test_register(const char *name, bt_test_fn fn) {
    if (n_tests < (int)(sizeof tests / sizeof tests[0])) tests[n_tests++] = (test_entry){name, fn};
}

uint64_t bt_test_seed(void) { return seed; }

int main(int argc, char **argv) {
    const char *filter = argc > 1 ? argv[1] : NULL;
    const char *env = getenv("BITTTT_TEST_SEED");
    seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < n_tests; i++) {
        if (filter && !strstr(tests[i].name, filter)) continue;
        bt_test_result r = BT_TEST_PASS;
        tests[i].fn(&r);
        if (r == BT_TEST_PASS) passed++;
        else if (r == BT_TEST_SKIP) skipped++;
        else { failed++; fprintf(stderr, "FAIL %s (BITTTT_TEST_SEED=%llu)\n", tests[i].name, (unsigned long long)seed); }
        if (r != BT_TEST_FAIL) fprintf(stderr, "%s %s\n", r == BT_TEST_PASS ? "ok  " : "skip", tests[i].name);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
