/* test_placer.c - the CPU/GPU placement plan (runtime/placer.h) on simulated
 * memory figures: nothing free, room for some layers, for all of them, a head
 * too big, explicit layer counts, layers that must stay on the CPU, tied and
 * untied embeddings, bad requests and absurd sizes. Random layer sizes are
 * checked against a straightforward recount of the rules. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "runtime/placer.h"

#define MIB ((uint64_t)1 << 20)
#define MAX_LAYERS 64

/* The pool's rounding as placer.h states it: 1/8 more, rounded up. */
static uint64_t rounded(uint64_t b) { return b + (b + BT_PLACER_POOL_ROUNDING - 1) / BT_PLACER_POOL_ROUNDING; }

typedef struct model {
    bt_placer_layer layers[MAX_LAYERS];
    bt_placer_input in;
    unsigned char on_gpu[MAX_LAYERS];
    bt_placement plan;
} model;

/* n equal layers of `weights` + `state` bytes, a tied head, given free memory; auto. */
static void model_init(model *m, int n, uint64_t weights, uint64_t state, uint64_t head, uint64_t free_bytes) {
    memset(m, 0, sizeof *m);
    for (int i = 0; i < n; i++) m->layers[i] = (bt_placer_layer){weights, state, NULL};
    m->in = (bt_placer_input){.n_layers = n, .layers = m->layers, .head_bytes = head, .embd_tied = 1,
                              .scratch_bytes = 8 * MIB, .free_bytes = free_bytes, .reserve_bytes = 64 * MIB,
                              .n_gpu_layers = BT_PLACER_AUTO};
}

static bt_status plan(model *m) { return bt_placer_plan(&m->plan, m->on_gpu, &m->in); }

static int count_gpu(const model *m) {
    int c = 0;
    for (int i = 0; i < m->in.n_layers; i++) c += m->on_gpu[i] != 0;
    return c;
}

/* 1 when exactly the layers [first, n) are on the GPU. */
static int gpu_suffix_from(const model *m, int first) {
    for (int i = 0; i < m->in.n_layers; i++)
        if ((m->on_gpu[i] != 0) != (i >= first)) return 0;
    return 1;
}

BT_TEST(placer_nothing_free_keeps_everything_on_the_cpu) {
    model m;
    model_init(&m, 30, 18 * MIB, 10 * MIB, 656 * MIB, 0);
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 0 && count_gpu(&m) == 0, "%d layers placed", m.plan.n_gpu_layers);
    BT_CHECK(!m.plan.head_on_gpu && !m.plan.embd_on_gpu && m.plan.gpu_bytes == 0, "head %d embd %d bytes %llu",
             m.plan.head_on_gpu, m.plan.embd_on_gpu, (unsigned long long)m.plan.gpu_bytes);
    BT_CHECK(strstr(m.plan.reason, "No layer on the GPU") && strstr(m.plan.reason, "Layer 29 needs"), "%s", m.plan.reason);
}

BT_TEST(placer_partial_fit_takes_whole_layers_from_the_end) {
    model m;
    /* budget 500 MiB: the first layer costs its rounded bytes + scratch, the next ones their rounded bytes */
    model_init(&m, 10, 100 * MIB, 10 * MIB, 300 * MIB, 564 * MIB);
    uint64_t per_layer = rounded(100 * MIB) + rounded(10 * MIB);
    int expect = 0;
    for (uint64_t used = 8 * MIB; used + per_layer <= 500 * MIB; used += per_layer) expect++;
    BT_CHECK(expect == 3, "test arithmetic: %d", expect);
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 3 && gpu_suffix_from(&m, 7), "%d layers placed: %s", m.plan.n_gpu_layers, m.plan.reason);
    BT_CHECK(m.plan.gpu_bytes == 8 * MIB + 3 * per_layer, "gpu bytes %llu", (unsigned long long)m.plan.gpu_bytes);
    BT_CHECK(!m.plan.head_on_gpu && !m.plan.embd_on_gpu, "the head cannot fit in what is left");
    BT_CHECK(strstr(m.plan.reason, "3 of 10 layers on the GPU (7-9)") && strstr(m.plan.reason, "Layer 6 needs"),
             "%s", m.plan.reason);
}

BT_TEST(placer_everything_fits) {
    model m;
    model_init(&m, 30, 18 * MIB, 10 * MIB, 656 * MIB, 80 * 1024 * MIB);
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 30 && gpu_suffix_from(&m, 0), "%s", m.plan.reason);
    BT_CHECK(m.plan.head_on_gpu && m.plan.embd_on_gpu, "tied head and embedding should be on the GPU: %s", m.plan.reason);
    uint64_t want = 8 * MIB + 30 * (rounded(18 * MIB) + rounded(10 * MIB)) + rounded(656 * MIB);
    BT_CHECK(m.plan.gpu_bytes == want, "gpu bytes %llu, expected %llu", (unsigned long long)m.plan.gpu_bytes,
             (unsigned long long)want);
    BT_CHECK(strstr(m.plan.reason, "All 30 layers on the GPU") && strstr(m.plan.reason, "The output head (656.0 MiB, shared with the embedding) goes to the GPU."), "%s", m.plan.reason);
}

