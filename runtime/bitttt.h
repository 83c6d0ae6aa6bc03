/* bitttt.h - the public C API of libbitttt: load a language model, run
 * inference sessions on it, sample tokens, and keep or restore the state of
 * layers that learn while they read (test-time training). No Lua needed.
 *
 * ------------------------------------------------------------------ tutorial
 *
 *   #include <bitttt/bitttt.h>          // installed; in the source tree: "runtime/bitttt.h"
 *   // cc app.c $(pkg-config --cflags --libs bitttt)
 *
 *   bt_model *model;
 *   if (bt_model_load(&model, "models/default.gguf", NULL) != BT_OK) {
 *       fprintf(stderr, "%s\n", bt_last_error());        // says what went wrong, naming the file
 *       return 1;
 *   }
 *   bt_session *s;
 *   bt_session_new(&s, model, NULL);                      // its own KV cache / TTT state
 *
 *   int32_t ids[256]; size_t n;
 *   bt_tokenize(model, "Once upon a time", 16, BT_TOKENIZE_BOS, ids, 256, &n);
 *   bt_session_feed(s, ids, n);                           // the prompt, in batches
 *
 *   bt_sampling sp;
 *   bt_model_sampling(model, &sp);                       // defaults + the file's general.sampling.*
 *   sp.temp = 0.7; sp.seed = 42;
 *   bt_session_set_sampling(s, &sp);
 *   bt_text_stream *out; bt_text_stream_new(&out, model);
 *   for (int i = 0; i < 100; i++) {
 *       int32_t id;
 *       if (bt_session_step(s, &id) != BT_OK) break;     // sample one token, feed it
 *       if (bt_token_is_end(model, id)) break;
 *       char piece[64]; size_t len;
 *       bt_text_stream_push(out, id, piece, sizeof piece, &len);
 *       fwrite(piece, 1, len, stdout);
 *   }
 *   bt_text_stream_free(out);
 *   bt_session_free(s);
 *   bt_model_free(model);
 *
 * Logits instead of sampling: after bt_session_feed, bt_session_logits(s)
 * points at the last token's [n_vocab] scores.
 *
 * A game loop: bt_session_step_budget(s, 4.0, &id) does about 4 ms of work and
 * returns; a token that takes longer is finished over the next calls, resuming
 * between layers. id is -1 when no new token came out of that call.
 *
 * Test-time training state (TTT fast weights, KV caches, the position):
 * bt_session_reset, bt_session_snapshot / bt_session_restore (in memory),
 * bt_session_save_state / bt_session_load_state (safetensors files, the same
 * format as the Lua Session:save_state, so either side reads the other's).
 *
 * ------------------------------------------------------------------ conventions
 *
 * Every function that can fail returns a bt_status (BT_OK = 0) and, on
 * failure, sets a message that bt_last_error() returns on the same thread.
 * Nothing aborts or exits on bad input. Objects are freed with their *_free
 * function (NULL is fine). Token ids are 0-based vocabulary indexes.
 *
 * Formats: everything lua/bitttt/model.lua loads - GGUF (architectures llama,
 * bitnet, bitnet-b1.58, bitnet-25, bitttt, ttt), llama2.c checkpoints (give the
 * tokenizer.bin in the options), safetensors folders with a Hugging Face
 * config.json (TTTForCausalLM, BitNetForCausalLM).
 *
 * How: the library runs the Lua model graphs (lua/bitttt/) in a private LuaJIT
 * state per model; these functions are a thin shell over lua/bitttt/capi.lua.
 * So logits, sampled tokens, fingerprints and state files are the scripts' own.
 * The library needs libluajit-5.1.so.2 beside libc; the Lua sources are built in
 * (see bt_set_lua_dir to run edited ones).
 *
 * ------------------------------------------------------------------ threads
 *
 * - A bt_model is read-only once bt_model_load returns: any number of threads
 *   may use it at once (sessions, tokenize, detokenize, queries). bt_model_free
 *   may come before the sessions, snapshots and streams on it are freed: the model
 *   lives until the last of them goes.
 * - A bt_session, bt_snapshot or bt_text_stream belongs to one thread at a
 *   time: several threads may each drive their own sessions of one model
 *   concurrently, but two threads must not call into the same session at
 *   once without a lock of their own.
 * - Calls on the sessions of one model take turns (the model's Lua state runs one
 *   call at a time); sessions of different models run in parallel.
 * - Each call also uses OpenMP threads inside its operations
 *   (bt_set_threads; default BITTTT_THREADS or all cores). With several
 *   sessions running in parallel, one thread per call is usually best.
 * - bt_last_error() is per thread.
 */
