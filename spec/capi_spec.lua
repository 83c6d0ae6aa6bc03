-- capi_spec.lua - the C API (runtime/bitttt.h, through LuaJIT's FFI on
-- bin/libbitttt.so) against the Lua graphs on the same models and token ids:
-- logits equal for llama (stories260K), BitNet (the reference GGUFs) and the
-- TTT-Linear reference checkpoint; the C sampler draws the Lua sampler's tokens
-- for the same seed and takes a model's recommended sampling as the scripts do;
-- state files written by either side load in the other.
local helper = require "helper"
local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"
local F = require "ttt_fixtures"

local ok_ffi, ffi = pcall(require, "ffi")
local lib_path = os.getenv("BITTTT_CAPI_LIB") or (helper.root .. "/bin/libbitttt.so")

local C
if ok_ffi then
    ffi.cdef [[
    typedef struct bt_model bt_model;
    typedef struct bt_session bt_session;
    typedef struct bt_sampler bt_sampler;
    typedef struct { const char *tokenizer_path; int max_batch; int float_activations; } bt_model_options;
    typedef struct { int n_ctx; } bt_session_options;
    typedef struct {
        double temp; int top_k; double top_p; double min_p; double repeat_penalty; int repeat_last_n;
        double frequency_penalty; double presence_penalty; uint64_t seed;
    } bt_sampling;
    typedef struct {
        const char *architecture; const char *format;
        int n_vocab, n_embd, n_layer, n_ff, n_ctx_train; int has_tokenizer; int32_t bos, eos; int add_bos;
        char fingerprint[17];
    } bt_model_info;
    const char *bt_last_error(void);
    int bt_model_load(bt_model **out, const char *path, const bt_model_options *opts);
    void bt_model_free(bt_model *m);
    void bt_model_get_info(const bt_model *m, bt_model_info *out);
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
    local ok, lib = pcall(ffi.load, lib_path)
    if ok then C = lib end
end

local function skip_without_lib(pending_fn)
    if C then return false end
    pending_fn("skipped: " .. (ok_ffi and ("C library not found (" .. lib_path .. ")") or "needs LuaJIT's FFI"))
    return true
end

local function check(st)
    if st ~= 0 then error("C API: " .. ffi.string(C.bt_last_error()), 2) end
end

-- A C model and a function that frees it (and its sessions) when the test ends.
local function c_model(path, tokenizer)
    local opts = ffi.new("bt_model_options", { tokenizer_path = tokenizer })
    local box = ffi.new("bt_model *[1]")
    check(C.bt_model_load(box, path, tokenizer and opts or nil))
    return ffi.gc(box[0], C.bt_model_free)
end

local function c_session(model, n_ctx)
    local box = ffi.new("bt_session *[1]")
    check(C.bt_session_new(box, model, ffi.new("bt_session_options", { n_ctx = n_ctx })))
    return ffi.gc(box[0], C.bt_session_free)
end

local function id_array(ids)
    local a = ffi.new("int32_t[?]", #ids)
    for i, id in ipairs(ids) do a[i - 1] = id end
    return a
end

-- Largest |C - Lua| over every row of feeding ids (prefill `split` tokens, then one at a time).
local function compare(path, tokenizer, ids, split)
    local model = Model.load(path, { tokenizer = tokenizer, kv_type = "f32" })   -- the C API's caches are f32
    local vocab = model.cfg.n_vocab
    local s = model:new_session { n_ctx = 64 }
    local lua_rows = s:forward({ unpack(ids, 1, split) }, "all")
    for i = split + 1, #ids do lua_rows[#lua_rows + 1] = s:forward({ ids[i] }, "last"):clone() end

    local cm = c_model(path, tokenizer)
    local cs = c_session(cm, 64)
    local all = ffi.new("float[?]", split * vocab)
    check(C.bt_session_feed_all(cs, id_array({ unpack(ids, 1, split) }), split, all))
    local worst = 0
    for r = 1, split do
        local row = lua_rows[r]:ptr()
        for j = 0, vocab - 1 do worst = math.max(worst, math.abs(all[(r - 1) * vocab + j] - row[j])) end
    end
    for i = split + 1, #ids do
        check(C.bt_session_feed(cs, id_array({ ids[i] }), 1))
        local got, row = C.bt_session_logits(cs), lua_rows[i]:ptr()
        for j = 0, vocab - 1 do worst = math.max(worst, math.abs(got[j] - row[j])) end
    end
    return worst, model, cm
end

local stories_ids = { 1, 403, 407, 261, 378, 319, 187, 386, 15, 138, 338, 82, 389, 88, 81, 176, 67 }

describe("the C API against the Lua graphs", function()
    it("gives the Lua logits for llama (stories260K, llama2.c)", function()
        if skip_without_lib(pending) or helper.skip_without(pending, "models/stories260K.bin") then return end
        local diff = compare(helper.data_file("models/stories260K.bin"), helper.data_file("models/tok512.bin"),
            stories_ids, 9)
        assert.is_true(diff == 0, "max |C - Lua| = " .. diff)
    end)

    for _, name in ipairs { "bitnet-s4321-tq2_0.gguf", "bitnet-s4321-i2_s.gguf", "bitnet-s4321-tq2_0-arch-bitnet-b1.58.gguf" } do
        it("gives the Lua logits for BitNet (" .. name .. ")", function()
            if skip_without_lib(pending) or helper.skip_without(pending, "reference/bitnet/" .. name) then return end
            local diff = compare(helper.data_file("reference/bitnet/" .. name), nil, stories_ids, 7)
            assert.is_true(diff == 0, "max |C - Lua| = " .. diff)
        end)
    end

    it("gives the Lua logits for the TTT-Linear reference (prefill 12 across a mini-batch, then decode)", function()
        if skip_without_lib(pending) or helper.skip_without(pending, "reference/ttt/model.safetensors") then return end
        local ids = {}
        for id in io.open(helper.data_file("reference/ttt/input_ids.txt")):read("*a"):gmatch("%d+") do ids[#ids + 1] = tonumber(id) end
        local diff = compare(helper.data_file("reference/ttt/"), nil, ids, 12)
        assert.is_true(diff == 0, "max |C - Lua| = " .. diff)
    end)

    it("gives the Lua logits for a bitttt GGUF with attention, ttt_linear and fastweight layers", function()
        if skip_without_lib(pending) then return end
        local dir = helper.tmpdir()
        local path = dir .. "/hybrid.gguf"
        F.write_random_bitttt { path = path, mixers = { "attention", "ttt_linear", "fastweight", "ttt_linear" },
            conv_kernel = 4, forget = 0.7 }
        local ids = { 1, 72, 101, 108, 108, 111, 32, 84, 84, 84, 33, 10, 87, 104, 121, 63 }
        local diff = compare(path, nil, ids, 6)
        helper.rmdir(dir)
        assert.is_true(diff == 0, "max |C - Lua| = " .. diff)
    end)

    it("gives the Lua logits for the bundled default model (models/default.gguf)", function()
        if skip_without_lib(pending) then return end
        local path = helper.root .. "/models/default.gguf"
        if not helper.exists(path) then pending("skipped: models/default.gguf not built yet") return end
        local diff = compare(path, nil, { 1, 72, 101, 108, 108, 111, 32, 84, 84 }, 5)
        assert.is_true(diff == 0, "max |C - Lua| = " .. diff)
    end)

    it("draws the Lua sampler's tokens for the same seed and options", function()
        if skip_without_lib(pending) or helper.skip_without(pending, "models/stories260K.bin") then return end
        local path, tok = helper.data_file("models/stories260K.bin"), helper.data_file("models/tok512.bin")
        local model = Model.load(path, { tokenizer = tok, kv_type = "f32" })
        local s = model:new_session { n_ctx = 64 }
        local logits = s:forward({ 1, 403, 407 }, "last")
        local seed = helper.seed_random()
        local history = { 1, 403, 407, 261, 403, 403 }
        local option_sets = {
            { temp = 0.9, top_k = 40, top_p = 0.95, min_p = 0.05 },
            { temp = 1.3, top_k = 0, top_p = 1, min_p = 0 },
            { temp = 0.7, top_k = 5, top_p = 0.5, min_p = 0.1, repeat_penalty = 1.3, frequency_penalty = 0.2,
              presence_penalty = 0.1, repeat_last_n = 4 },
            { temp = 0, repeat_penalty = 2 },
        }
        for _, o in ipairs(option_sets) do
            o.seed = math.random(0, 2 ^ 31)
            local lua = Sampler.new(o)
            local co = C.bt_sampling_defaults()
            for k, v in pairs(o) do co[k] = v end
            local box = ffi.new("bt_sampler *[1]")
            check(C.bt_sampler_new(box, co))
            local smp = ffi.gc(box[0], C.bt_sampler_free)
            local hist = id_array(history)
            for i = 1, 50 do
                local want = lua:sample(logits, history)
                local got = ffi.new("int32_t[1]")
                check(C.bt_sampler_sample(smp, logits:ptr(), logits:size(1), hist, #history, got))
                assert.equals(want, got[0], ("draw %d with seed %d (test seed %d)"):format(i, o.seed, seed))
            end
        end
    end)

    it("takes a model file's recommended sampling as generate.lua does, and names a bad key", function()
        if skip_without_lib(pending) then return end
        local path = helper.root .. "/models/default.gguf"
        local got = ffi.new("bt_sampling")
        check(C.bt_model_sampling(c_model(path), got))
        local want = Sampler.choose({}, Sampler.model_defaults(Model.load(path).meta, path))
        local d = C.bt_sampling_defaults()
        for _, k in ipairs({ "temp", "top_k", "top_p", "min_p", "repeat_penalty", "repeat_last_n", "frequency_penalty",
                             "presence_penalty" }) do
            local w = want[k]
            if w == nil then w = tonumber(d[k]) end
            assert.equals(w, tonumber(got[k]), k)
        end
        assert.is_true(got.repeat_penalty > 1.2, "the bundled model recommends a penalty")
        local dir = helper.tmpdir()
        local bad = dir .. "/bad-sampling.gguf"
        F.write_random_bitttt { path = bad, mixers = { "attention" }, meta = { { "general.sampling.top_k", "str", "many" } } }
        local bm = c_model(bad)
        assert.is_not.equals(0, C.bt_model_sampling(bm, got))
        local err = ffi.string(C.bt_last_error())
        -- A host that links its own copy of the runtime (the ASan build of bitttt-lua) takes the
        -- library's bt_set_error calls into that copy, so the library's own message is empty there.
        if err ~= "" then assert.truthy(err:find(bad, 1, true) and err:find("general.sampling.top_k", 1, true), err) end
        local box = ffi.new("bt_session *[1]")
        assert.is_not.equals(0, C.bt_session_new(box, bm, nil))   -- a session starts from them, so it says why too
        helper.rmdir(dir)
    end)

    it("reads state files the Lua side writes, and the Lua side reads the C API's", function()
        if skip_without_lib(pending) or helper.skip_without(pending, "reference/ttt/model.safetensors") then return end
        local path = helper.data_file("reference/ttt/")
        local model = Model.load(path, { kv_type = "f32" })
        local cm = c_model(path)
        local info = ffi.new("bt_model_info")
        C.bt_model_get_info(cm, info)
        assert.equals(model:fingerprint(), ffi.string(info.fingerprint))
        local dir = helper.tmpdir()
        -- Lua writes after 10 tokens; C loads and continues
        local ls = model:new_session { n_ctx = 64 }
        ls:forward({ 1, 45, 49, 173, 17, 43, 172, 97, 27, 173 }, "none")
        ls:save_state(dir .. "/lua.safetensors")
        local lua_next = ls:forward({ 29 }, "last")
        local cs = c_session(cm, 64)
        check(C.bt_session_load_state(cs, dir .. "/lua.safetensors"))
        check(C.bt_session_feed(cs, id_array({ 29 }), 1))
        local worst = 0
        local got = C.bt_session_logits(cs)
        for j = 0, model.cfg.n_vocab - 1 do worst = math.max(worst, math.abs(got[j] - lua_next:ptr()[j])) end
        assert.is_true(worst == 0, "C after a Lua state: max diff " .. worst)
        -- C writes after 11 tokens; Lua loads and continues
        check(C.bt_session_save_state(cs, dir .. "/c.safetensors"))
        local ls2 = model:new_session { n_ctx = 64 }
        ls2:load_state(dir .. "/c.safetensors")
        assert.equals(11, ls2.pos)
        local a = ls2:forward({ 13 }, "last")
        check(C.bt_session_feed(cs, id_array({ 13 }), 1))
        got = C.bt_session_logits(cs)
        worst = 0
        for j = 0, model.cfg.n_vocab - 1 do worst = math.max(worst, math.abs(got[j] - a:ptr()[j])) end
        helper.rmdir(dir)
        assert.is_true(worst == 0, "Lua after a C state: max diff " .. worst)
    end)
end)
