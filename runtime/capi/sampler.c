/* sampler.c - picks the next token from a row of logits, as
 * lua/bitttt/sampling.lua does (same options, same order, same ties, doubles
 * throughout) with rng.lua's generator, so a seed gives the same tokens:
 * penalties, then greedy (temp <= 0), else top-k, top-p, min-p, temperature,
 * softmax, draw. */
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include "capi_internal.h"

/* L'Ecuyer's combined LCG (1988), as rng.lua: products stay below 2^53. */
#define RNG_M1 2147483563LL
#define RNG_A1 40014LL
#define RNG_M2 2147483399LL
#define RNG_A2 40692LL

typedef struct rng { int64_t s1, s2; } rng;

static double rng_next(rng *r) {
    r->s1 = (RNG_A1 * r->s1) % RNG_M1;
    r->s2 = (RNG_A2 * r->s2) % RNG_M2;
    int64_t z = r->s1 - r->s2;
    if (z < 1) z += RNG_M1 - 1;
    return (double)(z - 1) / (double)(RNG_M1 - 1);
}

static void rng_seed(rng *r, uint64_t seed) {
    r->s1 = (int64_t)(seed % (uint64_t)(RNG_M1 - 1)) + 1;
    r->s2 = (int64_t)((seed / (uint64_t)(RNG_M1 - 1)) % (uint64_t)(RNG_M2 - 1)) + 1;
    for (int i = 0; i < 8; i++) rng_next(r);   /* mix small seeds */
}

typedef struct candidate { int32_t id; double logit; } candidate;

struct bt_sampler {
    bt_sampling o;
    rng r;
    int n_alloc;
    double *logit;         /* [n_vocab] the row with penalties applied */
    int32_t *count;        /* [n_vocab] occurrences in the penalty window */
    candidate *cand;       /* [n_vocab] */
    double *p;             /* [n_vocab] */
};

bt_sampling bt_sampling_defaults(void) {
    return (bt_sampling){.temp = 0.8, .top_k = 40, .top_p = 0.95, .min_p = 0.05, .repeat_penalty = 1.0,
                         .repeat_last_n = 64, .frequency_penalty = 0, .presence_penalty = 0, .seed = BT_SEED_RANDOM};
}

static bt_status check_options(const bt_sampling *o) {
    if (!(o->top_p > 0 && o->top_p <= 1)) return bt_set_error(BT_ERR_ARG, "sampler: top_p must be in (0, 1], got %g", o->top_p);
    if (!(o->min_p >= 0 && o->min_p < 1)) return bt_set_error(BT_ERR_ARG, "sampler: min_p must be in [0, 1), got %g", o->min_p);
    if (o->top_k < 0) return bt_set_error(BT_ERR_ARG, "sampler: top_k must be >= 0, got %d", o->top_k);
    if (o->temp != o->temp) return bt_set_error(BT_ERR_ARG, "sampler: temp is NaN");
    return BT_OK;
}

void bt_capi_sampler_reseed(bt_sampler *smp) {
    rng_seed(&smp->r, smp->o.seed == BT_SEED_RANDOM ? (uint64_t)time(NULL) : smp->o.seed);
}

bt_status bt_sampler_new(bt_sampler **out, const bt_sampling *opts) {
    if (!out || !opts) return bt_set_error(BT_ERR_ARG, "bt_sampler_new: out and options are required");
    *out = NULL;
    bt_status st = check_options(opts);
    if (st) return st;
    bt_sampler *smp = calloc(1, sizeof *smp);
    if (!smp) return bt_set_error(BT_ERR_NOMEM, "sampler: out of memory");
    smp->o = *opts;
    bt_capi_sampler_reseed(smp);
    *out = smp;
    return BT_OK;
}

void bt_sampler_free(bt_sampler *smp) {
    if (!smp) return;
    free(smp->logit);
    free(smp->count);
    free(smp->cand);
    free(smp->p);
    free(smp);
}

static bt_status reserve(bt_sampler *smp, int n) {
    if (n <= smp->n_alloc) return BT_OK;
    free(smp->logit); free(smp->count); free(smp->cand); free(smp->p);
    smp->logit = malloc((size_t)n * sizeof *smp->logit);
    smp->count = calloc((size_t)n, sizeof *smp->count);
    smp->cand = malloc((size_t)n * sizeof *smp->cand);
    smp->p = malloc((size_t)n * sizeof *smp->p);
    smp->n_alloc = n;
    if (!smp->logit || !smp->count || !smp->cand || !smp->p) {
        smp->n_alloc = 0;
        return bt_set_error(BT_ERR_NOMEM, "sampler: out of memory for %d candidates", n);
    }
    return BT_OK;
}

