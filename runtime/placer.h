/* placer.h - decides which layers of a model run on the GPU and which on the CPU
 * (hybrid inference: a model larger than the GPU's memory still runs).
 *
 * Pure arithmetic over byte counts: no device is touched, so it is tested with
 * made-up memory figures. The caller (lua/bitttt/placement.lua) measures the
 * costs and the free memory, asks for a plan, then moves the weights.
 *
 * The rules:
 *  - Layers go to the GPU from the LAST one backwards. The GPU part is then the
 *    end of the stack, next to the output head: a token's activations cross to
 *    the GPU once ([m, d] floats) and its logits come back once.
 *  - A layer that cannot run on the GPU (cpu_only: no kernels for its mixer)
 *    stays on the CPU and is stepped over: earlier layers may still go to the
 *    GPU (each such gap costs one more pair of small copies per token).
 *  - Whole layers only: a layer costs its weights (as the GPU stores them) plus
 *    its state at the planned context (KV cache, TTT state), each with the
 *    device pool's rounding (blocks are rounded up to size classes, at most
 *    1/8 more: BT_PLACER_POOL_ROUNDING). Placing stops at the first capable
 *    layer that does not fit.
 *  - auto: as many layers as fit in free - reserve; N: the last N capable
 *    layers, fewer when they do not fit (the reason says so); 0: none.
 *  - The scratch (activation buffers on the GPU) is counted once, with the
 *    first thing placed.
 *  - The output head goes to the GPU after the layers, when it still fits
 *    (layers first: per byte, a ternary layer costs the CPU more time than the
 *    float head does) and the request is not 0.
 *  - The embedding lookup runs on the GPU only when its table is the head's own
 *    tensor (tied), the head is on the GPU and so is the first layer: an untied
 *    table stays on the CPU, since a lookup reads only m rows and the memory
 *    serves layers better.
 */
#ifndef BT_PLACER_H
#define BT_PLACER_H
#include <stdint.h>
#include "base/error.h"

#define BT_PLACER_AUTO (-1)          /* n_gpu_layers: as many as fit */
#define BT_PLACER_POOL_ROUNDING 8    /* allocations are counted with 1/8 added */
#define BT_PLACER_REASON_CAP 1024

typedef struct bt_placer_layer {
    uint64_t weight_bytes;   /* its weights as the GPU would hold them */
    uint64_t state_bytes;    /* KV cache or TTT state at the planned context */
    const char *cpu_only;    /* NULL: it can run on the GPU; else why not (e.g. "ttt_linear: no CUDA TTT kernels yet") */
} bt_placer_layer;

typedef struct bt_placer_input {
    int n_layers;
    const bt_placer_layer *layers;   /* [n_layers] */
    uint64_t head_bytes;             /* final norm + output head weights + the logits buffer */
    const char *head_cpu_only;       /* NULL, or why the head cannot run on the GPU */
    int embd_tied;                   /* the embedding table is the head's tensor */
    uint64_t scratch_bytes;          /* activation buffers and kernel scratch on the GPU */
    uint64_t free_bytes;             /* free device memory */
    uint64_t reserve_bytes;          /* memory to leave free */
    int n_gpu_layers;                /* layers requested, or BT_PLACER_AUTO */
} bt_placer_input;

typedef struct bt_placement {
    int n_gpu_layers;        /* layers placed on the GPU */
    int head_on_gpu;
    int embd_on_gpu;
    uint64_t gpu_bytes;      /* everything planned on the GPU, rounding and scratch included */
    char reason[BT_PLACER_REASON_CAP];   /* one or more sentences for people */
} bt_placement;

/* Fills out and layer_on_gpu[i] (1: GPU, 0: CPU) for every layer.
 * BT_ERR_ARG for a negative layer count, a request below BT_PLACER_AUTO or a missing array. */
bt_status bt_placer_plan(bt_placement *out, unsigned char *layer_on_gpu /* [in->n_layers] */,
                         const bt_placer_input *in);

/* "512 B", "3.5 MiB", "1.25 GiB" into buf; returns buf. */
const char *bt_placer_format_bytes(uint64_t bytes, char *buf, int cap);

#endif
