/* state.c - a session's state in memory: reset to the model's initial state,
 * snapshots (copies of the position, every layer's state tensors, the history
 * and the last logits) and restoring them, as Session:reset / snapshot /
 * restore in lua/bitttt/decoder.lua. */
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"

struct bt_snapshot {
    const bt_model *model;
    int64_t n_ctx, pos;
    int n_layer;
    bt_layer_state *states;   /* copies */
    int32_t *history;
    size_t n_history;
    float *logits;            /* [n_vocab] or NULL */
};

bt_status bt_session_reset(bt_session *s) {
    if (!s) return bt_set_error(BT_ERR_ARG, "session is NULL");
    s->chunk.active = 0;
    s->pos = 0;
    s->n_history = 0;
    s->has_logits = 0;
    bt_status st = BT_OK;
    for (int l = 0; !st && l < s->model->hp.n_layer; l++)
        st = bt_capi_mixer_reset_state(&s->model->layers[l], &s->states[l]);
    return st;
}

void bt_snapshot_free(bt_snapshot *snap) {
    if (!snap) return;
    for (int l = 0; snap->states && l < snap->n_layer; l++)
        for (int i = 0; i < snap->states[l].n; i++) bt_tensor_free(snap->states[l].t[i]);
    free(snap->states);
    free(snap->history);
    free(snap->logits);
    free(snap);
}

bt_status bt_session_snapshot(bt_session *s, bt_snapshot **out) {
    if (!s || !out) return bt_set_error(BT_ERR_ARG, "snapshot: session and out are required");
    *out = NULL;
    bt_status st = bt_session_finish(s);
    if (st) return st;
    bt_snapshot *snap = calloc(1, sizeof *snap);
    const int L = s->model->hp.n_layer;
    const size_t n_vocab = (size_t)s->model->hp.n_vocab;
    if (!snap) return bt_set_error(BT_ERR_NOMEM, "snapshot: out of memory");
    *snap = (bt_snapshot){s->model, s->n_ctx, s->pos, L, calloc((size_t)L, sizeof(bt_layer_state)),
                          malloc((s->n_history ? s->n_history : 1) * sizeof(int32_t)), s->n_history,
                          s->has_logits ? malloc(n_vocab * sizeof(float)) : NULL};
    if (!snap->states || !snap->history || (s->has_logits && !snap->logits)) {
        bt_snapshot_free(snap);
        return bt_set_error(BT_ERR_NOMEM, "snapshot: out of memory");
    }
    if (s->n_history) memcpy(snap->history, s->history, s->n_history * sizeof(int32_t));
    if (snap->logits) memcpy(snap->logits, s->logits, n_vocab * sizeof(float));
    for (int l = 0; !st && l < L; l++) {
        snap->states[l] = s->states[l];
        for (int i = 0; i < s->states[l].n; i++) snap->states[l].t[i] = NULL;
        for (int i = 0; !st && i < s->states[l].n; i++)
            st = bt_tensor_to(&snap->states[l].t[i], s->states[l].t[i], BT_F32, BT_CPU);
    }
    if (st) {
        bt_snapshot_free(snap);
        return st;
    }
    *out = snap;
    return BT_OK;
}

bt_status bt_session_restore(bt_session *s, const bt_snapshot *snap) {
    if (!s || !snap) return bt_set_error(BT_ERR_ARG, "restore: session and snapshot are required");
    if (snap->model != s->model) return bt_set_error(BT_ERR_ARG, "restore: not a snapshot of a session of this model");
    if (snap->n_ctx != s->n_ctx)
        return bt_set_error(BT_ERR_ARG, "restore: the snapshot has context %lld, this session %lld",
                            (long long)snap->n_ctx, (long long)s->n_ctx);
    s->chunk.active = 0;
    s->n_history = 0;
    bt_status st = bt_capi_history_push(s, snap->history, snap->n_history);
    for (int l = 0; !st && l < snap->n_layer; l++)
        for (int i = 0; !st && i < snap->states[l].n; i++) st = bt_tensor_copy(s->states[l].t[i], snap->states[l].t[i]);
    if (st) return st;
    s->pos = snap->pos;
    s->has_logits = snap->logits != NULL;
    if (snap->logits) memcpy(s->logits, snap->logits, (size_t)s->model->hp.n_vocab * sizeof(float));
    return BT_OK;
}