/* sampling.lua's penalties over the last repeat_last_n ids of history. */
static void apply_penalties(bt_sampler *smp, const int32_t *history, size_t n_history, int n) {
    const bt_sampling *o = &smp->o;
    if (!n_history || (o->repeat_penalty == 1 && o->frequency_penalty == 0 && o->presence_penalty == 0)) return;
    size_t first = 0;
    if (o->repeat_last_n >= 0 && n_history > (size_t)o->repeat_last_n) first = n_history - (size_t)o->repeat_last_n;
    for (size_t i = first; i < n_history; i++)
        if (history[i] >= 0 && history[i] < n) smp->count[history[i]]++;
    for (size_t i = first; i < n_history; i++) {
        const int32_t id = history[i];
        if (id < 0 || id >= n || !smp->count[id]) continue;
        double l = smp->logit[id];
        if (o->repeat_penalty != 1) l = l > 0 ? l / o->repeat_penalty : l * o->repeat_penalty;
        smp->logit[id] = l - smp->count[id] * o->frequency_penalty - o->presence_penalty;
        smp->count[id] = 0;   /* once per id */
    }
}

static int better(const candidate *a, const candidate *b) {
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int compare_candidates(const void *a, const void *b) {
    return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

/* The k best (k = 0: all), best first, lowest id first on ties. */
static int top_candidates(bt_sampler *smp, int n, int k) {
    candidate *c = smp->cand;
    if (k == 0 || k >= n) {
        for (int i = 0; i < n; i++) c[i] = (candidate){i, smp->logit[i]};
        qsort(c, (size_t)n, sizeof *c, compare_candidates);
        return n;
    }
    int len = 0;
    for (int i = 0; i < n; i++) {
        const double l = smp->logit[i];
        if (len == k && !(l > c[len - 1].logit)) continue;
        int pos = len < k ? len : k - 1;
        while (pos > 0 && c[pos - 1].logit < l) { c[pos] = c[pos - 1]; pos--; }
        c[pos] = (candidate){i, l};
        if (len < k) len++;
    }
    return len;
}

static void softmax(double *p, const candidate *c, int n, double temp) {
    const double maxl = c[0].logit;
    double sum = 0;
    for (int i = 0; i < n; i++) { p[i] = exp((c[i].logit - maxl) / temp); sum += p[i]; }
    for (int i = 0; i < n; i++) p[i] = p[i] / sum;
}

bt_status bt_sampler_sample(bt_sampler *smp, const float *logits, int n, const int32_t *history, size_t n_history,
                            int32_t *id) {
    if (!smp || !logits || !id || n < 1) return bt_set_error(BT_ERR_ARG, "sample: sampler, logits, id and n >= 1 are required");
    bt_status st = reserve(smp, n);
    if (st) return st;
    for (int i = 0; i < n; i++) smp->logit[i] = logits[i];
    apply_penalties(smp, history, n_history, n);
    const bt_sampling *o = &smp->o;
    if (o->temp <= 0) {
        double best = -HUGE_VAL;
        int32_t best_id = 0;
        for (int i = 0; i < n; i++)
            if (smp->logit[i] > best) { best = smp->logit[i]; best_id = i; }
        *id = best_id;
        return BT_OK;
    }
    int len = top_candidates(smp, n, o->top_k);
    double *p = smp->p;
    softmax(p, smp->cand, len, 1);
    if (o->top_p < 1) {
        double cum = 0;
        for (int i = 0; i < len; i++) {
            cum += p[i];
            if (cum >= o->top_p) { len = i + 1; break; }
        }
    }
    if (o->min_p > 0) {
        const double cut = o->min_p * p[0];
        int keep = 1;
        for (int i = 1; i < len; i++) { if (p[i] >= cut) keep = i + 1; else break; }
        len = keep;
    }
    softmax(p, smp->cand, len, o->temp);
    const double r = rng_next(&smp->r);
    double cum = 0;
    for (int i = 0; i < len; i++) {
        cum += p[i];
        if (r < cum) { *id = smp->cand[i].id; return BT_OK; }
    }
    *id = smp->cand[len - 1].id;
    return BT_OK;
}
