/* placer.c - the CPU/GPU layer placement plan (rules in placer.h) and its
 * human-readable reason. */
#include "placer.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- byte arithmetic (saturating: figures come from users and tests) ------ */

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* What an allocation of b bytes may take from the device pool. */
static uint64_t with_rounding(uint64_t b) { return add_sat(b, b / BT_PLACER_POOL_ROUNDING + (b % BT_PLACER_POOL_ROUNDING != 0)); }

const char *bt_placer_format_bytes(uint64_t bytes, char *buf, int cap) {
    if (bytes < 1024) snprintf(buf, (size_t)cap, "%llu B", (unsigned long long)bytes);
    else if (bytes < ((uint64_t)1 << 30)) snprintf(buf, (size_t)cap, "%.1f MiB", (double)bytes / (1 << 20));
    else snprintf(buf, (size_t)cap, "%.2f GiB", (double)bytes / (1 << 30));
    return buf;
}

/* ---- the reason text -------------------------------------------------------- */

typedef struct text { char *buf; size_t len, cap; } text;

static void say(text *t, const char *fmt, ...) BT_PRINTF_FORMAT(2, 3);
static void say(text *t, const char *fmt, ...) {
    if (t->len + 1 >= t->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0) t->len = t->len + (size_t)n < t->cap ? t->len + (size_t)n : t->cap - 1;
}

/* "3-7, 9, 12-13": the layers i < n for which pick(ctx, i) holds (0-based numbers, as in blk.N). */
typedef int (*layer_pick)(const void *ctx, int i);

static void say_layers(text *t, int n, layer_pick pick, const void *ctx) {
    int first = 1;
    for (int i = 0; i < n; i++) {
        if (!pick(ctx, i)) continue;
        int j = i;
        while (j + 1 < n && pick(ctx, j + 1)) j++;
        if (j == i) say(t, "%s%d", first ? "" : ", ", i);
        else say(t, "%s%d-%d", first ? "" : ", ", i, j);
        first = 0;
        i = j;
    }
}

static int pick_flag(const void *flags, int i) { return ((const unsigned char *)flags)[i] != 0; }

typedef struct same_reason { const bt_placer_input *in; const char *why; } same_reason;

static int pick_reason(const void *ctx, int i) {
    const same_reason *r = ctx;
    const char *why = r->in->layers[i].cpu_only;
    return why && strcmp(why, r->why) == 0;
}

/* One sentence per distinct reason a layer must stay on the CPU. */
static void say_cpu_only(text *t, const bt_placer_input *in) {
    for (int i = 0; i < in->n_layers; i++) {
        same_reason r = {in, in->layers[i].cpu_only};
        if (!r.why) continue;
        int seen = 0, count = 0;
        for (int j = 0; j < in->n_layers; j++) {
            if (!pick_reason(&r, j)) continue;
            count++;
            if (j < i) seen = 1;
        }
        if (seen) continue;
        say(t, " Layer%s ", count == 1 ? "" : "s");
        say_layers(t, in->n_layers, pick_reason, &r);
        say(t, " stay%s on the CPU: %s.", count == 1 ? "s" : "", r.why);
    }
}

/* ---- the plan --------------------------------------------------------------- */

static bt_status check_input(const bt_placer_input *in, const unsigned char *layer_on_gpu) {
    if (!in) return bt_set_error(BT_ERR_ARG, "placer: no input");
    if (in->n_layers < 0) return bt_set_error(BT_ERR_ARG, "placer: %d layers", in->n_layers);
    if (in->n_layers > 0 && (!in->layers || !layer_on_gpu))
        return bt_set_error(BT_ERR_ARG, "placer: %d layers but no layer array", in->n_layers);
    if (in->n_gpu_layers < BT_PLACER_AUTO)
        return bt_set_error(BT_ERR_ARG, "placer: n_gpu_layers must be >= 0 or auto, got %d", in->n_gpu_layers);
    return BT_OK;
}

