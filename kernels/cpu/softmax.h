/* softmax.h - max-subtracted softmax over rows, and its exp-and-sum step
 * (which attention uses on its tiles of scores). AVX2 / AVX-512 paths use the
 * vector exp of elementwise_exp.h, the scalar path expf. */
#ifndef BT_SOFTMAX_H
#define BT_SOFTMAX_H
#include <stdint.h>

/* Each of the m rows of n values becomes exp(x - max(row)) / sum, in place. */
void bt_softmax(float *x /* [m, n] */, int64_t m, int64_t n);

/* x[i] = exp(x[i] - shift) for i < n; returns the sum of the new values. */
float bt_exp_shifted_sum(float *x /* [n] */, int64_t n, float shift);

#endif
