/* test_readers_util.h - helpers for the model-file reader tests (test_readers_*.c):
 * finding the test data (env BITTTT_DATA, else BT_TEST_DATA_DIR), a
 * scratch directory for files made at test time, whole-file reads and writes,
 * a seeded random stream, and a byte builder for hand-made GGUF files. */
#ifndef BT_TEST_READERS_UTIL_H
#define BT_TEST_READERS_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"
#include "runtime/gguf.h"

/* The reference fixtures in the repository (spec/data/README.md), relative to the
 * repository root, where the C tests run. The one place the tests name that folder. */
#define BT_TEST_DATA_DIR "spec/data"

/* The path of data file `rel` in out[cap]; 1 if the file exists, else 0. */
int bt_readers_data_path(char *out, size_t cap, const char *rel);

/* A fresh scratch directory in out[cap] (1 on success); remove it, with the
 * files in it, by bt_readers_scratch_remove. */
int bt_readers_scratch_new(char *out, size_t cap);
void bt_readers_scratch_remove(const char *dir);

/* The whole file (malloc'd) or NULL; *size gets its length. */
uint8_t *bt_readers_read_file(const char *path, size_t *size);
int bt_readers_write_file(const char *path, const void *data, size_t size);   /* 1 on success */

/* Decompresses a .gz file (zlib) into out_path; 1 on success. */
int bt_readers_gunzip(const char *gz_path, const char *out_path);

uint64_t bt_readers_rand(uint64_t *state);   /* splitmix64 */

/* 1 when st is BT_ERR_FORMAT and bt_last_error() contains every one of the
 * NULL-terminated words (the file name, the field...). */
int bt_readers_format_error(bt_status st, ...);

/* Little-endian stores into a byte buffer, for patching files at test time. */
void bt_readers_put_u32(uint8_t *at, uint32_t v);
void bt_readers_put_u64(uint8_t *at, uint64_t v);

/* A growing byte buffer for hand-made files (aborts the test run on out of memory). */
typedef struct bt_readers_bytes {
    uint8_t *data;   /* [len] */
    size_t len, cap;
} bt_readers_bytes;
void bt_readers_bytes_put(bt_readers_bytes *b, const void *src, size_t n);
void bt_readers_bytes_u32(bt_readers_bytes *b, uint32_t v);
void bt_readers_bytes_u64(bt_readers_bytes *b, uint64_t v);
void bt_readers_bytes_str(bt_readers_bytes *b, const char *s);   /* GGUF string: u64 length + bytes */

/* A GGUF v3 file without tensors whose one metadata entry "nested" holds
 * [[1, 2, 3] (int32), [] (string), [["a", "bc"], ["d"]]]; and a check that a
 * value read back is exactly that. */
void bt_readers_nested_gguf(bt_readers_bytes *b);
int bt_readers_nested_ok(const bt_gguf_value *v);

#endif
