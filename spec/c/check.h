/* check.h - a tiny self-registering C test harness for bin/test-c.
 *
 *   BT_TEST(rmsnorm_matches_double) { ... BT_CHECK(cond, "fmt", ...); ... }
 *
 * Each test is a function; BT_CHECK records a failure (with file:line and the
 * message) and returns from the test. BT_SKIP(reason) marks the test skipped.
 * main.c runs every registered test (or those whose name contains argv[1]) and
 * ends with the line "N passed, N failed, N skipped".
 */
#ifndef BT_CHECK_H
#define BT_CHECK_H
#include <stdio.h>
#include <stdint.h>

typedef enum { BT_TEST_PASS, BT_TEST_FAIL, BT_TEST_SKIP } bt_test_result;
typedef void (*bt_test_fn)(bt_test_result *result);
void bt_test_register(const char *name, bt_test_fn fn);
uint64_t bt_test_seed(void);          /* random per run unless BITTTT_TEST_SEED is set; printed on failure */

#define BT_TEST(name)                                                          \
    static void bt_test_##name(bt_test_result *bt_result_);                    \
    __attribute__((constructor)) static void bt_test_reg_##name(void) {        \
        bt_test_register(#name, bt_test_##name);                               \
    }                                                                          \
    static void bt_test_##name(bt_test_result *bt_result_)

#define BT_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "  %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            *bt_result_ = BT_TEST_FAIL;                                        \
            return;                                                            \
        }                                                                      \
    } while (0)

#define BT_SKIP(reason)                                                        \
    do {                                                                       \
        fprintf(stderr, "  skipped: %s\n", reason);                            \
        *bt_result_ = BT_TEST_SKIP;                                            \
        return;                                                                \
    } while (0)

#endif
