/* test_cuda_pack.c - the CUDA backend's host-side repacking of ternary GGUF
 * tensors (TQ2_0, I2_S) into its GPU layout. Plain host code: these tests need
 * no GPU, only a CUDA build. Every packed code and scale is read back with the
 * independent layout reader of test_cuda_ternary_ref.h. */
#include "check.h"
#ifdef BT_HAVE_CUDA
#include <stdio.h>
#include <stdlib.h>
#include "base/dtype.h"
#include "runtime/gguf.h"
#include "test_cuda_ternary_ref.h"
#include "test_readers_util.h"

/* Compares rows [row0, row0+n) of a packed buffer with w and expected scales;
 * returns a message or NULL. */
static const char *check_packed(char *msg, size_t cap, const uint8_t *packed, int dst_rows, int row0,
                                const int8_t *w, const float *scale /* [n, k/256] */, int n, int k, int block_scales) {
    for (int i = 0; i < n; i++)
        for (int col = 0; col < k; col++) {
            int code = ref_packed_code(packed, row0 + i, col, k);
            if (code != w[(size_t)i * k + col] + 1) {
                snprintf(msg, cap, "code of [%d, %d] is %d, want %d", i, col, code, w[(size_t)i * k + col] + 1);
                return msg;
            }
            if (block_scales || col == 0) {
                float got = ref_packed_scale(packed, dst_rows, k, block_scales, row0 + i, col);
                float want = scale[(size_t)i * (k / 256) + (block_scales ? col / 256 : 0)];
                if (got != want) {
                    snprintf(msg, cap, "scale of [%d, %d] is %g, want %g", i, col, (double)got, (double)want);
                    return msg;
                }
            }
        }
    return NULL;
}

static const char *check_padding(char *msg, size_t cap, const uint8_t *packed, int dst_rows, int k, int block_scales) {
    for (int row = dst_rows; row < (dst_rows + 7) / 8 * 8; row++)
        for (int col = 0; col < k; col++) {
            if (ref_packed_code(packed, row, col, k) != 1) {
                snprintf(msg, cap, "padding row %d col %d is not code 1", row, col);
                return msg;
            }
            if (ref_packed_scale(packed, dst_rows, k, block_scales, row, col) != 0.0f) {
                snprintf(msg, cap, "padding row %d has a nonzero scale", row);
                return msg;
            }
        }
    return NULL;
}

BT_TEST(cuda_pack_tq2_0_row_scales) {
    cu_rng r = cu_rng_for("cuda_pack_tq2_0_row_scales");
    const int n = 21, k = 768, nb = k / 256;
    int8_t *w = malloc((size_t)n * k);
    uint16_t *d_bits = malloc(sizeof(uint16_t) * n * nb);
    float *scale = malloc(sizeof(float) * n * nb);
    uint8_t *src = malloc((size_t)n * nb * 66);
    ref_random_ternary(w, (size_t)n * k, &r, 33);
    memset(w + 256, 0, 256);   /* row 0 block 1 all zero: its d must not matter */
    for (int i = 0; i < n; i++) {
        uint16_t d = bt_f32_to_f16(cu_uniform(&r, 0.05f, 0.2f));
        for (int b = 0; b < nb; b++) {
            d_bits[i * nb + b] = d;
            scale[i * nb + b] = bt_f16_to_f32(d);
        }
    }
    d_bits[1] = bt_f32_to_f16(7.0f);   /* the all-zero block's own d */
    ref_encode_tq2_0(src, w, d_bits, n, k);

    char err[BT_CUDA_ERR_CAP], msg[160];
    int needs = -1;
    BT_CHECK(bt_cuda_tq2_0_needs_block_scales(&needs, src, n, k, err) == 0, "%s", err);
    BT_CHECK(needs == 0, "equal block scales in every row (and an all-zero block) should fold into row scales");
    size_t bytes = bt_cuda_ternary_bytes(n, k, 0);
    BT_CHECK(bytes >= ref_packed_scale_offset(n, k) + 24 * sizeof(float), "bytes %zu too small", bytes);
    uint8_t *packed = malloc(bytes);
    memset(packed, 0xEE, bytes);
    BT_CHECK(bt_cuda_ternary_pack_tq2_0(packed, n, 0, 0, src, n, k, err) == 0, "%s", err);
    scale[1] = scale[0];
    BT_CHECK(!check_packed(msg, sizeof msg, packed, n, 0, w, scale, n, k, 0), "%s", msg);
    BT_CHECK(!check_padding(msg, sizeof msg, packed, n, k, 0), "%s", msg);
    free(w), free(d_bits), free(scale), free(src), free(packed);
}

