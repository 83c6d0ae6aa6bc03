/* llama2c.c - maps a llama2.c checkpoint and names its weights (see llama2c.h). */
#include "llama2c.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 28                 /* 7 x int32 */
#define EXPORT_V1_MAGIC 0x616b3432u     /* "ak42": llama2.c's newer export formats */

/* The sizes a weight's rows and columns are measured in. */
typedef enum { DIM, HIDDEN, KV_DIM, VOCAB, SEQ_LEN, HALF_HEAD, ONE } extent;

/* The weights in file order. Per-layer sections hold n_layers consecutive
 * [rows, cols] matrices; a section without a name (the RoPE tables) is skipped. */
static const struct section {
    const char *name;   /* printf format taking the layer for per-layer sections */
    int per_layer;
    extent rows, cols;
} sections[] = {
    {"token_embd.weight", 0, VOCAB, DIM},
    {"blk.%d.attn_norm.weight", 1, ONE, DIM},
    {"blk.%d.attn_q.weight", 1, DIM, DIM},
    {"blk.%d.attn_k.weight", 1, KV_DIM, DIM},
    {"blk.%d.attn_v.weight", 1, KV_DIM, DIM},
    {"blk.%d.attn_output.weight", 1, DIM, DIM},
    {"blk.%d.ffn_norm.weight", 1, ONE, DIM},
    {"blk.%d.ffn_gate.weight", 1, HIDDEN, DIM},
    {"blk.%d.ffn_down.weight", 1, DIM, HIDDEN},
    {"blk.%d.ffn_up.weight", 1, HIDDEN, DIM},
    {"output_norm.weight", 0, ONE, DIM},
    {NULL, 0, SEQ_LEN, HALF_HEAD},   /* freq_cis_real */
    {NULL, 0, SEQ_LEN, HALF_HEAD},   /* freq_cis_imag */
    {"output.weight", 0, VOCAB, DIM},   /* only when untied */
};
#define N_SECTIONS (sizeof sections / sizeof sections[0])

static uint64_t extent_size(const bt_llama2c_config *c, extent e) {
    switch (e) {
    case DIM: return (uint64_t)c->dim;
    case HIDDEN: return (uint64_t)c->hidden_dim;
    case KV_DIM: return (uint64_t)c->kv_dim;
    case VOCAB: return (uint64_t)c->vocab_size;
    case SEQ_LEN: return (uint64_t)c->seq_len;
    case HALF_HEAD: return (uint64_t)c->head_size / 2;
    case ONE: return 1;
    }
    return 0;
}

static int section_present(const bt_llama2c_config *c, size_t s) {
    return s != N_SECTIONS - 1 || !c->shared_classifier;
}

