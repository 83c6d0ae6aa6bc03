/* session.c - inference sessions of the C API (lua/bitttt/decoder.lua's
 * Session): per-session state (KV caches, TTT fast weights), scratch rows for
 * a chunk of max_batch tokens, the ids fed so far (for sampling penalties),
 * and feeding tokens through the decoder in chunks. */
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"

static void widen(int64_t *widths, int buf, int64_t w) {
    if (widths[buf] < w) widths[buf] = w;
}

/* Row widths of every scratch buffer (the widest any layer needs), as Decoder:new_session. */
static void buffer_widths(const bt_model *m, int64_t *widths, size_t *ttt_scratch) {
    const bt_hparams *hp = &m->hp;
    memset(widths, 0, BT_BUF_COUNT * sizeof *widths);
    widths[BT_BUF_X] = widths[BT_BUF_H] = widths[BT_BUF_MIX] = hp->n_embd;
    widths[BT_BUF_GATE] = widths[BT_BUF_UP] = hp->n_ff;
    widths[BT_BUF_LOGITS] = hp->n_vocab;
    *ttt_scratch = 0;
    for (int l = 0; l < hp->n_layer; l++) {
        const bt_layer_weights *L = &m->layers[l];
        if (L->kind == BT_MIXER_ATTENTION) {
            const int64_t q = (int64_t)L->attn.n_head * L->attn.head_dim, kv = (int64_t)L->attn.n_head_kv * L->attn.head_dim;
            widen(widths, BT_BUF_Q, q);
            widen(widths, BT_BUF_ATT, q);
            widen(widths, BT_BUF_K, kv);
            widen(widths, BT_BUF_V, kv);
        } else if (L->kind == BT_MIXER_TTT_LINEAR) {
            const int64_t w = (int64_t)L->ttt.n_head * L->ttt.head_dim;
            const int64_t span = m->max_batch < L->ttt.mini_batch ? m->max_batch : L->ttt.mini_batch;
            const size_t need = bt_op_ttt_linear_scratch_floats(span, L->ttt.n_head, L->ttt.head_dim);
            for (int b = BT_BUF_TTT_Q; b <= BT_BUF_TTT_Z; b++) widen(widths, b, w);
            widen(widths, BT_BUF_TTT_ETA, L->ttt.n_head);
            if (*ttt_scratch < need) *ttt_scratch = need;
        } else {
            widen(widths, BT_BUF_FW_K, L->fw.dim);
            widen(widths, BT_BUF_FW_P, L->fw.dim);
        }
    }
}

static bt_status new_vector(bt_tensor **out, bt_dtype dtype, int64_t n) {
    return bt_tensor_new(out, dtype, 1, &n, BT_CPU);
}

bt_status bt_session_new(bt_session **out, bt_model *model, const bt_session_options *opts) {
    if (!out || !model) return bt_set_error(BT_ERR_ARG, "bt_session_new: out and model are required");
    *out = NULL;
    const int64_t n_ctx = opts && opts->n_ctx ? opts->n_ctx : model->hp.n_ctx_train;
    if (n_ctx < 1) return bt_set_error(BT_ERR_ARG, "bt_session_new: context size must be >= 1, got %lld", (long long)n_ctx);
    bt_session *s = calloc(1, sizeof *s);
    if (!s) return bt_set_error(BT_ERR_NOMEM, "bt_session_new: out of memory");
    s->model = model;
    s->n_ctx = n_ctx;
    s->ttt_lr = -1;
    const int64_t B = model->max_batch;
    int64_t widths[BT_BUF_COUNT];
    size_t scratch_floats;
    buffer_widths(model, widths, &scratch_floats);
    bt_status st = BT_OK;
    s->states = calloc((size_t)model->hp.n_layer, sizeof *s->states);
    s->logits = malloc((size_t)model->hp.n_vocab * sizeof *s->logits);
    if (!s->states || !s->logits) st = bt_set_error(BT_ERR_NOMEM, "bt_session_new: out of memory");
    for (int l = 0; !st && l < model->hp.n_layer; l++)
        st = bt_capi_mixer_new_state(&model->layers[l], &s->states[l], n_ctx);
    for (int b = 0; !st && b < BT_BUF_COUNT; b++) {
        const int64_t shape[2] = {B, widths[b]};
        if (widths[b]) st = bt_tensor_new(&s->buffers[b], BT_F32, 2, shape, BT_CPU);
    }
    if (!st) st = new_vector(&s->ids, BT_I32, B);
    if (!st) st = new_vector(&s->positions, BT_I32, B);
    if (!st) st = new_vector(&s->ttt_rope_pos, BT_I32, B);
    if (!st) st = new_vector(&s->fw_eta, BT_F32, B);
    if (!st && scratch_floats) st = new_vector(&s->ttt_scratch, BT_F32, (int64_t)scratch_floats);
    bt_sampling recommended;
    if (!st) st = bt_model_sampling(model, &recommended);
    if (!st) st = bt_sampler_new(&s->sampler, &recommended);
    if (st) {
        bt_session_free(s);
        return st;
    }
    *out = s;
    return BT_OK;
}

