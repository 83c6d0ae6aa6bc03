/* fuzz_util.c - scratch files for the harnesses (see fuzz_util.h). */
#include "fuzz_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void remove_dir(void);

static char dir[512];

const char *bt_fuzz_dir(void) {
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/bitttt-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) { perror("bt_fuzz_dir: mkdtemp"); abort(); }
        atexit(remove_dir);
    }
    return dir;
}

#define SLOTS 4
static char written[SLOTS][600];
static int n_written;

const char *bt_fuzz_write(const char *name, const uint8_t *data, size_t size) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s", bt_fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) { perror(path); abort(); }
    for (int i = 0; i < n_written; i++)
        if (strcmp(written[i], path) == 0) return written[i];
    if (n_written == SLOTS) { fprintf(stderr, "bt_fuzz_write: more than %d names\n", SLOTS); abort(); }
    snprintf(written[n_written], sizeof written[0], "%s", path);
    return written[n_written++];
}

static void remove_dir(void) {
    for (int i = 0; i < n_written; i++) unlink(written[i]);
    rmdir(dir);
}

void bt_fuzz_split(const uint8_t *data, size_t size, const uint8_t **a, size_t *na,
                   const uint8_t **b, size_t *nb) {
    const uint8_t *m = size >= 4 ? memmem(data, size, "\n--\n", 4) : NULL;
    *a = data;
    *na = m ? (size_t)(m - data) : size;
    *b = m ? m + 4 : data + size;
    *nb = m ? size - *na - 4 : 0;
}

#include "runtime/model_file.h"
#include "runtime/tensor.h"
#include "runtime/tokenizer.h"

void bt_fuzz_read_model_file(const char *path) {
    bt_model_file *mf = NULL;
    if (bt_model_file_open(&mf, path) != BT_OK) return;
    int64_t n = bt_model_file_tensor_count(mf);
    for (int64_t i = 0; i < n; i++) {
        char name[256];
        if (!bt_model_file_tensor_name(mf, i, name, sizeof name)) continue;
        bt_tensor *t = NULL;
        if (bt_model_file_tensor(&t, mf, name) == BT_OK) {
            /* touch the first and last byte: the mapping must cover the whole tensor */
            const volatile uint8_t *b = bt_tensor_data(t);
            size_t nb = bt_tensor_nbytes(t);
            if (b && nb) (void)(b[0] + b[nb - 1]);
            bt_tensor_free(t);
        }
    }
    bt_model_file_close(mf);
}

void bt_fuzz_exercise_tokenizer(const bt_tokenizer *tok, const uint8_t *text, size_t len) {
    for (unsigned flags = 0; flags <= (BT_ENCODE_BOS | BT_ENCODE_SPECIAL); flags += BT_ENCODE_SPECIAL | BT_ENCODE_BOS) {
        bt_token_ids ids = {0};
        if (bt_tokenizer_encode(tok, &ids, (const char *)text, len, flags) == BT_OK) {
            bt_text out = {0};
            (void)bt_tokenizer_decode(tok, &out, ids.ids, ids.n, flags != 0);
            bt_text_free(&out);
        }
        bt_token_ids_free(&ids);
    }
    /* the bytes as ids: mostly small ones, some out of range or negative */
    size_t n = len / 2;
    int32_t *raw = malloc((n ? n : 1) * sizeof *raw);
    if (!raw) return;
    int32_t vocab = bt_tokenizer_vocab_size(tok);
    for (size_t i = 0; i < n; i++) {
        int32_t v = (int32_t)(text[2 * i] | text[2 * i + 1] << 8);
        raw[i] = v >= 0xFF00 ? vocab + (v & 0xFF) - 128 : v % (vocab + 1);
    }
    bt_text out = {0};
    (void)bt_tokenizer_decode(tok, &out, raw, n, (int)(len & 1));
    bt_text_free(&out);
    bt_token_stream s;
    bt_token_stream_init(&s, tok, (int)(len & 1));
    for (size_t i = 0; i < n; i++) {
        bt_text piece = {0};
        (void)bt_token_stream_push(&s, &piece, raw[i]);
        bt_text_free(&piece);
    }
    bt_text rest = {0};
    (void)bt_token_stream_flush(&s, &rest);
    bt_text_free(&rest);
    free(raw);
}
