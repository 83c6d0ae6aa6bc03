// ternary_pack.cu - host-side repacking of GGUF ternary tensors (TQ2_0, I2_S)
// into the GPU layout of ternary_layout.cuh, and uploads to the device.
// Plain host code: it runs (and is tested) without a GPU.
#include <cuda_fp16.h>
#include <stdlib.h>
#include <string.h>
#include <vector>
#include "common.cuh"
#include "ternary_layout.cuh"

#define TQ2_0_BLOCK 256
#define TQ2_0_BYTES 66      // qs[64], then fp16 d
#define I2_S_BLOCK 128
#define I2_S_BYTES 32

static float f16_bits_to_float(uint16_t bits) {
    __half_raw raw;
    raw.x = bits;
    return __half2float(__half(raw));
}

// Writes one row of k codes (values 0..2) into its 16-byte slots of every chunk.
static void put_row_codes(uint8_t *codes_base, int row, int k, const uint8_t *codes /* [k] */) {
    for (int c = 0; c < k / BT_TERN_TILE_COLS; c++) {
        uint8_t *dst = codes_base + bt_tern_row_chunk_offset(row, c, k);
        const uint8_t *src = codes + c * BT_TERN_TILE_COLS;
        for (int q = 0; q < 4; q++)
            for (int b = 0; b < 4; b++)
                dst[4 * q + b] = (uint8_t)(src[16 * q + b] | src[16 * q + 4 + b] << 2 |
                                           src[16 * q + 8 + b] << 4 | src[16 * q + 12 + b] << 6);
    }
}

// Checks the destination geometry shared by both formats.
static int check_pack_args(const char *fmt, int dst_rows, int row0, int n, int k, int k_multiple, char *err) {
    if (n <= 0 || k <= 0 || k % k_multiple != 0)
        return bt_cuda_bad_arg(err, "%s repack: shape [%d, %d]: need n > 0 and k a positive multiple of %d",
                               fmt, n, k, k_multiple);
    if (k % BT_TERN_TILE_COLS != 0)
        return bt_cuda_bad_arg(err, "%s repack: k = %d is not a multiple of %d", fmt, k, BT_TERN_TILE_COLS);
    if (row0 < 0 || row0 % 8 != 0 || row0 + n > dst_rows)
        return bt_cuda_bad_arg(err, "%s repack: rows [%d, %d) do not fit a buffer of %d rows starting at a multiple of 8",
                               fmt, row0, row0 + n, dst_rows);
    return 0;
}

// Rows [row0+n, round8(row0+n)) of the last tile: zero weights, zero scale.
static void pad_rows(uint8_t *dst, int dst_rows, int row_end, int k, int block_scales) {
    int padded = bt_tern_rows_padded(row_end);
    std::vector<uint8_t> ones((size_t)k, 1);
    float *scales = (float *)(dst + bt_tern_scale_offset(dst_rows, k));
    int per_row = block_scales ? k / BT_TERN_SCALE_COLS : 1;
    for (int row = row_end; row < padded; row++) {
        put_row_codes(dst, row, k, ones.data());
        for (int s = 0; s < per_row; s++) scales[(size_t)row * per_row + s] = 0.0f;
    }
}

extern "C" size_t bt_cuda_ternary_bytes(int n, int k, int block_scales) {
    if (n <= 0 || k <= 0) return 0;
    return bt_tern_scale_offset(n, k) + bt_tern_scale_count(n, k, block_scales) * sizeof(float);
}

// TQ2_0 block: 1 when its codes are all 1 (all-zero weights: any d folds).
static int tq2_0_block_is_zero(const uint8_t *block) {
    for (int i = 0; i < 64; i++)
        if (block[i] != 0x55) return 0;
    return 1;
}

static uint16_t tq2_0_block_d(const uint8_t *block) { return (uint16_t)(block[64] | block[65] << 8); }

