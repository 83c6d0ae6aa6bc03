/* ttt_vec.h - the two vector primitives the TTT kernels are built from (rows of
 * fast weights are head_dim floats: 32..128), in scalar, AVX2 and AVX-512
 * versions; bt_ttt_vec_get() picks the best the CPU allows (bt_simd_level_get()).
 * Internal to kernels/cpu/ttt_*.c. */
#ifndef BT_TTT_VEC_H
#define BT_TTT_VEC_H

typedef struct bt_ttt_vec {
    void (*axpy)(float *y /* [n] */, float a, const float *x /* [n] */, int n);   /* y += a x */
    float (*dot)(const float *a /* [n] */, const float *b /* [n] */, int n);
} bt_ttt_vec;

bt_ttt_vec bt_ttt_vec_get(void);

#endif