BT_TEST(placer_head_too_big_stays_on_the_cpu) {
    model m;
    uint64_t layers = 8 * MIB + 30 * (rounded(18 * MIB) + rounded(10 * MIB));
    model_init(&m, 30, 18 * MIB, 10 * MIB, 656 * MIB, 64 * MIB + layers + 100 * MIB);
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 30, "%s", m.plan.reason);
    BT_CHECK(!m.plan.head_on_gpu && !m.plan.embd_on_gpu, "%s", m.plan.reason);
    BT_CHECK(m.plan.gpu_bytes == layers, "gpu bytes %llu", (unsigned long long)m.plan.gpu_bytes);
    BT_CHECK(strstr(m.plan.reason, "stays on the CPU: it needs") && strstr(m.plan.reason, "100.0 MiB left"), "%s",
             m.plan.reason);
}

BT_TEST(placer_head_alone_when_no_layer_can_go) {
    model m;
    model_init(&m, 4, 18 * MIB, 10 * MIB, 100 * MIB, 1024 * MIB);
    for (int i = 0; i < 4; i++) m.layers[i].cpu_only = "ttt_linear: no CUDA TTT kernels yet";
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 0 && m.plan.head_on_gpu, "%s", m.plan.reason);
    BT_CHECK(!m.plan.embd_on_gpu, "layer 0 runs on the CPU, so must the lookup");
    BT_CHECK(m.plan.gpu_bytes == 8 * MIB + rounded(100 * MIB), "scratch comes with the head");
    BT_CHECK(strstr(m.plan.reason, "Layers 0-3 stay on the CPU: ttt_linear: no CUDA TTT kernels yet."), "%s", m.plan.reason);
}

BT_TEST(placer_explicit_counts) {
    model m;
    model_init(&m, 10, 10 * MIB, 1 * MIB, 50 * MIB, 80 * 1024 * MIB);
    m.in.n_gpu_layers = 3;
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 3 && gpu_suffix_from(&m, 7) && m.plan.head_on_gpu && !m.plan.embd_on_gpu,
             "%s", m.plan.reason);
    m.in.n_gpu_layers = 0;
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 0 && !m.plan.head_on_gpu && m.plan.gpu_bytes == 0, "0 means nothing on the GPU");
    BT_CHECK(strstr(m.plan.reason, "0 layers requested"), "%s", m.plan.reason);
    m.in.n_gpu_layers = 99;
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 10 && m.plan.head_on_gpu && m.plan.embd_on_gpu, "%s", m.plan.reason);
    BT_CHECK(strstr(m.plan.reason, "The model has 10 layers that can run on the GPU"), "%s", m.plan.reason);
    /* a count that does not fit places what fits and says so */
    m.in.n_gpu_layers = 8;
    m.in.free_bytes = 64 * MIB + 8 * MIB + 5 * (rounded(10 * MIB) + rounded(1 * MIB));
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 5 && gpu_suffix_from(&m, 5) && !m.plan.head_on_gpu, "%s", m.plan.reason);
    BT_CHECK(strstr(m.plan.reason, "8 layers requested") && strstr(m.plan.reason, "Layer 4 needs"), "%s", m.plan.reason);
}

BT_TEST(placer_steps_over_cpu_only_layers) {
    model m;
    model_init(&m, 8, 10 * MIB, 1 * MIB, 50 * MIB, 80 * 1024 * MIB);
    m.layers[2].cpu_only = m.layers[5].cpu_only = "ttt_linear: no CUDA TTT kernels yet";
    m.layers[6].cpu_only = "fastweight: no CUDA kernel";
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    static const unsigned char want[8] = {1, 1, 0, 1, 1, 0, 0, 1};
    BT_CHECK(memcmp(m.on_gpu, want, 8) == 0, "%s", m.plan.reason);
    BT_CHECK(m.plan.n_gpu_layers == 5 && m.plan.head_on_gpu && m.plan.embd_on_gpu, "%s", m.plan.reason);
    BT_CHECK(strstr(m.plan.reason, "Layers 2, 5 stay on the CPU: ttt_linear") &&
             strstr(m.plan.reason, "Layer 6 stays on the CPU: fastweight"), "%s", m.plan.reason);
    /* an explicit count counts capable layers only */
    m.in.n_gpu_layers = 2;
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    static const unsigned char want2[8] = {0, 0, 0, 0, 1, 0, 0, 1};
    BT_CHECK(memcmp(m.on_gpu, want2, 8) == 0, "%s", m.plan.reason);
}

