/* fuzz_util.h - what the libFuzzer harnesses of spec/fuzz share: the parsers take
 * paths, so each input is written to a scratch file of this process first. */
#ifndef BT_FUZZ_UTIL_H
#define BT_FUZZ_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* A scratch folder of this process (made once, under $TMPDIR or /tmp). */
const char *bt_fuzz_dir(void);
/* Writes bytes to <scratch>/<name> (replacing it); returns the path (static buffer per name slot). */
const char *bt_fuzz_write(const char *name, const uint8_t *data, size_t size);
/* Splits data at the first occurrence of the 4-byte marker "\n--\n": the part before
 * it in *a, after it in *b (all of data in *a and an empty *b when there is none).
 * Lets one input carry two files (a model and its tokenizer or config.json). */
void bt_fuzz_split(const uint8_t *data, size_t size, const uint8_t **a, size_t *na,
                   const uint8_t **b, size_t *nb);

#endif

struct bt_tokenizer;
/* Opens the model file at path (any format) and reads every tensor through it, as a
 * model build would; errors are expected and ignored. */
void bt_fuzz_read_model_file(const char *path);
/* Encodes text[0 .. len) with and without special tokens and decodes the ids back
 * (checks only memory safety and errors, not the round trip), then decodes and streams
 * ids made from the same bytes (any int32, out-of-range ones included). */
void bt_fuzz_exercise_tokenizer(const struct bt_tokenizer *tok, const uint8_t *text, size_t len);