BT_TEST(cuda_pack_tq2_0_block_scales) {
    cu_rng r = cu_rng_for("cuda_pack_tq2_0_block_scales");
    const int n = 10, k = 1024, nb = k / 256;
    int8_t *w = malloc((size_t)n * k);
    uint16_t *d_bits = malloc(sizeof(uint16_t) * n * nb);
    float *scale = malloc(sizeof(float) * n * nb);
    uint8_t *src = malloc((size_t)n * nb * 66);
    ref_random_ternary(w, (size_t)n * k, &r, 20);
    for (int i = 0; i < n * nb; i++) {
        d_bits[i] = bt_f32_to_f16(cu_uniform(&r, -0.3f, 0.3f));
        scale[i] = bt_f16_to_f32(d_bits[i]);
    }
    ref_encode_tq2_0(src, w, d_bits, n, k);

    char err[BT_CUDA_ERR_CAP], msg[160];
    int needs = -1;
    BT_CHECK(bt_cuda_tq2_0_needs_block_scales(&needs, src, n, k, err) == 0, "%s", err);
    BT_CHECK(needs == 1, "different block scales within a row must need block scales");
    uint8_t *packed = malloc(bt_cuda_ternary_bytes(n, k, 1));
    BT_CHECK(bt_cuda_ternary_pack_tq2_0(packed, n, 0, 0, src, n, k, err) != 0, "row-scale packing must refuse");
    BT_CHECK(strstr(err, "block scales") != NULL, "message should say why: %s", err);
    BT_CHECK(bt_cuda_ternary_pack_tq2_0(packed, n, 0, 1, src, n, k, err) == 0, "%s", err);
    BT_CHECK(!check_packed(msg, sizeof msg, packed, n, 0, w, scale, n, k, 1), "%s", msg);
    BT_CHECK(!check_padding(msg, sizeof msg, packed, n, k, 1), "%s", msg);
    free(w), free(d_bits), free(scale), free(src), free(packed);
}

BT_TEST(cuda_pack_i2_s_and_row_offsets) {
    cu_rng r = cu_rng_for("cuda_pack_i2_s_and_row_offsets");
    /* two matrices sharing one buffer, as q and k would: rows [0, 13) and [16, 16 + 7) */
    const int n1 = 13, n2 = 7, k = 384, rows = 16 + n2;
    int8_t *w1 = malloc((size_t)n1 * k), *w2 = malloc((size_t)n2 * k);
    ref_random_ternary(w1, (size_t)n1 * k, &r, 33);
    ref_random_ternary(w2, (size_t)n2 * k, &r, 33);
    uint8_t *src1 = malloc((size_t)n1 * k / 4 + 32), *src2 = malloc((size_t)n2 * k / 4 + 32);
    float s1 = cu_uniform(&r, 0.01f, 2.0f), s2 = cu_uniform(&r, 0.01f, 2.0f);
    ref_encode_i2_s(src1, w1, s1, n1, k);
    ref_encode_i2_s(src2, w2, s2, n2, k);
    float *sc1 = malloc(sizeof(float) * n1), *sc2 = malloc(sizeof(float) * n2);
    for (int i = 0; i < n1; i++) sc1[i] = s1;
    for (int i = 0; i < n2; i++) sc2[i] = s2;

    char err[BT_CUDA_ERR_CAP], msg[160];
    uint8_t *packed = malloc(bt_cuda_ternary_bytes(rows, k, 0));
    BT_CHECK(bt_cuda_ternary_pack_i2_s(packed, rows, 0, 0, src1, n1, k, err) == 0, "%s", err);
    BT_CHECK(bt_cuda_ternary_pack_i2_s(packed, rows, 16, 0, src2, n2, k, err) == 0, "%s", err);
    BT_CHECK(!check_packed(msg, sizeof msg, packed, rows, 0, w1, sc1, n1, k, 0), "first: %s", msg);
    BT_CHECK(!check_packed(msg, sizeof msg, packed, rows, 16, w2, sc2, n2, k, 0), "second: %s", msg);
    for (int row = n1; row < 16; row++)
        BT_CHECK(ref_packed_code(packed, row, 5, k) == 1 && ref_packed_scale(packed, rows, k, 0, row, 0) == 0.0f,
                 "row %d between the matrices should be zero padding", row);
    BT_CHECK(!check_padding(msg, sizeof msg, packed, rows, k, 0), "%s", msg);
    BT_CHECK(bt_cuda_ternary_pack_i2_s(packed, rows, 4, 0, src2, n2, k, err) != 0, "row0 = 4 is not a tile start");
    BT_CHECK(bt_cuda_ternary_pack_i2_s(packed, rows, 16, 0, src1, n1, k, err) != 0, "13 rows at 16 overflow 23");
    free(w1), free(w2), free(src1), free(src2), free(sc1), free(sc2), free(packed);
}

