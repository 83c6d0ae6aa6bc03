/* forward.c - the decoder of lua/bitttt/decoder.lua (Session:forward_chunk) in
 * C, cut into three parts so a budgeted step can stop between layers:
 *
 *   begin:  x = embed(ids)                                          [m, d]
 *   layer:  x += mixer(rmsnorm(x) * attn_norm)
 *           x += down(act(gate(h)) * up(h)),  h = rmsnorm(x) * ffn_norm   (BitNet: ffn_sub_norm before down)
 *   end:    logits = head(rmsnorm(x) * output_norm)                  [rows, vocab]
 */
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"

void bt_capi_views_free(bt_row_views *v) {
    if (!v) return;
    for (int i = 0; i < BT_BUF_COUNT; i++) bt_tensor_free(v->buf[i]);
    bt_tensor_free(v->ids);
    bt_tensor_free(v->positions);
    bt_tensor_free(v->ttt_rope_pos);
    bt_tensor_free(v->fw_eta);
    free(v);
}

static bt_status narrow_rows(bt_tensor **out, const bt_tensor *t, int64_t m) {
    *out = NULL;
    return t ? bt_tensor_narrow(out, t, 0, 0, m) : BT_OK;
}

/* Views of the first m rows (cached: m = 1 for decoding, and the last other m). */
static bt_status views_for(bt_session *s, int64_t m, bt_row_views **out) {
    bt_row_views **slot = m == 1 ? &s->views_one : &s->views_many;
    if (*slot && (*slot)->m == m) { *out = *slot; return BT_OK; }
    bt_capi_views_free(*slot);
    *slot = NULL;
    bt_row_views *v = calloc(1, sizeof *v);
    if (!v) return bt_set_error(BT_ERR_NOMEM, "session: out of memory");
    v->m = m;
    bt_status st = BT_OK;
    for (int i = 0; !st && i < BT_BUF_COUNT; i++) st = narrow_rows(&v->buf[i], s->buffers[i], m);
    if (!st) st = narrow_rows(&v->ids, s->ids, m);
    if (!st) st = narrow_rows(&v->positions, s->positions, m);
    if (!st) st = narrow_rows(&v->ttt_rope_pos, s->ttt_rope_pos, m);
    if (!st) st = narrow_rows(&v->fw_eta, s->fw_eta, m);
    if (st) { bt_capi_views_free(v); return st; }
    *slot = *out = v;
    return BT_OK;
}

bt_status bt_capi_chunk_begin(bt_session *s, const int32_t *ids, int64_t m) {
    bt_row_views *v;
    bt_status st = views_for(s, m, &v);
    if (st) return st;
    int32_t *id = bt_tensor_data(v->ids), *pos = bt_tensor_data(v->positions);
    const int32_t n_vocab = s->model->hp.n_vocab;
    for (int64_t i = 0; i < m; i++) {
        if (ids[i] < 0 || ids[i] >= n_vocab)
            return bt_set_error(BT_ERR_ARG, "feed: token id %d out of range [0, %d)", (int)ids[i], (int)n_vocab);
        id[i] = ids[i];
        pos[i] = (int32_t)(s->pos + i);
    }
    if ((st = bt_op_get_rows(v->buf[BT_BUF_X], s->model->tok_embd, v->ids))) return st;
    s->chunk = (bt_chunk){1, m, 0, v};
    return BT_OK;
}

bt_status bt_capi_chunk_layer(bt_session *s) {
    const bt_model *model = s->model;
    const int l = s->chunk.next_layer;
    const bt_layer_weights *L = &model->layers[l];
    bt_row_views *v = s->chunk.views;
    bt_tensor *x = v->buf[BT_BUF_X], *h = v->buf[BT_BUF_H], *mix = v->buf[BT_BUF_MIX];
    bt_tensor *gate = v->buf[BT_BUF_GATE], *up = v->buf[BT_BUF_UP];
    const float eps = model->hp.rms_eps;
    const int aq = model->hp.act_quant;
    bt_status st;
    if ((st = bt_op_rmsnorm(h, x, L->attn_norm, eps)) || (st = bt_capi_mixer_forward(s, l, mix, h, v)) ||
        (st = bt_op_add(x, x, mix)) || (st = bt_op_rmsnorm(h, x, L->ffn_norm, eps)) ||
        (st = bt_op_linear(gate, L->ffn_gate, h, aq)) || (st = bt_op_linear(up, L->ffn_up, h, aq)) ||
        (st = bt_op_gated(gate, gate, up, model->hp.ffn_act)))
        return st;
    if (L->ffn_sub_norm && (st = bt_op_rmsnorm(gate, gate, L->ffn_sub_norm, eps))) return st;
    if ((st = bt_op_linear(mix, L->ffn_down, gate, aq)) || (st = bt_op_add(x, x, mix))) return st;
    s->chunk.next_layer++;
    return BT_OK;
}

bt_status bt_capi_chunk_end(bt_session *s, int want_rows, float *all_logits) {
    const bt_model *model = s->model;
    bt_row_views *v = s->chunk.views;
    const int64_t m = s->chunk.m, n_vocab = model->hp.n_vocab;
    s->chunk.active = 0;
    s->pos += m;
    if (want_rows == 0) return BT_OK;
    bt_status st;
    if (want_rows == 2) {
        if ((st = bt_op_rmsnorm(v->buf[BT_BUF_H], v->buf[BT_BUF_X], model->output_norm, model->hp.rms_eps)) ||
            (st = bt_op_linear(v->buf[BT_BUF_LOGITS], model->output, v->buf[BT_BUF_H], 0)))
            return st;
        const float *rows = bt_tensor_data(v->buf[BT_BUF_LOGITS]);
        memcpy(all_logits, rows, (size_t)(m * n_vocab) * sizeof(float));
        memcpy(s->logits, rows + (m - 1) * n_vocab, (size_t)n_vocab * sizeof(float));
        s->has_logits = 1;
        return BT_OK;
    }
    bt_tensor *last_x = NULL;
    bt_row_views *one;
    if ((st = bt_tensor_narrow(&last_x, v->buf[BT_BUF_X], 0, m - 1, 1))) return st;
    if (!(st = views_for(s, 1, &one)) &&
        !(st = bt_op_rmsnorm(one->buf[BT_BUF_H], last_x, model->output_norm, model->hp.rms_eps)) &&
        !(st = bt_op_linear(one->buf[BT_BUF_LOGITS], model->output, one->buf[BT_BUF_H], 0))) {
        memcpy(s->logits, bt_tensor_data(one->buf[BT_BUF_LOGITS]), (size_t)n_vocab * sizeof(float));
        s->has_logits = 1;
    }
    bt_tensor_free(last_x);
    return st;
}
