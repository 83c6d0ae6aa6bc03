/* capi_internal.h - the structures behind runtime/bitttt.h, shared by the files
 * of runtime/capi/: the model (weights per layer, mixers), the session (state,
 * scratch buffers, the in-flight chunk) and the internal calls between them.
 * Weights mirror the Lua graphs (lua/bitttt/models/, lua/bitttt/mixers/) field by field. */
#ifndef BT_CAPI_INTERNAL_H
#define BT_CAPI_INTERNAL_H
#include <stdint.h>
#include "runtime/bitttt.h"
#include "runtime/model_file.h"
#include "runtime/ops.h"
#include "runtime/ops_ttt.h"
#include "runtime/tensor.h"
#include "runtime/tokenizer.h"

typedef enum bt_mixer_kind { BT_MIXER_ATTENTION, BT_MIXER_TTT_LINEAR, BT_MIXER_FASTWEIGHT } bt_mixer_kind;

typedef struct bt_attention_weights {
    bt_tensor *wq, *wk, *wv, *wo;   /* [n_head*hd, d], [n_kv*hd, d] x2, [d, n_head*hd] */
    bt_tensor *sub_norm;            /* [n_head*hd] or NULL (BitNet) */
    int n_head, n_head_kv, head_dim, rope_dim;
    float rope_theta, eps, scale;
    bt_op_rope_style rope_style;
    int act_quant;
} bt_attention_weights;

typedef struct bt_ttt_linear_weights {
    bt_tensor *wq, *wk, *wv, *wo;            /* [H*hd, d] x3, [d, H*hd] */
    bt_tensor *lr_weight, *lr_bias;          /* [H, d], [H] */
    bt_tensor *token_idx;                    /* [B] */
    bt_tensor *ln_weight, *ln_bias;          /* [H, hd] */
    bt_tensor *post_weight, *post_bias;      /* [H*hd] */
    bt_tensor *W1, *b1;                      /* [H, hd, hd], [H, 1, hd] or [H, hd] */
    bt_tensor *conv_q, *conv_k;              /* [K, H*hd] causal convs on XQ, XK, or NULL (K = 0) */
    bt_tensor *conv_q_bias, *conv_k_bias;    /* [H*hd] or NULL */
    int conv_kernel;                         /* K; 0: no convs */
    float forget;                            /* fraction of their change the fast weights keep per mini-batch */
    bt_tensor *token_scale;                  /* [B] f32, derived: max(0, 1/(i+1) + token_idx[i]) */
    bt_tensor *initial;                      /* [H, hd + 1, hd] f32, derived: [W1; b1] */
    int n_head, head_dim, mini_batch;
    double base_lr;
    float rope_theta, ln_eps;
    int act_quant;
} bt_ttt_linear_weights;

typedef struct bt_fastweight_weights {
    bt_tensor *down, *up;   /* [ds, d], [d, ds] */
    int dim;
    double inner_lr;
    int act_quant;
} bt_fastweight_weights;

typedef struct bt_layer_weights {
    bt_tensor *attn_norm, *ffn_norm;               /* [d] */
    bt_tensor *ffn_gate, *ffn_up, *ffn_down;       /* [n_ff, d] x2, [d, n_ff] */
    bt_tensor *ffn_sub_norm;                       /* [n_ff] or NULL */
    bt_mixer_kind kind;
    bt_attention_weights attn;
    bt_ttt_linear_weights ttt;
    bt_fastweight_weights fw;
} bt_layer_weights;

typedef struct bt_hparams {
    int n_embd, n_layer, n_head, n_head_kv, head_dim, rope_dim, n_ff, n_vocab, n_ctx_train;
    float rms_eps;
    float rope_theta;
    bt_op_activation ffn_act;
    int act_quant;
} bt_hparams;

struct bt_model {
    bt_model_file *file;
    char *arch;
    const char *format;
    bt_hparams hp;
    int max_batch;
    int float_activations;                         /* bt_model_options.float_activations */
    bt_tensor *tok_embd, *output_norm, *output;    /* [vocab, d], [d], [vocab, d] (may be tok_embd) */
    bt_layer_weights *layers;                      /* [n_layer] */
    bt_tokenizer *tokenizer;                       /* NULL when the model has none */
    int stop_at_bos;
    char fingerprint[17];
};

/* Named per-session scratch rows [max_batch, width]. */
enum {
    BT_BUF_X, BT_BUF_H, BT_BUF_MIX, BT_BUF_GATE, BT_BUF_UP, BT_BUF_Q, BT_BUF_K, BT_BUF_V, BT_BUF_ATT,
    BT_BUF_TTT_Q, BT_BUF_TTT_K, BT_BUF_TTT_V, BT_BUF_TTT_Z, BT_BUF_TTT_ETA, BT_BUF_FW_K, BT_BUF_FW_P,
    BT_BUF_LOGITS, BT_BUF_COUNT
};