bt_status bt_placer_plan(bt_placement *out, unsigned char *layer_on_gpu, const bt_placer_input *in) {
    memset(out, 0, sizeof *out);
    bt_status st = check_input(in, layer_on_gpu);
    if (st) return st;
    const int n = in->n_layers, is_auto = in->n_gpu_layers == BT_PLACER_AUTO;
    for (int i = 0; i < n; i++) layer_on_gpu[i] = 0;
    text t = {out->reason, 0, sizeof out->reason};
    char b1[32], b2[32], b3[32];

    int capable = 0;
    for (int i = 0; i < n; i++) capable += in->layers[i].cpu_only == NULL;
    const int want = is_auto ? capable : (in->n_gpu_layers < capable ? in->n_gpu_layers : capable);
    const uint64_t budget = in->free_bytes > in->reserve_bytes ? in->free_bytes - in->reserve_bytes : 0;

    if (is_auto) say(&t, "auto:");
    else say(&t, "%d layer%s requested:", in->n_gpu_layers, in->n_gpu_layers == 1 ? "" : "s");
    say(&t, " %s free, %s reserve, %s scratch.", bt_placer_format_bytes(in->free_bytes, b1, sizeof b1),
        bt_placer_format_bytes(in->reserve_bytes, b2, sizeof b2), bt_placer_format_bytes(in->scratch_bytes, b3, sizeof b3));
    if (!is_auto && in->n_gpu_layers > capable)
        say(&t, " The model has %d layer%s that can run on the GPU.", capable, capable == 1 ? "" : "s");

    /* Layers, from the last one backwards. */
    uint64_t used = 0;
    int stop = -1;
    uint64_t stop_need = 0;
    for (int l = n - 1; l >= 0 && out->n_gpu_layers < want; l--) {
        if (in->layers[l].cpu_only) continue;
        uint64_t need = add_sat(with_rounding(in->layers[l].weight_bytes), with_rounding(in->layers[l].state_bytes));
        if (used == 0) need = add_sat(need, in->scratch_bytes);
        if (need > budget - used) { stop = l; stop_need = need; break; }
        used += need;
        layer_on_gpu[l] = 1;
        out->n_gpu_layers++;
    }
    if (n == 0) say(&t, " The model has no layers.");
    else if (out->n_gpu_layers == n) say(&t, " All %d layers on the GPU.", n);
    else if (out->n_gpu_layers == 0) say(&t, " No layer on the GPU.");
    else {
        say(&t, " %d of %d layers on the GPU (", out->n_gpu_layers, n);
        say_layers(&t, n, pick_flag, layer_on_gpu);
        say(&t, "), the rest on the CPU.");
    }
    if (stop >= 0)
        say(&t, " Layer %d needs %s with rounding%s; %s left.", stop, bt_placer_format_bytes(stop_need, b1, sizeof b1),
            used == 0 ? " and scratch" : "", bt_placer_format_bytes(budget - used, b2, sizeof b2));
    else if (!is_auto && want < in->n_gpu_layers && want > 0) say(&t, " Placed every capable layer.");
    say_cpu_only(&t, in);

    /* The head, then the embedding. */
    char head[80];
    snprintf(head, sizeof head, "The output head (%s%s)", bt_placer_format_bytes(in->head_bytes, b1, sizeof b1),
             in->embd_tied ? ", shared with the embedding" : "");
    uint64_t head_need = with_rounding(in->head_bytes);
    if (used == 0) head_need = add_sat(head_need, in->scratch_bytes);
    if (in->n_gpu_layers == 0) say(&t, " %s stays on the CPU (0 layers requested).", head);
    else if (in->head_cpu_only) say(&t, " %s stays on the CPU: %s.", head, in->head_cpu_only);
    else if (head_need <= budget - used) {
        used += head_need;
        out->head_on_gpu = 1;
        say(&t, " %s goes to the GPU.", head);
    } else {
        say(&t, " %s stays on the CPU: it needs %s with rounding%s, %s left.", head,
            bt_placer_format_bytes(head_need, b1, sizeof b1), used == 0 ? " and scratch" : "",
            bt_placer_format_bytes(budget - used, b2, sizeof b2));
    }
    out->embd_on_gpu = in->embd_tied && out->head_on_gpu && (n == 0 || layer_on_gpu[0]);
    if (out->embd_on_gpu) say(&t, " Embedding lookups on the GPU (the head's table).");
    else say(&t, " Embedding lookups on the CPU.");
    out->gpu_bytes = used;
    return BT_OK;
}