void bt_session_free(bt_session *s) {
    if (!s) return;
    for (int l = 0; s->states && l < s->model->hp.n_layer; l++)
        for (int i = 0; i < s->states[l].n; i++) bt_tensor_free(s->states[l].t[i]);
    free(s->states);
    for (int b = 0; b < BT_BUF_COUNT; b++) bt_tensor_free(s->buffers[b]);
    bt_tensor_free(s->ids);
    bt_tensor_free(s->positions);
    bt_tensor_free(s->ttt_rope_pos);
    bt_tensor_free(s->fw_eta);
    bt_tensor_free(s->ttt_scratch);
    bt_capi_views_free(s->views_one);
    bt_capi_views_free(s->views_many);
    bt_sampler_free(s->sampler);
    free(s->logits);
    free(s->history);
    free(s);
}

int bt_session_position(const bt_session *s) { return s ? (int)s->pos : 0; }
int bt_session_context(const bt_session *s) { return s ? (int)s->n_ctx : 0; }
const float *bt_session_logits(const bt_session *s) { return s && s->has_logits ? s->logits : NULL; }
int bt_session_busy(const bt_session *s) { return s && s->chunk.active; }

bt_status bt_capi_history_push(bt_session *s, const int32_t *ids, size_t n) {
    if (s->n_history + n > s->cap_history) {
        size_t cap = s->cap_history ? s->cap_history : 256;
        while (cap < s->n_history + n) cap *= 2;
        int32_t *p = realloc(s->history, cap * sizeof *p);
        if (!p) return bt_set_error(BT_ERR_NOMEM, "session: out of memory for the token history");
        s->history = p;
        s->cap_history = cap;
    }
    if (n) memcpy(s->history + s->n_history, ids, n * sizeof *ids);
    s->n_history += n;
    return BT_OK;
}

bt_status bt_session_finish(bt_session *s) {
    if (!s) return bt_set_error(BT_ERR_ARG, "session is NULL");
    bt_status st = BT_OK;
    while (!st && s->chunk.active && s->chunk.next_layer < s->model->hp.n_layer) st = bt_capi_chunk_layer(s);
    if (!st && s->chunk.active) st = bt_capi_chunk_end(s, 1, NULL);
    if (st) s->chunk.active = 0;
    return st;
}

/* Runs ids through the decoder in chunks of max_batch; all_logits [n, vocab] or NULL. */
static bt_status feed(bt_session *s, const int32_t *ids, size_t n, float *all_logits) {
    if (!s || (n && !ids)) return bt_set_error(BT_ERR_ARG, "feed: session and ids are required");
    bt_status st = bt_session_finish(s);
    if (st) return st;
    if (n == 0) return bt_set_error(BT_ERR_ARG, "feed: no tokens");
    if (s->pos + (int64_t)n > s->n_ctx)
        return bt_set_error(BT_ERR_ARG, "context full: %lld tokens already, %zu more, context size %lld",
                            (long long)s->pos, n, (long long)s->n_ctx);
    const size_t B = (size_t)s->model->max_batch, n_vocab = (size_t)s->model->hp.n_vocab;
    for (size_t first = 0; first < n && !st; first += B) {
        const size_t m = n - first < B ? n - first : B;
        const int want = all_logits ? 2 : (first + m == n ? 1 : 0);
        st = bt_capi_chunk_begin(s, ids + first, (int64_t)m);
        while (!st && s->chunk.next_layer < s->model->hp.n_layer) st = bt_capi_chunk_layer(s);
        if (!st) st = bt_capi_chunk_end(s, want, all_logits ? all_logits + first * n_vocab : NULL);
        if (!st) st = bt_capi_history_push(s, ids + first, m);
    }
    if (st) s->chunk.active = 0;
    return st;
}

bt_status bt_session_feed(bt_session *s, const int32_t *ids, size_t n) { return feed(s, ids, n, NULL); }

bt_status bt_session_feed_all(bt_session *s, const int32_t *ids, size_t n, float *logits) {
    if (!logits) return bt_set_error(BT_ERR_ARG, "bt_session_feed_all: logits buffer is required");
    return feed(s, ids, n, logits);
}

bt_status bt_session_set_ttt_lr(bt_session *s, double lr) {
    if (!s) return bt_set_error(BT_ERR_ARG, "session is NULL");
    if (lr != lr) return bt_set_error(BT_ERR_ARG, "set_ttt_lr: a number expected, got NaN");
    s->ttt_lr = lr < 0 ? -1 : lr;
    return BT_OK;
}