/* Views of the first m rows of every buffer. */
typedef struct bt_row_views {
    int64_t m;
    bt_tensor *buf[BT_BUF_COUNT];   /* NULL where no layer needs the buffer */
    bt_tensor *ids, *positions;     /* i32 [m] */
    bt_tensor *ttt_rope_pos;        /* i32 [m] */
    bt_tensor *fw_eta;              /* f32 [m] */
} bt_row_views;

/* One layer's per-session state: tensors in the Lua state table's sorted key order. */
typedef struct bt_layer_state {
    int n;
    const char *names[4];
    bt_tensor *t[4];
} bt_layer_state;

/* A chunk of tokens going through the layers (what a budgeted step resumes). */
typedef struct bt_chunk {
    int active;
    int64_t m;
    int next_layer;
    bt_row_views *views;
} bt_chunk;

struct bt_session {
    bt_model *model;
    int64_t n_ctx, pos;
    bt_layer_state *states;        /* [n_layer] */
    bt_tensor *buffers[BT_BUF_COUNT];
    bt_tensor *ids, *positions, *ttt_rope_pos, *fw_eta;   /* [max_batch] */
    bt_tensor *ttt_scratch;        /* f32, enough for the largest TTT layer */
    bt_row_views *views_one, *views_many;                 /* m = 1, and the last other m */
    double ttt_lr;                 /* < 0: the model's */
    float *logits;                 /* [n_vocab] the last token's */
    int has_logits;
    int32_t *history;              /* ids fed since reset */
    size_t n_history, cap_history;
    bt_sampler *sampler;
    bt_chunk chunk;
    double layer_seconds, head_seconds;   /* running estimates of a layer's and the head's time (budgeted steps) */
};

/* model_load.c / arch_*.c */
bt_status bt_capi_read_hparams_llama(bt_model *m, const char *prefix);
bt_status bt_capi_build_gguf_layers(bt_model *m);       /* llama, bitnet*, bitttt */
bt_status bt_capi_build_ttt(bt_model *m);               /* TTTForCausalLM safetensors */
bt_status bt_capi_weight(bt_tensor **out, bt_model *m, const char *name, int ndim, const int64_t *shape);
bt_status bt_capi_weight_optional(bt_tensor **out, bt_model *m, const char *name, int ndim, const int64_t *shape);
bt_status bt_capi_prepare_ttt_linear(bt_ttt_linear_weights *t);
void bt_capi_free_layers(bt_model *m);

/* metadata.c: typed lookups over GGUF metadata, config.json or llama2.c's header. */
typedef enum { BT_META_ABSENT, BT_META_NUMBER, BT_META_BOOL, BT_META_STRING, BT_META_ARRAY } bt_meta_kind;
bt_meta_kind bt_capi_meta_number(const bt_model *m, const char *key, double *out);
bt_status bt_capi_meta_int(const bt_model *m, const char *key, int has_default, int64_t def, int *out);
bt_status bt_capi_meta_float(const bt_model *m, const char *key, double def, double *out);
bt_status bt_capi_meta_bool(const bt_model *m, const char *key, int def, int *out);
bt_status bt_capi_meta_string_array(const bt_model *m, const char *key, int64_t i, char *buf, size_t cap);

/* fingerprint.c */
void bt_capi_fingerprint(bt_model *m);

/* mixers.c */
bt_status bt_capi_mixer_new_state(const bt_layer_weights *L, bt_layer_state *st, int64_t n_ctx);
bt_status bt_capi_mixer_reset_state(const bt_layer_weights *L, bt_layer_state *st);
bt_status bt_capi_mixer_forward(bt_session *s, int layer, bt_tensor *out, const bt_tensor *h, bt_row_views *v);

/* forward.c: the decoder, one chunk (at most max_batch tokens) in three parts. */
bt_status bt_capi_chunk_begin(bt_session *s, const int32_t *ids, int64_t m);
bt_status bt_capi_chunk_layer(bt_session *s);   /* the next layer of the active chunk */
/* After the last layer: position advances; want_rows 0: none, 1: the last row into
 * s->logits, 2: every row into all_logits [m, n_vocab] (and the last into s->logits). */
bt_status bt_capi_chunk_end(bt_session *s, int want_rows, float *all_logits);
void bt_capi_views_free(bt_row_views *v);

/* session.c */
bt_status bt_capi_history_push(bt_session *s, const int32_t *ids, size_t n);

/* sampler.c */
void bt_capi_sampler_reseed(bt_sampler *smp);

#endif
