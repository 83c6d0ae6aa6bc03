-- capi_parity_spec.lua - one graph definition: for every model we ship or test
-- with, the C API (runtime/bitttt.h, which runs lua/bitttt in the library's own
-- Lua state) and the Lua scripts give identical logits (prefill and decode),
-- identical sampled tokens for a seed, identical fingerprints, and state files
-- that cross Lua -> C -> Python -> Lua and continue exactly as one Lua session.
local helper = require "helper"
local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"
local capi = require "capi_ffi"

local ffi, C, check = capi.ffi, capi.C, capi.check

local tmp = helper.tmpdir()
local models = require("capi_models")

local N_CTX = 48
local prompt = { 1, 72, 101, 108, 108, 111, 32, 84, 84, 84, 33 }   -- < every vocabulary here (256+)

-- Largest |a[j] - b[j]| over n floats (a, b: float pointers).
local function max_diff(a, b, n)
    local worst = 0
    for j = 0, n - 1 do worst = math.max(worst, math.abs(a[j] - b[j])) end
    return worst
end

-- Runs Python's wrapper: load the model, load `from`, feed `id`, save `to`.
local function python_continue(path, tokenizer, from, to, id)
    local code = ([[
import sys; sys.path.insert(0, %q)
import bitttt
m = bitttt.Model(%q, tokenizer=%s)
s = m.session(n_ctx=%d)
s.load_state(%q); s.feed([%d]); s.save_state(%q)
]]):format(helper.root .. "/python", path, tokenizer and ("%q"):format(tokenizer) or "None", N_CTX, from, id, to)
    local script = tmp .. "/continue.py"
    helper.write_file(script, code)
    local _, err, rc = helper.run("BITTTT_LIB=" .. helper.quote(helper.root .. "/bin/libbitttt.so") .. " python3 " .. helper.quote(script))
    assert.equals(0, rc, err)
end

describe("C API parity with the Lua scripts", function()
    teardown(function() helper.rmdir(tmp) models.cleanup() end)

    for _, entry in ipairs(models.list) do
        describe(entry.name, function()
            local function setup_or_skip()
                if capi.skip(pending) then return nil end
                local path = entry.path()
                if not path then pending("skipped: test data not found for " .. entry.name) return nil end
                local tok = entry.tokenizer and entry.tokenizer()
                return path, tok, Model.load(path, { tokenizer = tok }), capi.model(path, tok)
            end

            it("has the same fingerprint", function()
                local path, _, lm, cm = setup_or_skip()
                if not path then return end
                local info = ffi.new("bt_model_info")
                check(C.bt_model_get_info(cm, info))
                assert.equals(lm:fingerprint(), ffi.string(info.fingerprint))
            end)

            it("gives identical logits (prefill, then decode) and samples identical tokens for a seed", function()
                local path, _, lm, cm = setup_or_skip()
                if not path then return end
                local V = lm.cfg.n_vocab
                local ls, cs = lm:new_session { n_ctx = N_CTX }, capi.session(cm, N_CTX)
                local rows = ls:forward(prompt, "all")
                local all = ffi.new("float[?]", #prompt * V)
                check(C.bt_session_feed_all(cs, capi.ids(prompt), #prompt, all))
                for r = 1, #prompt do
                    assert.equals(0, max_diff(all + (r - 1) * V, rows[r]:ptr(), V), "prefill row " .. r)
                end
                local seed = math.random(0, 2 ^ 31)
                local opts = { temp = 0.9, top_k = 20, top_p = 0.95, min_p = 0.02, repeat_penalty = 1.1, seed = seed }
                local sampler, history = Sampler.new(opts), {}
                for i, id in ipairs(prompt) do history[i] = id end
                local co = C.bt_sampling_defaults()
                for k, v in pairs(opts) do co[k] = v end
                check(C.bt_session_set_sampling(cs, co))
                local logits = rows[#rows]
                for step = 1, 12 do
                    local want = sampler:sample(logits, history)
                    history[#history + 1] = want
                    logits = ls:forward({ want }, "last")
                    local got = ffi.new("int32_t[1]")
                    check(C.bt_session_step(cs, got))
                    assert.equals(want, got[0], ("token %d (seed %d)"):format(step, seed))
                    assert.equals(0, max_diff(C.bt_session_logits(cs), logits:ptr(), V), "decode logits at step " .. step)
                end
            end)

            it("passes a state file Lua -> C -> Python -> Lua and continues as one Lua session", function()
                local path, tok, lm, cm = setup_or_skip()
                if not path then return end
                local V = lm.cfg.n_vocab
                local f = { tmp .. "/lua.st", tmp .. "/c.st", tmp .. "/py.st" }
                -- the reference: one Lua session fed the same calls (chunking matters to TTT's forms)
                local ref = lm:new_session { n_ctx = N_CTX }
                ref:forward(prompt, "none")
                ref:forward({ 40 }, "none")
                ref:forward({ 41 }, "none")
                local want = ref:forward({ 42 }, "last")

                local ls = lm:new_session { n_ctx = N_CTX }
                ls:forward(prompt, "none")
                ls:save_state(f[1])                                   -- Lua writes
                local cs = capi.session(cm, N_CTX)
                check(C.bt_session_load_state(cs, f[1]))              -- C reads, feeds 40, writes
                check(C.bt_session_feed(cs, capi.ids({ 40 }), 1))
                check(C.bt_session_save_state(cs, f[2]))
                python_continue(path, tok, f[2], f[3], 41)           -- Python reads, feeds 41, writes
                local back = lm:new_session { n_ctx = N_CTX }
                back:load_state(f[3])                                 -- Lua reads and continues
                assert.equals(#prompt + 2, back.pos)
                local got = back:forward({ 42 }, "last")
                assert.equals(0, max_diff(got:ptr(), want:ptr(), V))
            end)
        end)
    end
end)
