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

local capi = require "capi_ffi"
local ffi, C = capi.ffi, capi.C
local skip_without_lib = capi.skip

local check, c_model, c_session, id_array = capi.check, capi.model, capi.session, capi.ids

-- Largest |C - Lua| over every row of feeding ids (prefill `split` tokens, then one at a time).
local function compare(path, tokenizer, ids, split)
    local model = Model.load(path, { tokenizer = tokenizer })   -- the same defaults as the C API (f16 caches)
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
        local model = Model.load(path, { tokenizer = tok })
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
        local err = ffi.string(C.bt_last_error())   -- one runtime per process: the message is always there
        assert.truthy(err:find(bad, 1, true) and err:find("general.sampling.top_k", 1, true), err)
        local box = ffi.new("bt_session *[1]")
        assert.is_not.equals(0, C.bt_session_new(box, bm, nil))   -- a session starts from them, so it says why too
        helper.rmdir(dir)
    end)

    it("reads state files the Lua side writes, and the Lua side reads the C API's", function()
        if skip_without_lib(pending) or helper.skip_without(pending, "reference/ttt/model.safetensors") then return end
        local path = helper.data_file("reference/ttt/")
        local model = Model.load(path)
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

    it("refuses the hostile TTT configs (mini_batch_size 0, 4.5) with the Lua side's message", function()
        if skip_without_lib(pending) or helper.skip_without(pending, "reference/ttt/model.safetensors") then return end
        local dir = helper.tmpdir()
        os.execute(("ln -s %s %s/model.safetensors"):format(helper.quote(helper.data_file("reference/ttt/model.safetensors")),
            helper.quote(dir)))
        local config = helper.read_file(helper.data_file("reference/ttt/config.json"))
        for _, bad in ipairs { "0", "4.5" } do
            helper.write_file(dir .. "/config.json", (config:gsub('"mini_batch_size": *%d+', '"mini_batch_size": ' .. bad)))
            local ok, lua_err = pcall(Model.load, dir .. "/")
            assert.is_false(ok, "Lua loaded mini_batch_size " .. bad)
            local box = ffi.new("bt_model *[1]")
            assert.is_not.equals(0, C.bt_model_load(box, dir .. "/", nil))
            assert.equals(tostring(lua_err), ffi.string(C.bt_last_error()))
        end
        helper.rmdir(dir)
    end)

    it("runs TTT learning-rate schedules and rates as the Lua session does (names, Lua source, errors)", function()
        if skip_without_lib(pending) then return end
        local path = helper.root .. "/models/default.gguf"
        local model, cm = Model.load(path), c_model(path)
        local ids = { 1, 72, 101, 108, 108, 111, 32, 84, 84, 84, 33, 10 }
        local function lua_logits(schedule, lr)
            local s = model:new_session { n_ctx = 32 }
            s:set_schedule(schedule)
            s:set_ttt_lr(lr)
            return s:forward(ids, "last")
        end
        local function c_logits(setup)
            local cs = c_session(cm, 32)
            setup(cs)
            check(C.bt_session_feed(cs, id_array(ids), #ids))
            return C.bt_session_logits(cs)
        end
        local function same(a, b)
            for j = 0, model.cfg.n_vocab - 1 do if a[j] ~= b:ptr()[j] then return false end end
            return true
        end
        local cosine = lua_logits("cosine:8,0.1")
        assert.is_true(same(c_logits(function(cs) check(C.bt_session_set_ttt_schedule(cs, "cosine:8,0.1")) end), cosine))
        local half = lua_logits("constant:0.5")
        assert.is_true(same(c_logits(function(cs)
            check(C.bt_session_set_ttt_schedule_lua(cs, "return function(pos, layer, step) return 0.5 end"))
        end), half))
        assert.is_false(same(c_logits(function() end), half), "a schedule changes the logits of this TTT model")
        local lr = lua_logits(nil, 0.02)
        assert.is_true(same(c_logits(function(cs) check(C.bt_session_set_ttt_lr(cs, 0.02)) end), lr))
        local cs = c_session(cm, 32)
        assert.equals(1, C.bt_session_set_ttt_schedule(cs, "sideways:3"))   -- BT_ERR_ARG
        assert.truthy(ffi.string(C.bt_last_error()):find("sideways", 1, true), ffi.string(C.bt_last_error()))
        assert.equals(1, C.bt_session_set_ttt_schedule_lua(cs, "return 42"))
        assert.truthy(ffi.string(C.bt_last_error()):find("must return a function", 1, true))
    end)

    it("runs edited Lua files from the folder bt_set_lua_dir names, the built-in sources for the rest", function()
        if skip_without_lib(pending) then return end
        local dir = helper.tmpdir()
        os.execute("mkdir -p " .. helper.quote(dir .. "/bitttt"))
        -- an edited schedules.lua: the original plus a schedule named "twice"
        helper.write_file(dir .. "/bitttt/schedules.lua", (helper.read_file(helper.root .. "/lua/bitttt/schedules.lua"):gsub(
            "\nreturn S%s*$", '\nlocal parse = S.parse\nfunction S.parse(text) if text == "twice" then return S.constant(2) end return parse(text) end\nreturn S\n')))
        local path = helper.root .. "/models/default.gguf"
        local ids = { 1, 72, 101, 108, 108, 111, 32, 84 }
        local s = Model.load(path):new_session { n_ctx = 16 }
        s:set_schedule("constant:2")
        local want = s:forward(ids, "last")
        check(C.bt_set_lua_dir(dir))
        local ok, err = pcall(function()
            local cs = c_session(c_model(path), 16)
            check(C.bt_session_set_ttt_schedule(cs, "twice"))
            check(C.bt_session_feed(cs, id_array(ids), #ids))
            local got = C.bt_session_logits(cs)
            for j = 0, 255 do assert(got[j] == want:ptr()[j], "logit " .. j) end
        end)
        check(C.bt_set_lua_dir(nil))
        helper.rmdir(dir)
        assert.is_true(ok, tostring(err))
        local cs = c_session(c_model(path), 16)   -- the built-in sources again: no "twice"
        assert.equals(1, C.bt_session_set_ttt_schedule(cs, "twice"))
    end)
end)
