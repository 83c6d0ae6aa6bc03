/* llama2c.h - zero-copy reader for llama2.c float32 checkpoints (karpathy/llama2.c
 * run.c, "legacy" export format).
 *
 * The file is 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len; a negative vocab_size means the classifier is stored
 * after the other weights instead of being tied to the embedding), then f32
 * weights in llama2.c's order. bt_llama2c_open() maps the file, checks its size
 * exactly, and exposes each weight under its GGUF (llama.cpp) name, so one model
 * graph can read either format:
 *
 *   token_embd.weight        [vocab, dim]
 *   blk.N.attn_norm.weight   [dim]            blk.N.ffn_norm.weight  [dim]
 *   blk.N.attn_q.weight      [dim, dim]       blk.N.ffn_gate.weight  [hidden, dim]   (w1)
 *   blk.N.attn_k.weight      [kv_dim, dim]    blk.N.ffn_down.weight  [dim, hidden]   (w2)
 *   blk.N.attn_v.weight      [kv_dim, dim]    blk.N.ffn_up.weight    [hidden, dim]   (w3)
 *   blk.N.attn_output.weight [dim, dim]
 *   output_norm.weight       [dim]
 *   output.weight            [vocab, dim]     (only when untied, as in GGUF files)
 *
 * Shapes are numpy order (out, in). llama2.c's q/k rows are already in the
 * layout llama.cpp uses for its "llama" architecture (RoPE on interleaved pairs),
 * so they need no permutation. The precomputed RoPE tables (freq_cis_real/imag,
 * [seq_len, head_size/2] each) are skipped.
 */
#ifndef BT_LLAMA2C_H
#define BT_LLAMA2C_H
#include <stdint.h>
#include "base/error.h"
#include "platform/platform.h"

typedef struct bt_llama2c_config {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads;
    int32_t vocab_size;          /* always positive here */
    int32_t seq_len;
    int shared_classifier;       /* 1: the output head is token_embd.weight */
    int32_t head_size, kv_dim;   /* dim / n_heads, n_kv_heads * head_size */
} bt_llama2c_config;

typedef struct bt_llama2c_tensor {
    char name[40];               /* GGUF name, see above */
    int n_dims;                  /* 1 or 2 */
    int64_t shape[2];            /* numpy order */
    const float *data;           /* [shape] f32, into the mapping */
    uint64_t offset;             /* byte offset in the file */
    uint64_t nbytes;
} bt_llama2c_tensor;

typedef struct bt_llama2c {
    char *path;
    bt_mapped_file map;
    bt_llama2c_config config;
    int n_tensors;
    bt_llama2c_tensor *tensors;  /* [n_tensors] in file order */
} bt_llama2c;

bt_status bt_llama2c_open(bt_llama2c **out, const char *path);
void bt_llama2c_close(bt_llama2c *m);   /* NULL is fine */
const bt_llama2c_tensor *bt_llama2c_find(const bt_llama2c *m, const char *name);   /* NULL if absent */

#endif