extern "C" int bt_cuda_tq2_0_needs_block_scales(int *block_scales, const void *src, int n, int k, char *err) {
    *block_scales = 0;
    if (n <= 0 || k <= 0 || k % TQ2_0_BLOCK != 0)
        return bt_cuda_bad_arg(err, "TQ2_0: shape [%d, %d]: k must be a positive multiple of 256", n, k);
    const uint8_t *blocks = (const uint8_t *)src;
    int per_row = k / TQ2_0_BLOCK;
    for (int row = 0; row < n && !*block_scales; row++) {
        float row_d = 0.0f;
        int have = 0;
        for (int b = 0; b < per_row; b++) {
            const uint8_t *block = blocks + ((size_t)row * per_row + b) * TQ2_0_BYTES;
            if (tq2_0_block_is_zero(block)) continue;
            float d = f16_bits_to_float(tq2_0_block_d(block));
            if (have && d != row_d) { *block_scales = 1; break; }
            row_d = d;
            have = 1;
        }
    }
    return 0;
}

extern "C" int bt_cuda_ternary_pack_tq2_0(void *dst, int dst_rows, int row0, int block_scales,
                                          const void *src, int n, int k, char *err) {
    if (check_pack_args("TQ2_0", dst_rows, row0, n, k, TQ2_0_BLOCK, err)) return -1;
    uint8_t *out = (uint8_t *)dst;
    float *scales = (float *)(out + bt_tern_scale_offset(dst_rows, k));
    const uint8_t *blocks = (const uint8_t *)src;
    int per_row = k / TQ2_0_BLOCK;
    std::vector<uint8_t> codes((size_t)k);
    for (int i = 0; i < n; i++) {
        int row = row0 + i;
        float row_d = 0.0f;
        int have_d = 0;
        for (int b = 0; b < per_row; b++) {
            const uint8_t *block = blocks + ((size_t)i * per_row + b) * TQ2_0_BYTES;
            // byte m of half h holds elements 128h + 32s + m at bits 2s (s = 0..3)
            for (int h = 0; h < 2; h++)
                for (int m = 0; m < 32; m++)
                    for (int s = 0; s < 4; s++) {
                        int code = block[32 * h + m] >> (2 * s) & 3;
                        if (code == 3)
                            return bt_cuda_bad_arg(err, "TQ2_0 repack: row %d block %d holds code 3 (not ternary)", i, b);
                        codes[(size_t)b * TQ2_0_BLOCK + 128 * h + 32 * s + m] = (uint8_t)code;
                    }
            float d = f16_bits_to_float(tq2_0_block_d(block));
            if (block_scales) {
                scales[(size_t)row * per_row + b] = d;
            } else if (!tq2_0_block_is_zero(block)) {
                if (have_d && d != row_d)
                    return bt_cuda_bad_arg(err, "TQ2_0 repack: row %d has block scales %g and %g; "
                                           "pack it with block scales", i, (double)row_d, (double)d);
                row_d = d;
                have_d = 1;
            }
        }
        if (!block_scales) scales[row] = row_d;
        put_row_codes(out, row, k, codes.data());
    }
    pad_rows(out, dst_rows, row0 + n, k, block_scales);
    return 0;
}

extern "C" int bt_cuda_ternary_pack_i2_s(void *dst, int dst_rows, int row0, int block_scales,
                                         const void *src, int n, int k, char *err) {
    if (check_pack_args("I2_S", dst_rows, row0, n, k, BT_TERN_TILE_COLS, err)) return -1;
    if (block_scales && k % BT_TERN_SCALE_COLS != 0)
        return bt_cuda_bad_arg(err, "I2_S repack: block scales need k %% 256 == 0, k = %d", k);
    uint8_t *out = (uint8_t *)dst;
    float *scales = (float *)(out + bt_tern_scale_offset(dst_rows, k));
    const uint8_t *packed = (const uint8_t *)src;
    size_t total = (size_t)n * (size_t)k;
    if (total % I2_S_BLOCK != 0)
        return bt_cuda_bad_arg(err, "I2_S repack: %zu elements are not whole 128-element blocks", total);
    float scale;
    memcpy(&scale, packed + total / 4, sizeof scale);   // little-endian f32 after the codes
    std::vector<uint8_t> codes((size_t)k);
    for (int i = 0; i < n; i++) {
        for (int col = 0; col < k; col++) {
            // element e: block e/128, byte 32*block + j%32, bits 6 - 2*(j/32), j = e%128
            size_t e = (size_t)i * k + col;
            size_t j = e % I2_S_BLOCK;
            int code = packed[e / I2_S_BLOCK * I2_S_BYTES + j % 32] >> (6 - 2 * (j / 32)) & 3;
            if (code == 3)
                return bt_cuda_bad_arg(err, "I2_S repack: element [%d, %d] holds code 3 (not ternary)", i, col);
            codes[col] = (uint8_t)code;
        }
        int row = row0 + i;
        if (block_scales) {
            for (int s = 0; s < k / BT_TERN_SCALE_COLS; s++) scales[(size_t)row * (k / BT_TERN_SCALE_COLS) + s] = scale;
        } else {
            scales[row] = scale;
        }
        put_row_codes(out, row, k, codes.data());
    }
    pad_rows(out, dst_rows, row0 + n, k, block_scales);
    return 0;
}

