/* step.c - one generated token at a time: sample from the current logits with
 * the session's sampler, then feed the token. bt_session_step does it all at
 * once; bt_session_step_budget spreads the feed over calls of about budget_ms
 * each, stopping between layers (the session's chunk is the state machine:
 * embedded -> layer 1 .. L -> head), using running estimates of a layer's and
 * the head's time to stop before the budget would be overrun. */
#include "capi_internal.h"
#include "runtime/platform/platform.h"

bt_status bt_session_set_sampling(bt_session *s, const bt_sampling *opts) {
    if (!s || !opts) return bt_set_error(BT_ERR_ARG, "bt_session_set_sampling: session and options are required");
    bt_sampler *smp;
    bt_status st = bt_sampler_new(&smp, opts);
    if (st) return st;
    bt_sampler_free(s->sampler);
    s->sampler = smp;
    return BT_OK;
}

/* Samples the next token (logits must be ready, context not full). */
static bt_status sample_next(bt_session *s, int32_t *id) {
    if (!s->has_logits) return bt_set_error(BT_ERR_ARG, "step: no logits yet (feed a prompt first)");
    if (s->pos >= s->n_ctx)
        return bt_set_error(BT_ERR_ARG, "step: context full (%lld tokens, context size %lld)", (long long)s->pos,
                            (long long)s->n_ctx);
    return bt_sampler_sample(s->sampler, s->logits, s->model->hp.n_vocab, s->history, s->n_history, id);
}

bt_status bt_session_step(bt_session *s, int32_t *id) {
    if (!s || !id) return bt_set_error(BT_ERR_ARG, "bt_session_step: session and id are required");
    bt_status st = bt_session_finish(s);
    if (!st) st = sample_next(s, id);
    if (!st) st = bt_session_feed(s, id, 1);
    return st;
}

static double estimate(double old, double seconds) { return old > 0 ? 0.75 * old + 0.25 * seconds : seconds; }

bt_status bt_session_step_budget(bt_session *s, double budget_ms, int32_t *id) {
    if (!s || !id) return bt_set_error(BT_ERR_ARG, "bt_session_step_budget: session and id are required");
    if (!(budget_ms >= 0)) return bt_set_error(BT_ERR_ARG, "step_budget: budget must be >= 0 ms, got %g", budget_ms);
    const double t0 = bt_time_seconds(), budget = budget_ms / 1000;
    *id = -1;
    bt_status st = BT_OK;
    if (!s->chunk.active) {
        int32_t next;
        if ((st = sample_next(s, &next)) || (st = bt_capi_chunk_begin(s, &next, 1))) return st;
        if ((st = bt_capi_history_push(s, &next, 1))) { s->chunk.active = 0; return st; }
        *id = next;
    }
    int worked = 0;
    while (!st && s->chunk.active) {
        const int head = s->chunk.next_layer >= s->model->hp.n_layer;
        const double guess = head ? s->head_seconds : s->layer_seconds;
        const double t = bt_time_seconds();
        if (worked && t - t0 + guess > budget) break;
        st = head ? bt_capi_chunk_end(s, 1, NULL) : bt_capi_chunk_layer(s);
        const double dt = bt_time_seconds() - t;
        if (head) s->head_seconds = estimate(s->head_seconds, dt);
        else s->layer_seconds = estimate(s->layer_seconds, dt);
        worked = 1;
    }
    if (st) s->chunk.active = 0;
    return st;
}
