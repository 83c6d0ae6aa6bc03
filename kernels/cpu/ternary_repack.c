/* ternary_repack.c - bt_ternary_repack: TQ1_0 rewritten as TQ2_0 at load (see ternary.h). */
#include "ternary.h"
#include <stdlib.h>
#include <string.h>

/* One TQ1_0 block (54 bytes) as a TQ2_0 block (66 bytes): the same 256 codes,
 * byte m of each 32-byte half holding columns m, m+32, m+64, m+96 of that half
 * at bits 0-1, 2-3, 4-5, 6-7; then the same f16 d. */
static void tq1_block_to_tq2(uint8_t *out /* [66] */, const uint8_t *in /* [54] */) {
    uint8_t c[BT_TQ_BLOCK];
    bt_ternary_block_codes(c, BT_TERNARY_TQ1_0, in, 0);
    for (int half = 0; half < 2; half++)
        for (int m = 0; m < 32; m++) {
            const uint8_t *q = c + 128 * half + m;
            out[32 * half + m] = (uint8_t)(q[0] | q[32] << 2 | q[64] << 4 | q[96] << 6);
        }
    memcpy(out + 64, in + 52, 2);
}

bt_status bt_ternary_repack(bt_ternary_matrix *w) {
    if (w->format != BT_TERNARY_TQ1_0) return BT_OK;
    const size_t row_bytes = (size_t)w->n_blocks * BT_TQ2_0_BLOCK_BYTES;
    uint8_t *copy = malloc(row_bytes * (size_t)w->n);
    if (!copy)
        return bt_set_error(BT_ERR_NOMEM, "ternary matrix: tq1_0 [%lld, %lld]: cannot allocate %zu bytes for its tq2_0 copy",
                            (long long)w->n, (long long)w->k, row_bytes * (size_t)w->n);
    const int64_t n = w->n;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *src = w->data + (size_t)i * w->row_bytes;
        for (int64_t b = 0; b < w->n_blocks; b++)
            tq1_block_to_tq2(copy + (size_t)i * row_bytes + (size_t)b * BT_TQ2_0_BLOCK_BYTES, src + b * BT_TQ1_0_BLOCK_BYTES);
    }
    w->format = BT_TERNARY_TQ2_0;
    w->data = copy;
    w->row_bytes = row_bytes;
    w->owned = copy;
    return BT_OK;
}

void bt_ternary_release(bt_ternary_matrix *w) {
    free(w->owned);
    w->owned = NULL;
}