extern "C" int bt_cuda_ternary_upload_packed(bt_cuda_ternary *out, const void *packed, int n, int k, int block_scales,
                                             bt_cuda_queue q, char *err) {
    memset(out, 0, sizeof *out);
    size_t bytes = bt_cuda_ternary_bytes(n, k, block_scales);
    if (bytes == 0 || k % BT_TERN_TILE_COLS != 0 || (block_scales && k % BT_TERN_SCALE_COLS != 0))
        return bt_cuda_bad_arg(err, "CUDA ternary upload: shape [%d, %d] (k must be a multiple of %d)", n, k,
                               block_scales ? BT_TERN_SCALE_COLS : BT_TERN_TILE_COLS);
    void *data;
    if (bt_cuda_malloc(q.dev, bytes, &data, err)) return -1;
    if (bt_cuda_memcpy_async(data, packed, bytes, 0, q, err) || bt_cuda_stream_synchronize(q, err)) {
        char ignored[BT_CUDA_ERR_CAP];
        bt_cuda_free(q.dev, data, ignored);
        return -1;
    }
    out->data = data;
    out->n = n;
    out->k = k;
    out->block_scales = block_scales;
    return 0;
}

typedef int (*pack_fn)(void *, int, int, int, const void *, int, int, char *);

static int pack_and_upload(bt_cuda_ternary *out, pack_fn pack, int block_scales, const void *src, int n, int k,
                           bt_cuda_queue q, char *err) {
    memset(out, 0, sizeof *out);
    size_t bytes = bt_cuda_ternary_bytes(n, k, block_scales);
    if (bytes == 0) return bt_cuda_bad_arg(err, "CUDA ternary upload: shape [%d, %d]", n, k);
    void *host = malloc(bytes);
    if (!host) return bt_cuda_bad_arg(err, "CUDA ternary upload: cannot allocate %zu host bytes", bytes);
    memset(host, 0, bytes);
    int rc = pack(host, n, 0, block_scales, src, n, k, err);
    if (rc == 0) rc = bt_cuda_ternary_upload_packed(out, host, n, k, block_scales, q, err);
    free(host);
    return rc;
}

extern "C" int bt_cuda_ternary_upload_tq2_0(bt_cuda_ternary *out, const void *src, int n, int k, bt_cuda_queue q,
                                            char *err) {
    int block_scales;
    memset(out, 0, sizeof *out);
    if (bt_cuda_tq2_0_needs_block_scales(&block_scales, src, n, k, err)) return -1;
    return pack_and_upload(out, bt_cuda_ternary_pack_tq2_0, block_scales, src, n, k, q, err);
}

extern "C" int bt_cuda_ternary_upload_i2_s(bt_cuda_ternary *out, const void *src, int n, int k, bt_cuda_queue q,
                                           char *err) {
    return pack_and_upload(out, bt_cuda_ternary_pack_i2_s, 0, src, n, k, q, err);
}

extern "C" int bt_cuda_ternary_free(bt_cuda_ternary *w, int dev, char *err) {
    int rc = bt_cuda_free(dev, w->data, err);
    memset(w, 0, sizeof *w);
    return rc;
}