#ifndef BITTTT_H
#define BITTTT_H
#include <stddef.h>
#include <stdint.h>
#include "base/error.h"     /* bt_status, bt_last_error, bt_status_name */
#include "version.h"   /* BT_VERSION_STRING, BT_API_VERSION */

#ifdef __cplusplus
extern "C" {
#endif

/* The library's BT_API_VERSION and BT_VERSION_STRING (to check against the header). */
BT_API int bt_api_version(void);
BT_API const char *bt_version_string(void);

/* OpenMP threads per operation (n >= 1); process-wide. */
BT_API bt_status bt_set_threads(int n);

/* The library runs lua/bitttt (the model graphs, sampler, state files) from the sources
 * built into it. bt_set_lua_dir(dir) (or the environment variable BITTTT_LUA_DIR) makes
 * models loaded afterwards look in dir first (dir/bitttt/models/llama.lua, ...): edit a
 * copy of lua/ to change a graph without recompiling. NULL: back to the built-in sources. */
BT_API bt_status bt_set_lua_dir(const char *dir);

/* ------------------------------------------------------------------ models */

typedef struct bt_model bt_model;

#define BT_GPU_LAYERS_AUTO (-1)   /* n_gpu_layers: as many layers as fit the GPU */

typedef struct bt_model_options {
    const char *tokenizer_path;   /* tokenizer file for formats without a vocabulary (llama2.c tokenizer.bin); NULL */
    int max_batch;                /* tokens per forward chunk (default 64) */
    int float_activations;        /* 1: BitLinear projections take float activations (a float reference); 0 */
    /* Device placement (lua/bitttt/placement.lua): layers on the GPU, 0 (default) none,
     * BT_GPU_LAYERS_AUTO as many as fit. Without a GPU the model says so on stderr and runs on the CPU. */
    int n_gpu_layers;
    int n_ctx;                    /* the context KV caches are planned for when placing; 0: the model's */
    const char *device;           /* "cuda:0" (default) */
} bt_model_options;

/* Loads a model file (or safetensors folder). opts NULL: the defaults above. */
BT_API bt_status bt_model_load(bt_model **out, const char *path, const bt_model_options *opts);
BT_API void bt_model_free(bt_model *model);

typedef struct bt_model_info {
    const char *architecture;     /* "llama", "bitnet-b1.58", "ttt", "bitttt", ... */
    const char *format;           /* "gguf", "llama2c", "safetensors" */
    int n_vocab, n_embd, n_layer, n_ff, n_ctx_train;
    int has_tokenizer;            /* tokenize/detokenize work */
    int32_t bos, eos;             /* -1 when the vocabulary has none */
    int add_bos;                  /* the vocabulary wants BOS before a prompt */
    char fingerprint[17];         /* the model's state-file fingerprint (16 hex digits) */
    int n_gpu_layers;             /* layers placed on a GPU */
} bt_model_info;

BT_API bt_status bt_model_get_info(const bt_model *model, bt_model_info *out);
/* The mixer of layer `layer` (0-based): "attention", "ttt_linear" or "fastweight"; NULL out of range. */
BT_API const char *bt_model_layer_mixer(const bt_model *model, int layer);
/* A metadata value as text (GGUF keys such as "general.name", config.json keys for
 * safetensors models, llama.cpp's llama.* keys for llama2.c). Numbers print with %.17g,
 * booleans as true/false, arrays as their element count "[n]". BT_ERR_ARG when
 * absent; *len gets the full length (the text is cut to cap - 1 bytes and NUL-terminated). */
BT_API bt_status bt_model_meta(const bt_model *model, const char *key, char *buf, size_t cap, size_t *len);
/* 1 for tokens that end generation: EOS (and BOS for llama2.c checkpoints, as its run.c). */
BT_API int bt_token_is_end(const bt_model *model, int32_t id);

/* ------------------------------------------------------------------ tokens <-> text */

enum { BT_TOKENIZE_BOS = 1, BT_TOKENIZE_EOS = 2, BT_TOKENIZE_SPECIAL = 4 };

/* ids[0 .. *n) = the tokens of text[0 .. len). When cap is too small: BT_ERR_ARG with *n
 * set to the count needed (call again with a bigger buffer). flags: BT_TOKENIZE_*. */
BT_API bt_status bt_tokenize(const bt_model *model, const char *text, size_t len, unsigned flags,
                      int32_t *ids /* [cap] */, size_t cap, size_t *n);
/* The text of ids (control tokens left out), NUL-terminated in buf; *len as bt_model_meta. */
BT_API bt_status bt_detokenize(const bt_model *model, const int32_t *ids /* [n] */, size_t n,
                        char *buf, size_t cap, size_t *len);

/* Streaming detokenizer: the text each new token completes (UTF-8 characters split
 * over byte tokens are held back until whole). */
typedef struct bt_text_stream bt_text_stream;
BT_API bt_status bt_text_stream_new(bt_text_stream **out, const bt_model *model);
/* buf receives the new text (not NUL-terminated; cap >= 64 always suffices for one token). */
BT_API bt_status bt_text_stream_push(bt_text_stream *s, int32_t id, char *buf, size_t cap, size_t *len);
BT_API bt_status bt_text_stream_flush(bt_text_stream *s, char *buf, size_t cap, size_t *len);
BT_API void bt_text_stream_free(bt_text_stream *s);

/* ------------------------------------------------------------------ sessions */

typedef struct bt_session bt_session;

typedef struct bt_session_options {
    int n_ctx;   /* context size in tokens; 0: the model's default (the file's, at most 4096, for
                  * models with attention layers; no limit for models without a KV cache) */
} bt_session_options;

BT_API bt_status bt_session_new(bt_session **out, bt_model *model, const bt_session_options *opts);
BT_API void bt_session_free(bt_session *s);
BT_API int bt_session_position(const bt_session *s);   /* tokens in the context so far */
BT_API int bt_session_context(const bt_session *s);    /* n_ctx; INT_MAX: no limit */

/* Runs the model over ids at the current position (chunks of max_batch tokens);
 * afterwards bt_session_logits gives the last token's logits. */
BT_API bt_status bt_session_feed(bt_session *s, const int32_t *ids /* [n] */, size_t n);
/* Like feed, and copies every token's logits into logits [n, n_vocab]. */
BT_API bt_status bt_session_feed_all(bt_session *s, const int32_t *ids /* [n] */, size_t n, float *logits);
/* The last fed token's logits [n_vocab], valid until the next call on s; NULL before any. */
BT_API const float *bt_session_logits(const bt_session *s);

/* ------------------------------------------------------------------ sampling */

#define BT_SEED_RANDOM UINT64_MAX   /* seed from the clock */

/* The options of lua/bitttt/sampling.lua, applied in llama.cpp's order: penalties,
 * then greedy (temp <= 0), else top-k, top-p, min-p, temperature, draw. The random
 * stream is rng.lua's (L'Ecuyer 1988), so a seed gives the tokens the Lua sampler gives. */
typedef struct bt_sampling {
    double temp;               /* 0.8; <= 0: greedy (lowest id on ties) */
    int top_k;                 /* 40; 0: all */
    double top_p;              /* 0.95, in (0, 1] */
    double min_p;              /* 0.05, in [0, 1) */
    double repeat_penalty;     /* 1.0: off */
    int repeat_last_n;         /* 64; -1: the whole history */
    double frequency_penalty;  /* 0 */
    double presence_penalty;   /* 0 */
    uint64_t seed;             /* BT_SEED_RANDOM */
} bt_sampling;

BT_API bt_sampling bt_sampling_defaults(void);
/* bt_sampling_defaults() with what the model file recommends (GGUF general.sampling.temp,
 * top_k, top_p, min_p, penalty_repeat, penalty_last_n, penalty_freq, penalty_present: the
 * keys llama.cpp reads) where it has them; a session starts with these. An error names the
 * file and the key when a value is not a number. */
BT_API bt_status bt_model_sampling(const bt_model *model, bt_sampling *out);

/* A sampler on its own (the session has one built in, see bt_session_set_sampling). */
typedef struct bt_sampler bt_sampler;
BT_API bt_status bt_sampler_new(bt_sampler **out, const bt_sampling *opts);
/* history: earlier ids for the penalties (oldest first). */
BT_API bt_status bt_sampler_sample(bt_sampler *smp, const float *logits /* [n_vocab] */, int n_vocab,
                            const int32_t *history /* [n_history] */, size_t n_history, int32_t *id);
BT_API void bt_sampler_free(bt_sampler *smp);

/* The session's sampler (bt_model_sampling's until set; the random stream restarts from the seed).
 * Penalties look at the session's history: every id fed since the last reset. */
BT_API bt_status bt_session_set_sampling(bt_session *s, const bt_sampling *opts);
/* Samples the next token from the current logits, feeds it, returns it in *id.
 * Needs logits (feed a prompt first); a full context is BT_ERR_ARG. */
BT_API bt_status bt_session_step(bt_session *s, int32_t *id);
/* The same spread over calls: does about budget_ms of work (whole layers; at least
 * one) and returns. *id is the token sampled in this call, or -1 when the call only
 * worked on a token still in flight. The token is fed (its logits computed) by this
 * call or later ones; bt_session_busy says whether one is in flight. Other calls on
 * the session first finish a token in flight. */
BT_API bt_status bt_session_step_budget(bt_session *s, double budget_ms, int32_t *id);
BT_API int bt_session_busy(const bt_session *s);
/* Finishes a token in flight (if any). */
BT_API bt_status bt_session_finish(bt_session *s);

/* ------------------------------------------------------------------ test-time training state */

/* Inner learning rate of TTT layers (replaces each layer's base rate); lr < 0: the model's own. */
BT_API bt_status bt_session_set_ttt_lr(bt_session *s, double lr);
/* Learning-rate schedule of TTT layers: a multiplier on the rate per token (lua/bitttt/schedules.lua),
 * as generate.lua's --ttt-schedule takes it: "constant:M" (a plain multiplier), "warmup:N",
 * "cosine:N[,MIN]", "inv_sqrt:N", "piecewise:P=M,...", or a FILE.lua; NULL: constant 1. */
BT_API bt_status bt_session_set_ttt_schedule(bt_session *s, const char *schedule);
/* The same from Lua source that returns function(position, layer, step) -> multiplier. */
BT_API bt_status bt_session_set_ttt_schedule_lua(bt_session *s, const char *source);
/* Back to position 0: KV caches cleared, fast weights back to the model's, history empty. */
BT_API bt_status bt_session_reset(bt_session *s);

typedef struct bt_snapshot bt_snapshot;
/* An in-memory copy of the state (position, caches, fast weights, history, logits). */
BT_API bt_status bt_session_snapshot(bt_session *s, bt_snapshot **out);
/* Puts a snapshot of a session of the same model and context size back; it stays usable. */
BT_API bt_status bt_session_restore(bt_session *s, const bt_snapshot *snap);
BT_API void bt_snapshot_free(bt_snapshot *snap);
/* A safetensors file: tensors "layer.<l>.<field>" (l 1-based), metadata format
 * "bitttt-session-state", version, fingerprint, position, context - what the Lua side
 * writes and reads. Loading refuses another model's state or one whose position does not fit
 * the session's context (KV caches of another capacity are taken as they are);
 * the history and logits are not saved (after a load, feed a token to get logits). */
BT_API bt_status bt_session_save_state(bt_session *s, const char *path);
BT_API bt_status bt_session_load_state(bt_session *s, const char *path);

#ifdef __cplusplus
}
#endif
#endif
