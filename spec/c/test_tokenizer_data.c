/* test_tokenizer_data.c - reading the tokenizer reference data (see test_tokenizer_data.h). */
#include "test_tokenizer_data.h"
#include "test_readers_util.h"
#include "runtime/platform/platform.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bt_test_data_path(char *out, size_t cap, const char *rel) {
    return bt_readers_data_path(out, cap, rel);
}

char *bt_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) != NULL) {
        if (fread(buf, 1, (size_t)size, f) == (size_t)size) {
            buf[size] = 0;
            *len = (size_t)size;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

static const char separator[] = "\n__ggml_vocab_test__\n";

/* Splits the .inp bytes into strings: each ends where a separator starts. */
static int split_inputs(bt_vocab_cases *vc, size_t len) {
    size_t sep_len = sizeof separator - 1, cap = 0;
    for (size_t at = 0; at < len;) {
        const char *hit = bt_memmem(vc->inp + at, len - at, separator, sep_len);
        if (!hit) return 0;   /* every string, the last included, is followed by the separator */
        if (vc->n == cap) {
            cap = cap ? 2 * cap : 64;
            bt_vocab_case *p = realloc(vc->cases, cap * sizeof *p);
            if (!p) return 0;
            vc->cases = p;
        }
        vc->cases[vc->n++] = (bt_vocab_case){vc->inp + at, (size_t)(hit - (vc->inp + at)), NULL, 0};
        at = (size_t)(hit - vc->inp) + sep_len;
    }
    return 1;
}

/* Line i of the .out file holds the ids of string i. */
static int parse_outputs(bt_vocab_cases *vc, const char *out) {
    const char *line = out;
    for (size_t i = 0; i < vc->n; i++) {
        const char *end = strchr(line, '\n');
        if (!end) return 0;
        bt_vocab_case *c = &vc->cases[i];
        c->ids = malloc(((size_t)(end - line) / 2 + 1) * sizeof *c->ids);
        if (!c->ids) return 0;
        for (const char *p = line; p < end;) {
            char *next;
            long v = strtol(p, &next, 10);
            if (next == p) break;
            c->ids[c->n_ids++] = (int32_t)v;
            p = next;
        }
        line = end + 1;
    }
    return *line == 0;   /* no lines left over */
}

int bt_vocab_cases_load(bt_vocab_cases *vc, const char *gguf_name, char *why, size_t why_cap) {
    char rel[256], inp_path[1024], out_path[1024];
    size_t inp_len, out_len;
    *vc = (bt_vocab_cases){0};
    snprintf(rel, sizeof rel, "tokenizers/%s.inp", gguf_name);
    int have = bt_test_data_path(inp_path, sizeof inp_path, rel);
    snprintf(rel, sizeof rel, "tokenizers/%s.out", gguf_name);
    have = bt_test_data_path(out_path, sizeof out_path, rel) && have;
    if (!have) {
        snprintf(why, why_cap, "test data not found");
        return 0;
    }
    vc->inp = bt_test_read_file(inp_path, &inp_len);
    char *out = bt_test_read_file(out_path, &out_len);
    int ok = vc->inp && out && split_inputs(vc, inp_len) && parse_outputs(vc, out);
    free(out);
    if (!ok) {
        snprintf(why, why_cap, "%s / %s: not the expected format", inp_path, out_path);
        bt_vocab_cases_free(vc);
    }
    return ok ? 1 : -1;
}

void bt_vocab_cases_free(bt_vocab_cases *vc) {
    for (size_t i = 0; i < vc->n; i++) free(vc->cases[i].ids);
    free(vc->cases);
    free(vc->inp);
    *vc = (bt_vocab_cases){0};
}
