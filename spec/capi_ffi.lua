-- capi_ffi.lua - the C API (runtime/bitttt.h) through LuaJIT's FFI, for the
-- specs: declared once per process. Returns { ffi = , C = (nil without the
-- library), skip = function(pending) -> true when the test must be skipped,
-- check = function(status) (raises with bt_last_error), model, session, ids }.
local helper = require "helper"

local M = {}
local ok_ffi, ffi = pcall(require, "ffi")
M.ffi = ok_ffi and ffi or nil
local lib_path = os.getenv("BITTTT_CAPI_LIB") or (helper.root .. "/bin/libbitttt.so")

if ok_ffi then
    ffi.cdef [[
    typedef struct bt_model bt_model;
    typedef struct bt_session bt_session;
    typedef struct bt_sampler bt_sampler;
    typedef struct { const char *tokenizer_path; int max_batch; int float_activations;
                     int n_gpu_layers; int n_ctx; const char *device; } bt_model_options;
    typedef struct { int n_ctx; } bt_session_options;
    typedef struct {
        double temp; int top_k; double top_p; double min_p; double repeat_penalty; int repeat_last_n;
        double frequency_penalty; double presence_penalty; uint64_t seed;
    } bt_sampling;
    typedef struct {
        const char *architecture; const char *format;
        int n_vocab, n_embd, n_layer, n_ff, n_ctx_train; int has_tokenizer; int32_t bos, eos; int add_bos;
        char fingerprint[17]; int n_gpu_layers;
    } bt_model_info;
    const char *bt_last_error(void);
    int bt_model_load(bt_model **out, const char *path, const bt_model_options *opts);
    void bt_model_free(bt_model *m);
    int bt_model_get_info(const bt_model *m, bt_model_info *out);
    int bt_session_new(bt_session **out, bt_model *m, const bt_session_options *opts);
    void bt_session_free(bt_session *s);
    int bt_session_feed(bt_session *s, const int32_t *ids, size_t n);
    int bt_session_feed_all(bt_session *s, const int32_t *ids, size_t n, float *logits);
    const float *bt_session_logits(const bt_session *s);
    int bt_session_save_state(bt_session *s, const char *path);
    int bt_session_load_state(bt_session *s, const char *path);
    bt_sampling bt_sampling_defaults(void);
    int bt_model_sampling(const bt_model *m, bt_sampling *out);
    int bt_sampler_new(bt_sampler **out, const bt_sampling *o);
    int bt_sampler_sample(bt_sampler *s, const float *logits, int n, const int32_t *hist, size_t nh, int32_t *id);
    void bt_sampler_free(bt_sampler *s);
    int bt_set_threads(int n);
    ]]
    ffi.cdef [[
    int bt_session_step(bt_session *s, int32_t *id);
    int bt_session_set_sampling(bt_session *s, const bt_sampling *o);
    int bt_session_position(const bt_session *s);
    int bt_tokenize(const bt_model *m, const char *text, size_t len, unsigned flags, int32_t *ids, size_t cap, size_t *n);
    int bt_detokenize(const bt_model *m, const int32_t *ids, size_t n, char *buf, size_t cap, size_t *len);
    typedef struct bt_text_stream bt_text_stream;
    int bt_text_stream_new(bt_text_stream **out, const bt_model *m);
    int bt_model_meta(const bt_model *m, const char *key, char *buf, size_t cap, size_t *len);
    int bt_session_set_ttt_lr(bt_session *s, double lr);
    int bt_set_lua_dir(const char *dir);
    int bt_session_set_ttt_schedule(bt_session *s, const char *schedule);
    int bt_session_set_ttt_schedule_lua(bt_session *s, const char *source);
    ]]
    -- The library the process already has (the bitttt-lua host links it), else the file:
    -- one runtime per process either way (core.so, loaded by require, is a client of it too).
    if pcall(function() return ffi.C.bt_model_load end) then
        M.C = ffi.C
    else
        local ok, lib = pcall(ffi.load, lib_path)
        if ok then M.C = lib end
    end
end

function M.skip(pending_fn)
    if M.C then return false end
    pending_fn("skipped: " .. (ok_ffi and ("C library not found (" .. lib_path .. ")") or "needs LuaJIT's FFI"))
    return true
end

function M.check(st)
    if st ~= 0 then error("C API: " .. ffi.string(M.C.bt_last_error()), 2) end
end

--- A C model freed when collected. tokenizer: optional tokenizer file.
function M.model(path, tokenizer)
    local opts = ffi.new("bt_model_options", { tokenizer_path = tokenizer })
    local box = ffi.new("bt_model *[1]")
    M.check(M.C.bt_model_load(box, path, tokenizer and opts or nil))
    return ffi.gc(box[0], M.C.bt_model_free)
end

--- A C session of context n_ctx, freed when collected.
function M.session(model, n_ctx)
    local box = ffi.new("bt_session *[1]")
    M.check(M.C.bt_session_new(box, model, ffi.new("bt_session_options", { n_ctx = n_ctx })))
    return ffi.gc(box[0], M.C.bt_session_free)
end

--- A Lua array of ids as an int32_t array.
function M.ids(ids)
    local a = ffi.new("int32_t[?]", math.max(1, #ids))
    for i, id in ipairs(ids) do a[i - 1] = id end
    return a
end

return M