BT_TEST(cuda_pack_rejects_bad_input) {
    char err[BT_CUDA_ERR_CAP];
    uint8_t src[66 * 2], dst[4096];
    memset(src, 0x55, sizeof src);   /* all zeros */
    src[64] = src[65] = 0;
    src[66 + 64] = src[66 + 65] = 0;
    src[3] = 0x0F;                   /* codes 3 at element 3 and 35 */
    BT_CHECK(bt_cuda_ternary_pack_tq2_0(dst, 1, 0, 0, src, 1, 256, err) != 0, "code 3 must be refused");
    BT_CHECK(strstr(err, "code 3") != NULL, "message: %s", err);
    BT_CHECK(bt_cuda_ternary_pack_tq2_0(dst, 1, 0, 0, src, 1, 200, err) != 0, "k = 200 must be refused");
    BT_CHECK(bt_cuda_ternary_pack_i2_s(dst, 1, 0, 0, src, 1, 96, err) != 0, "k = 96 (not a multiple of 64) must be refused");
    BT_CHECK(bt_cuda_ternary_bytes(0, 256, 0) == 0, "empty shape has no bytes");
}

/* The I2_S and TQ2_0 files of the reference model hold the same ternary values and
 * scales, so both must pack to identical bytes. */
BT_TEST(cuda_pack_reference_model_formats_agree) {
    char p_tq[512], p_i2[512];
    BT_CHECK(bt_readers_data_path(p_tq, sizeof p_tq, "reference/bitnet/bitnet-s4321-tq2_0.gguf") &&
             bt_readers_data_path(p_i2, sizeof p_i2, "reference/bitnet/bitnet-s4321-i2_s.gguf"),
             "test data missing: %s", p_tq);
    bt_gguf *tq = NULL, *i2 = NULL;
    BT_CHECK(bt_gguf_open(&tq, p_tq) == BT_OK, "%s", bt_last_error());
    BT_CHECK(bt_gguf_open(&i2, p_i2) == BT_OK, "%s", bt_last_error());
    int compared = 0;
    char err[BT_CUDA_ERR_CAP];
    for (uint64_t t = 0; t < tq->n_tensors; t++) {
        const bt_gguf_tensor_info *a = &tq->tensors[t];
        if (a->dtype != BT_TQ2_0) continue;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)a->name.len, a->name.ptr);
        const bt_gguf_tensor_info *b = bt_gguf_find_tensor(i2, name);
        BT_CHECK(b && b->dtype == BT_I2_S, "%s: missing or not I2_S in the I2_S file", name);
        int n = (int)a->ne[1], k = (int)a->ne[0], needs = -1;
        BT_CHECK(bt_cuda_tq2_0_needs_block_scales(&needs, a->data, n, k, err) == 0 && needs == 0, "%s: %s", name, err);
        size_t bytes = bt_cuda_ternary_bytes(n, k, 0);
        uint8_t *pa = malloc(bytes), *pb = malloc(bytes);
        memset(pa, 0, bytes);
        memset(pb, 0, bytes);
        BT_CHECK(bt_cuda_ternary_pack_tq2_0(pa, n, 0, 0, a->data, n, k, err) == 0, "%s: %s", name, err);
        BT_CHECK(bt_cuda_ternary_pack_i2_s(pb, n, 0, 0, b->data, n, k, err) == 0, "%s: %s", name, err);
        int same = memcmp(pa, pb, bytes) == 0;
        free(pa), free(pb);
        BT_CHECK(same, "%s: TQ2_0 and I2_S pack differently", name);
        compared++;
    }
    bt_gguf_close(tq);
    bt_gguf_close(i2);
    BT_CHECK(compared == 21, "compared %d ternary tensors, the model has 21", compared);
}

#else
BT_TEST(cuda_pack) { BT_SKIP("CUDA support not compiled in"); }
#endif