static bt_status read_config(const bt_llama2c *m, bt_llama2c_config *c) {
    const uint8_t *b = m->map.data;
    if (m->map.size < HEADER_BYTES)
        return bt_set_error(BT_ERR_FORMAT, "%s: file too short for a llama2.c header (%zu bytes, need %d)", m->path,
                            m->map.size, HEADER_BYTES);
    int32_t h[7];
    for (int i = 0; i < 7; i++)
        h[i] = (int32_t)((uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
                         (uint32_t)b[4 * i + 3] << 24);
    if ((uint32_t)h[0] == EXPORT_V1_MAGIC)
        return bt_set_error(BT_ERR_UNSUPPORTED, "%s: llama2.c export version %d (magic 'ak42') is not supported, "
                            "only the legacy float32 format", m->path, h[1]);
    *c = (bt_llama2c_config){.dim = h[0], .hidden_dim = h[1], .n_layers = h[2], .n_heads = h[3],
                             .n_kv_heads = h[4], .vocab_size = h[5], .seq_len = h[6]};
    const char *bad = NULL;
    if (c->dim <= 0) bad = "dim must be positive";
    else if (c->hidden_dim <= 0) bad = "hidden_dim must be positive";
    else if (c->n_layers <= 0 || c->n_layers > (INT32_MAX - 3) / 9) bad = "n_layers must be positive (and not absurd)";
    else if (c->n_heads <= 0 || c->dim % c->n_heads) bad = "n_heads must be positive and divide dim";
    else if (c->n_kv_heads <= 0 || c->n_heads % c->n_kv_heads) bad = "n_kv_heads must be positive and divide n_heads";
    else if (c->vocab_size == 0 || c->vocab_size == INT32_MIN) bad = "vocab_size must be nonzero";
    else if (c->seq_len <= 0) bad = "seq_len must be positive";
    else if ((c->dim / c->n_heads) % 2) bad = "head size dim/n_heads must be even";
    if (bad)
        return bt_set_error(BT_ERR_FORMAT, "%s: bad llama2.c header (dim %d, hidden_dim %d, n_layers %d, n_heads %d, "
                            "n_kv_heads %d, vocab_size %d, seq_len %d): %s", m->path, h[0], h[1], h[2], h[3], h[4],
                            h[5], h[6], bad);
    c->shared_classifier = c->vocab_size > 0;
    if (c->vocab_size < 0) c->vocab_size = -c->vocab_size;
    c->head_size = c->dim / c->n_heads;
    c->kv_dim = c->n_kv_heads * c->head_size;
    return BT_OK;
}

/* Elements of section s (all layers), or 0 on 64-bit overflow. */
static uint64_t section_elements(const bt_llama2c_config *c, size_t s) {
    uint64_t n;
    if (__builtin_mul_overflow(extent_size(c, sections[s].rows), extent_size(c, sections[s].cols), &n)) return 0;
    if (sections[s].per_layer && __builtin_mul_overflow(n, (uint64_t)c->n_layers, &n)) return 0;
    return n;
}

static bt_status check_file_size(const bt_llama2c *m) {
    const bt_llama2c_config *c = &m->config;
    uint64_t floats = 0, expected;
    int overflow = 0;
    for (size_t s = 0; s < N_SECTIONS; s++) {
        if (!section_present(c, s)) continue;
        uint64_t n = section_elements(c, s);
        overflow |= n == 0 || __builtin_add_overflow(floats, n, &floats);
    }
    overflow |= __builtin_mul_overflow(floats, (uint64_t)4, &expected) ||
                __builtin_add_overflow(expected, (uint64_t)HEADER_BYTES, &expected);
    if (overflow || expected != m->map.size) {
        char need[32] = "more than 2^64";
        if (!overflow) snprintf(need, sizeof need, "%llu", (unsigned long long)expected);
        return bt_set_error(BT_ERR_FORMAT, "%s: file is %s: it has %zu bytes, its header (dim %d, hidden_dim %d, "
                            "n_layers %d, n_heads %d, n_kv_heads %d, vocab_size %d, %s classifier, seq_len %d) needs %s",
                            m->path, !overflow && m->map.size > expected ? "too long" : "too short", m->map.size,
                            c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->vocab_size,
                            c->shared_classifier ? "tied" : "separate", c->seq_len, need);
    }
    return BT_OK;
}

/* Names every weight; the file size was checked, so every offset is in bounds. */
static bt_status name_tensors(bt_llama2c *m) {
    const bt_llama2c_config *c = &m->config;
    m->n_tensors = 2 + 9 * c->n_layers + !c->shared_classifier;
    m->tensors = calloc((size_t)m->n_tensors, sizeof *m->tensors);
    if (!m->tensors) return bt_set_error(BT_ERR_NOMEM, "%s: out of memory for %d tensors", m->path, m->n_tensors);
    uint64_t offset = HEADER_BYTES;
    int t = 0;
    for (size_t s = 0; s < N_SECTIONS; s++) {
        if (!section_present(c, s)) continue;
        uint64_t rows = extent_size(c, sections[s].rows), cols = extent_size(c, sections[s].cols);
        if (!sections[s].name) {
            offset += 4 * section_elements(c, s);
            continue;
        }
        for (int layer = 0; layer < (sections[s].per_layer ? c->n_layers : 1); layer++) {
            bt_llama2c_tensor *w = &m->tensors[t++];
            snprintf(w->name, sizeof w->name, sections[s].name, layer);
            w->n_dims = rows == 1 ? 1 : 2;
            w->shape[0] = (int64_t)(rows == 1 ? cols : rows);
            if (rows > 1) w->shape[1] = (int64_t)cols;
            w->offset = offset;
            w->nbytes = 4 * rows * cols;
            w->data = (const float *)(m->map.data + offset);
            offset += w->nbytes;
        }
    }
    return BT_OK;
}

bt_status bt_llama2c_open(bt_llama2c **out, const char *path) {
    *out = NULL;
    bt_llama2c *m = calloc(1, sizeof *m);
    size_t path_len = strlen(path);
    if (m) m->path = malloc(path_len + 1);
    if (!m || !m->path) {
        bt_llama2c_close(m);
        return bt_set_error(BT_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(m->path, path, path_len + 1);
    bt_status st = bt_map_file(&m->map, path);
    if (st == BT_OK) st = read_config(m, &m->config);
    if (st == BT_OK) st = check_file_size(m);
    if (st == BT_OK) st = name_tensors(m);
    if (st != BT_OK) {
        bt_llama2c_close(m);
        return st;
    }
    *out = m;
    return BT_OK;
}

void bt_llama2c_close(bt_llama2c *m) {
    if (!m) return;
    if (m->map.data) bt_unmap_file(&m->map);
    free(m->tensors);
    free(m->path);
    free(m);
}

const bt_llama2c_tensor *bt_llama2c_find(const bt_llama2c *m, const char *name) {
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
    return NULL;
}
