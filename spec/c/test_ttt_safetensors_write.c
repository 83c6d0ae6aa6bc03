/* test_ttt_safetensors_write.c - runtime/safetensors_write.h (session state files):
 * what it writes reads back through runtime/safetensors.h bit for bit (dtypes,
 * shapes incl. scalars and empty dims, data, metadata with characters JSON must
 * escape, the header padded to 8 bytes), bad entries are refused with the
 * tensor named, and a failed write leaves the earlier file as it was. */
#include "check.h"
#include "test_readers_util.h"
#include "runtime/safetensors.h"
#include "runtime/safetensors_write.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

BT_TEST(ttt_safetensors_write_reads_back) {
    char dir[512], path[600];
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "no scratch directory");
    snprintf(path, sizeof path, "%s/state.safetensors", dir);

    uint64_t rng = bt_test_seed();
    float w[3 * 5];
    int32_t pos[7];
    uint8_t bytes[1] = {0};
    uint16_t half[2] = {0x3c00, 0xc000};
    for (int i = 0; i < 15; i++) w[i] = (float)(bt_readers_rand(&rng) % 1000) / 7.0f - 50.0f;
    for (int i = 0; i < 7; i++) pos[i] = (int32_t)(bt_readers_rand(&rng) % 100000) - 50000;
    const int64_t s_w[2] = {3, 5}, s_pos[1] = {7}, s_empty[2] = {0, 4}, s_half[1] = {2};
    const bt_safetensors_entry tensors[] = {
        {"layer.1.weights", BT_F32, 2, s_w, w, sizeof w},
        {"positions \"quoted\"", BT_I32, 1, s_pos, pos, sizeof pos},
        {"empty", BT_U8, 2, s_empty, bytes, 0},
        {"scalar", BT_F32, 0, NULL, w, 4},
        {"half", BT_F16, 1, s_half, half, sizeof half},
    };
    const bt_safetensors_meta meta[] = {{"format", "bitttt-session-state"}, {"note", "a \\ b\n\"c\"\t\x01"}};
    BT_CHECK(bt_safetensors_write_file(path, tensors, 5, meta, 2) == BT_OK, "write failed: %s", bt_last_error());

    size_t size = 0;
    uint8_t *raw = bt_readers_read_file(path, &size);
    BT_CHECK(raw && size >= 8, "cannot read the file back");
    uint64_t header_len = 0;
    for (int i = 0; i < 8; i++) header_len |= (uint64_t)raw[i] << (8 * i);
    free(raw);
    BT_CHECK(header_len % 8 == 0, "header length %llu is not a multiple of 8", (unsigned long long)header_len);

    bt_safetensors *st = NULL;
    BT_CHECK(bt_safetensors_open(&st, path) == BT_OK, "reader refused the file: %s", bt_last_error());
    BT_CHECK(st->n_tensors == 5, "%zu tensors read back", st->n_tensors);
    for (size_t i = 0; i < 5; i++) {
        const bt_safetensors_tensor *t = bt_safetensors_find(st, tensors[i].name);
        BT_CHECK(t, "tensor '%s' is missing", tensors[i].name);
        BT_CHECK(t->has_dtype && t->dtype == tensors[i].dtype, "'%s': dtype %s", tensors[i].name, t->file_dtype);
        BT_CHECK(t->n_dims == tensors[i].n_dims, "'%s': %d dims", tensors[i].name, t->n_dims);
        for (int d = 0; d < t->n_dims; d++)
            BT_CHECK(t->shape[d] == tensors[i].shape[d], "'%s': dim %d is %lld", tensors[i].name, d, (long long)t->shape[d]);
        BT_CHECK(t->nbytes == tensors[i].nbytes && (t->nbytes == 0 || memcmp(t->data, tensors[i].data, t->nbytes) == 0),
                 "'%s': data differs", tensors[i].name);
    }
    BT_CHECK(st->tensors[0].offset == st->data_offset, "tensors are not in the order given");
    for (int i = 0; i < 2; i++) {
        const char *v = bt_safetensors_metadata(st, meta[i].key);
        BT_CHECK(v && strcmp(v, meta[i].value) == 0, "metadata '%s' reads back as '%s'", meta[i].key, v ? v : "(none)");
    }
    bt_safetensors_close(st);
    bt_readers_scratch_remove(dir);
}

BT_TEST(ttt_safetensors_write_refuses_bad_entries_and_keeps_old_file) {
    char dir[512], path[600], missing[700];
    BT_CHECK(bt_readers_scratch_new(dir, sizeof dir), "no scratch directory");
    snprintf(path, sizeof path, "%s/old.safetensors", dir);
    const float x[4] = {1, 2, 3, 4};
    const int64_t s4[1] = {4}, s3[1] = {3};
    const bt_safetensors_entry good = {"x", BT_F32, 1, s4, x, sizeof x};
    BT_CHECK(bt_safetensors_write_file(path, &good, 1, NULL, 0) == BT_OK, "write failed: %s", bt_last_error());
    size_t before = 0;
    uint8_t *old = bt_readers_read_file(path, &before);

    const bt_safetensors_entry wrong_size = {"x", BT_F32, 1, s3, x, sizeof x};
    BT_CHECK(bt_safetensors_write_file(path, &wrong_size, 1, NULL, 0) == BT_ERR_ARG, "a wrong byte count was accepted");
    BT_CHECK(strstr(bt_last_error(), "'x'"), "error does not name the tensor: %s", bt_last_error());
    const bt_safetensors_entry twice[2] = {good, good};
    BT_CHECK(bt_safetensors_write_file(path, twice, 2, NULL, 0) == BT_ERR_ARG, "a repeated name was accepted");
    const bt_safetensors_entry block = {"q", BT_TQ2_0, 1, s4, x, sizeof x};
    BT_CHECK(bt_safetensors_write_file(path, &block, 1, NULL, 0) == BT_ERR_UNSUPPORTED, "a block dtype was accepted");
    const bt_safetensors_entry reserved = {"__metadata__", BT_F32, 1, s4, x, sizeof x};
    BT_CHECK(bt_safetensors_write_file(path, &reserved, 1, NULL, 0) == BT_ERR_ARG, "the name __metadata__ was accepted");

    size_t after = 0;
    uint8_t *now = bt_readers_read_file(path, &after);
    BT_CHECK(old && now && before == after && memcmp(old, now, before) == 0, "refused writes changed the file");
    free(old), free(now);

    snprintf(missing, sizeof missing, "%s/no/such/dir/state.safetensors", dir);
    BT_CHECK(bt_safetensors_write_file(missing, &good, 1, NULL, 0) == BT_ERR_IO, "writing into a missing folder did not fail");
    bt_readers_scratch_remove(dir);
}