BT_TEST(placer_untied_embedding_and_cpu_only_head) {
    model m;
    model_init(&m, 6, 10 * MIB, 1 * MIB, 50 * MIB, 80 * 1024 * MIB);
    m.in.embd_tied = 0;
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 6 && m.plan.head_on_gpu && !m.plan.embd_on_gpu, "an untied table stays on the CPU");
    m.in.embd_tied = 1;
    m.in.head_cpu_only = "q8_0 weights have no CUDA kernel";
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 6 && !m.plan.head_on_gpu && !m.plan.embd_on_gpu, "%s", m.plan.reason);
    BT_CHECK(strstr(m.plan.reason, "stays on the CPU: q8_0 weights have no CUDA kernel"), "%s", m.plan.reason);
}

BT_TEST(placer_reserve_larger_than_free) {
    model m;
    model_init(&m, 3, 1 * MIB, 0, 1 * MIB, 32 * MIB);   /* reserve 64 MiB */
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 0 && !m.plan.head_on_gpu && m.plan.gpu_bytes == 0, "%s", m.plan.reason);
}

BT_TEST(placer_random_sizes_match_a_recount) {
    srand((unsigned)bt_test_seed());
    for (int round = 0; round < 200; round++) {
        model m;
        int n = 1 + rand() % 40;
        model_init(&m, n, 0, 0, (uint64_t)(rand() % 700) * MIB + (uint64_t)rand() % 1000, 0);
        for (int i = 0; i < n; i++) {
            m.layers[i].weight_bytes = (uint64_t)(1 + rand() % 50) * MIB + (uint64_t)(rand() % 4096);
            m.layers[i].state_bytes = (uint64_t)(rand() % 20) * MIB + (uint64_t)(rand() % 333);
            if (rand() % 5 == 0) m.layers[i].cpu_only = "no kernels";
        }
        m.in.free_bytes = (uint64_t)(rand() % 2500) * MIB;
        m.in.n_gpu_layers = rand() % 3 == 0 ? rand() % (n + 3) : BT_PLACER_AUTO;
        BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());

        /* the recount: from the end, skipping cpu-only layers, until the request or the budget runs out */
        uint64_t budget = m.in.free_bytes > m.in.reserve_bytes ? m.in.free_bytes - m.in.reserve_bytes : 0, used = 0;
        int placed = 0, limit = m.in.n_gpu_layers == BT_PLACER_AUTO ? n : m.in.n_gpu_layers;
        unsigned char want[MAX_LAYERS] = {0};
        for (int l = n - 1; l >= 0 && placed < limit; l--) {
            if (m.layers[l].cpu_only) continue;
            uint64_t need = rounded(m.layers[l].weight_bytes) + rounded(m.layers[l].state_bytes) +
                            (placed == 0 ? m.in.scratch_bytes : 0);
            if (used + need > budget) break;
            used += need;
            want[l] = 1;
            placed++;
        }
        int head = 0;
        if (m.in.n_gpu_layers != 0) {
            uint64_t need = rounded(m.in.head_bytes) + (used == 0 ? m.in.scratch_bytes : 0);
            if (used + need <= budget) { used += need; head = 1; }
        }
        BT_CHECK(memcmp(m.on_gpu, want, (size_t)n) == 0 && m.plan.n_gpu_layers == placed,
                 "round %d: %d layers, request %d: %s", round, n, m.in.n_gpu_layers, m.plan.reason);
        BT_CHECK(m.plan.head_on_gpu == head && m.plan.gpu_bytes == used, "round %d: head %d (want %d), bytes %llu (want %llu)",
                 round, m.plan.head_on_gpu, head, (unsigned long long)m.plan.gpu_bytes, (unsigned long long)used);
        BT_CHECK(m.plan.embd_on_gpu == (head && want[0]), "round %d: embedding placement", round);
    }
}

BT_TEST(placer_rejects_bad_requests_and_survives_absurd_sizes) {
    model m;
    model_init(&m, 4, 1 * MIB, 0, 1 * MIB, 1024 * MIB);
    m.in.n_gpu_layers = -2;
    BT_CHECK(plan(&m) == BT_ERR_ARG && strstr(bt_last_error(), "n_gpu_layers"), "%s", bt_last_error());
    m.in.n_gpu_layers = BT_PLACER_AUTO;
    m.in.n_layers = -1;
    BT_CHECK(plan(&m) == BT_ERR_ARG, "negative layer count accepted");
    m.in.n_layers = 4;
    m.in.layers = NULL;
    BT_CHECK(plan(&m) == BT_ERR_ARG, "missing layer array accepted");
    model_init(&m, 4, UINT64_MAX / 2, UINT64_MAX / 2, UINT64_MAX, UINT64_MAX);
    BT_CHECK(plan(&m) == BT_OK, "%s", bt_last_error());
    BT_CHECK(m.plan.n_gpu_layers == 0 && !m.plan.head_on_gpu, "sizes beyond any memory must not wrap around");
    char buf[32];
    BT_CHECK(strcmp(bt_placer_format_bytes(1536 * MIB, buf, sizeof buf), "1.50 GiB") == 0, "%s", buf);
    BT_CHECK(strcmp(bt_placer_format_bytes(512, buf, sizeof buf), "512 B") == 0, "%s", buf);
}
