-- ttt_state_spec.lua - a session's state: reset, snapshot/restore, fork, save to
-- and load from a safetensors file (continuing exactly as an uninterrupted
-- session; another model's state is refused), and learn(text). On a hybrid
-- `bitttt` model written on the fly (attention, ttt_linear and fastweight
-- layers, byte vocabulary) and on an in-memory TTT model.
local F = require "ttt_fixtures"
local bt = require "bitttt"
local Model = require "bitttt.model"

local function hybrid_model(dir, seed)
    local path = ("%s/hybrid%d.gguf"):format(dir, seed)
    F.write_random_bitttt { path = path, mixers = { "ttt_linear", "attention", "fastweight" }, seed = seed,
        conv_kernel = 4, forget = 0.9 }
    return Model.load(path, { max_batch = 16 })
end

local function run(session, ids) return F.stack(session:forward(ids, "all")) end

describe("TTT session state", function()
    local dir, model
    setup(function()
        dir = require("helper").tmpdir()
        model = hybrid_model(dir, 1)
    end)
    teardown(function() require("helper").rmdir(dir) end)

    local prefix = { 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100 }
    local rest = { 33, 32, 84, 84, 84, 32, 108, 101, 97, 114, 110, 115 }

    it("reset puts every layer back to its initial state", function()
        local s, fresh = model:new_session { n_ctx = 64 }, model:new_session { n_ctx = 64 }
        local first = run(s, prefix)
        s:reset()
        assert.equals(0, s.pos)
        assert.equals(0, F.max_abs_diff(first, run(s, prefix)))
        assert.equals(0, F.max_abs_diff(first, run(fresh, prefix)))
    end)

    it("restores a snapshot: the same continuation again, bit for bit", function()
        local s = model:new_session { n_ctx = 64 }
        s:forward(prefix, "none")
        local snap = s:snapshot()
        local once = run(s, rest)
        s:restore(snap)
        assert.equals(#prefix, s.pos)
        assert.equals(0, F.max_abs_diff(once, run(s, rest)))
        local other = hybrid_model(dir, 2):new_session { n_ctx = 64 }
        assert.has_error(function() other:restore(snap) end, "restore: not a snapshot of a session of this model")
    end)

    it("forks: the branch continues like the original and leaves it alone", function()
        local s = model:new_session { n_ctx = 64 }
        s:forward(prefix, "none")
        local branch = s:fork()
        local from_branch = run(branch, rest)
        run(branch, prefix)   -- the branch goes on; the original must not notice
        assert.equals(#prefix, s.pos)
        assert.equals(0, F.max_abs_diff(from_branch, run(s, rest)))
    end)

    it("saves and loads: a loaded state continues exactly as an uninterrupted session", function()
        local path = dir .. "/state.safetensors"
        local a = model:new_session { n_ctx = 64 }
        a:forward(prefix, "none")
        a:save_state(path)
        local uninterrupted = run(a, rest)

        local b = model:new_session { n_ctx = 64 }
        b:forward({ 1, 2, 3 }, "none")   -- whatever it held is replaced
        b:load_state(path)
        assert.equals(#prefix, b.pos)
        assert.equals(0, F.max_abs_diff(uninterrupted, run(b, rest)))

        -- the file: safetensors tensors per layer state and the metadata
        local tensors, meta = bt.safetensors_load(path)
        assert.equals("bitttt-session-state", meta.format)
        assert.equals(model:fingerprint(), meta.fingerprint)
        assert.equals(tostring(#prefix), meta.position)
        assert.same({ 4, 9, 8 }, tensors["layer.1.weights"]:shape())
        assert.same({ 8, 8 }, tensors["layer.3.W"]:shape())
        assert.truthy(tensors["layer.2.k_cache"])
    end)

    it("saves and loads the state of a TTT model split mid-mini-batch, decoding on", function()
        local ttt = F.random_ttt_model { mini_batch = 4, n_layer = 2 }
        local ids = { 5, 3, 8, 1, 9, 2, 7 }
        local path = dir .. "/ttt.safetensors"
        local a = ttt:new_session()
        a:forward({ 1, 4, 2, 8, 5, 7 }, "none")   -- 6 tokens: the second mini-batch is half done
        a:save_state(path)
        local want = {}
        for i, id in ipairs(ids) do want[i] = a:forward({ id }, "last"):clone() end
        local b = ttt:new_session()
        b:load_state(path)
        local got = {}
        for i, id in ipairs(ids) do got[i] = b:forward({ id }, "last"):clone() end
        assert.equals(0, F.max_abs_diff(F.stack(want), F.stack(got)))
    end)

    it("refuses the state of another model, and files that are not states, with clear errors", function()
        local path = dir .. "/other.safetensors"
        local other = hybrid_model(dir, 3)
        assert.are_not.equal(model:fingerprint(), other:fingerprint())
        local o = other:new_session { n_ctx = 64 }
        o:forward(prefix, "none")
        o:save_state(path)
        local s = model:new_session { n_ctx = 64 }
        local ok, err = pcall(s.load_state, s, path)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("the state was saved from another model (fingerprint " .. other:fingerprint(), 1, true),
            tostring(err))
        assert.equals(0, s.pos)

        local small = model:new_session { n_ctx = 32 }
        local path2 = dir .. "/ctx64.safetensors"
        model:new_session({ n_ctx = 64 }):save_state(path2)
        ok, err = pcall(small.load_state, small, path2)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("context 64 when saved, 32 now", 1, true), tostring(err))

        local plain = dir .. "/plain.safetensors"
        bt.safetensors_save(plain, { { "x", bt.zeros({ 2 }) } })
        ok, err = pcall(s.load_state, s, plain)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("not a bitttt session state", 1, true), tostring(err))
    end)

    it("learn(text) reads text into the fast weights without logits", function()
        local s = model:new_session { n_ctx = 64 }
        local n = s:learn("TTT learns while it reads.")
        assert.is_true(n > 20)
        assert.equals(n, s.pos)
        assert.is_true(F.max_abs_diff(s.states[1].weights, model.w.layers[1].mixer.initial) > 0)
        assert.is_true(F.max_abs_diff(s.states[3].W, bt.zeros({ 8, 8 })) > 0)
        -- the same as feeding the tokens
        local t = model:new_session { n_ctx = 64 }
        t:forward(model.tokenizer:encode("TTT learns while it reads.", { bos = model.tokenizer:add_bos() }), "none")
        assert.equals(0, F.max_abs_diff(s.states[1].weights, t.states[1].weights))
        local ttt = F.random_ttt_model { n_layer = 1 }
        assert.has_error(function() ttt:new_session():learn("text") end,
            "learn: the model has no tokenizer; pass token ids instead of text")
        assert.equals(3, ttt:new_session():learn({ 1, 2, 3 }))
    end)
end)
