/* state_file.c - a session's state in a safetensors file, in the format of
 * Session:save_state / load_state (lua/bitttt/decoder.lua), so files move
 * between the C and Lua sides: tensors "layer.<l>.<field>" (l 1-based, fields
 * in sorted order), metadata format "bitttt-session-state", version "1", the
 * model's fingerprint, position and context. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capi_internal.h"
#include "runtime/safetensors.h"
#include "runtime/safetensors_write.h"

#define STATE_FORMAT "bitttt-session-state"

typedef struct state_entry { char name[64]; bt_tensor *t; } state_entry;

/* Every state tensor of the session with its file name; *n entries (caller frees). */
static bt_status list_entries(const bt_session *s, state_entry **out, size_t *n) {
    size_t count = 0;
    for (int l = 0; l < s->model->hp.n_layer; l++) count += (size_t)s->states[l].n;
    state_entry *e = calloc(count ? count : 1, sizeof *e);
    if (!e) return bt_set_error(BT_ERR_NOMEM, "state file: out of memory");
    size_t k = 0;
    for (int l = 0; l < s->model->hp.n_layer; l++)
        for (int i = 0; i < s->states[l].n; i++, k++) {
            snprintf(e[k].name, sizeof e[k].name, "layer.%d.%s", l + 1, s->states[l].names[i]);
            e[k].t = s->states[l].t[i];
        }
    *out = e;
    *n = count;
    return BT_OK;
}

bt_status bt_session_save_state(bt_session *s, const char *path) {
    if (!s || !path) return bt_set_error(BT_ERR_ARG, "save_state: session and path are required");
    bt_status st = bt_session_finish(s);
    state_entry *e = NULL;
    size_t n = 0;
    if (st || (st = list_entries(s, &e, &n))) return st;
    bt_safetensors_entry *w = calloc(n ? n : 1, sizeof *w);
    if (!w) { free(e); return bt_set_error(BT_ERR_NOMEM, "state file: out of memory"); }
    for (size_t i = 0; i < n; i++)
        w[i] = (bt_safetensors_entry){e[i].name, e[i].t->dtype, e[i].t->ndim, e[i].t->shape,
                                      bt_tensor_data(e[i].t), bt_tensor_nbytes(e[i].t)};
    char position[32], context[32];
    snprintf(position, sizeof position, "%" PRId64, s->pos);
    snprintf(context, sizeof context, "%" PRId64, s->n_ctx);
    const bt_safetensors_meta meta[] = {{"format", STATE_FORMAT}, {"version", "1"},
                                        {"fingerprint", s->model->fingerprint}, {"position", position},
                                        {"context", context}};
    st = bt_safetensors_write_file(path, w, n, meta, sizeof meta / sizeof meta[0]);
    free(w);
    free(e);
    return st;
}

/* Checks every tensor of the file against the session before anything changes. */
static bt_status check_file(const bt_session *s, const bt_safetensors *f, const char *path, const state_entry *e,
                            size_t n, int64_t *pos) {
    const char *format = bt_safetensors_metadata(f, "format"), *fp = bt_safetensors_metadata(f, "fingerprint");
    const char *position = bt_safetensors_metadata(f, "position"), *context = bt_safetensors_metadata(f, "context");
    if (!format || strcmp(format, STATE_FORMAT))
        return bt_set_error(BT_ERR_FORMAT, "%s: not a bitttt session state (format '%s')", path, format ? format : "nil");
    if (!fp || strcmp(fp, s->model->fingerprint))
        return bt_set_error(BT_ERR_FORMAT, "%s: the state was saved from another model (fingerprint %s; this model's is %s)",
                            path, fp ? fp : "nil", s->model->fingerprint);
    char *end = NULL;
    long long p = position ? strtoll(position, &end, 10) : -1;
    if (!position || *end || p < 0 || p > s->n_ctx)
        return bt_set_error(BT_ERR_FORMAT, "%s: position %s does not fit a context of %lld", path,
                            position ? position : "nil", (long long)s->n_ctx);
    for (size_t i = 0; i < n; i++) {
        const bt_safetensors_tensor *t = bt_safetensors_find(f, e[i].name);
        if (!t) return bt_set_error(BT_ERR_FORMAT, "%s: missing state tensor '%s'", path, e[i].name);
        int same = t->has_dtype && t->dtype == e[i].t->dtype && t->n_dims == e[i].t->ndim;
        for (int d = 0; same && d < t->n_dims; d++) same = t->shape[d] == e[i].t->shape[d];
        if (!same) {
            char want[96];
            return bt_set_error(BT_ERR_FORMAT, "%s: state tensor '%s' does not match this session's %s %s (context %s when saved, %lld now)",
                                path, e[i].name, bt_dtype_get_info(e[i].t->dtype)->name,
                                bt_shape_string(e[i].t->ndim, e[i].t->shape, want, sizeof want),
                                context ? context : "?", (long long)s->n_ctx);
        }
    }
    *pos = p;
    return BT_OK;
}

bt_status bt_session_load_state(bt_session *s, const char *path) {
    if (!s || !path) return bt_set_error(BT_ERR_ARG, "load_state: session and path are required");
    bt_safetensors *f = NULL;
    state_entry *e = NULL;
    size_t n = 0;
    int64_t pos = 0;
    bt_status st = bt_session_finish(s);
    if (!st) st = bt_safetensors_open(&f, path);
    if (!st) st = list_entries(s, &e, &n);
    if (!st) st = check_file(s, f, path, e, n, &pos);
    for (size_t i = 0; !st && i < n; i++)
        memcpy(bt_tensor_data(e[i].t), bt_safetensors_find(f, e[i].name)->data, bt_tensor_nbytes(e[i].t));
    if (!st) {
        s->pos = pos;
        s->n_history = 0;
        s->has_logits = 0;
    }
    free(e);
    bt_safetensors_close(f);
    return st;
}
