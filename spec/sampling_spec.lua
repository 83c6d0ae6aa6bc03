-- sampling_spec.lua - the sampler and its seeded generator.
local bt = require "bitttt"
local Sampler = require "bitttt.sampling"
local Rng = require "bitttt.rng"
local helper = require "helper"

local function logits(values) return bt.tensor(values) end

-- Empirical frequencies of sampled ids over n draws.
local function frequencies(sampler, row, n)
    local f = {}
    for _ = 1, n do
        local id = sampler:sample(row)
        f[id] = (f[id] or 0) + 1
    end
    return f
end

describe("sampler", function()
    it("greedy takes the highest logit, the lowest id on ties", function()
        local s = Sampler.new { temp = 0 }
        assert.equals(2, s:sample(logits({ 0, 1, 3, 3, -1 })))
    end)

    it("top-k 1 is greedy whatever the temperature", function()
        local s = Sampler.new { temp = 5, top_k = 1, seed = 1 }
        for _ = 1, 20 do assert.equals(3, s:sample(logits({ 0, 1, 2, 4, 3.9 }))) end
    end)

    it("top-p keeps the smallest set whose probability reaches p", function()
        -- probabilities ~ 0.64, 0.24, 0.09, 0.03: top_p 0.8 keeps ids 0 and 1
        local s = Sampler.new { temp = 1, top_k = 0, top_p = 0.8, min_p = 0, seed = 3 }
        local f = frequencies(s, logits({ 3, 2, 1, 0 }), 2000)
        assert.is_nil(f[2])
        assert.is_nil(f[3])
        assert.is_true(f[0] > f[1] and f[1] > 200)
    end)

    it("min-p drops candidates below p times the best probability", function()
        local s = Sampler.new { temp = 1, top_k = 0, top_p = 1, min_p = 0.3, seed = 4 }
        local f = frequencies(s, logits({ 2, 1.5, 0, -3 }), 1000)   -- p2/p0 = e^-2 < 0.3
        assert.is_nil(f[2])
        assert.is_true(f[0] > 0 and f[1] > 0)
    end)

    it("samples in proportion to softmax(logits / temp)", function()
        local s = Sampler.new { temp = 2, top_k = 0, top_p = 1, min_p = 0, seed = helper.seed_random() }
        local f = frequencies(s, logits({ math.log(4) * 2, 0 }), 20000)   -- 4:1 at temp 2
        local ratio = f[0] / f[1]
        assert.is_true(ratio > 3.5 and ratio < 4.6, "ratio " .. ratio)
    end)

    it("repetition, frequency and presence penalties lower tokens seen in the history", function()
        local row = logits({ 2, 1.875, -1 })   -- exact in f32
        assert.equals(0, Sampler.new { temp = 0 }:sample(row, { 0, 0 }))
        assert.equals(1, Sampler.new { temp = 0, repeat_penalty = 1.1 }:sample(row, { 0 }))
        assert.equals(1, Sampler.new { temp = 0, frequency_penalty = 0.1 }:sample(row, { 0, 0 }))
        assert.equals(0, Sampler.new { temp = 0, frequency_penalty = 0.1 }:sample(row, { 0 }))
        assert.equals(1, Sampler.new { temp = 0, presence_penalty = 0.2 }:sample(row, { 0 }))
        assert.are.same({ 2, 1.875, -1 }, { row[1], row[2], row[3] })   -- the logits tensor is not modified
    end)

    it("is deterministic for a seed", function()
        local row = logits({ 1, 2, 3, 2, 1, 0.5 })
        local a, b = Sampler.new { seed = 9, top_k = 0 }, Sampler.new { seed = 9, top_k = 0 }
        for _ = 1, 50 do assert.equals(a:sample(row), b:sample(row)) end
    end)

    it("rejects bad options", function()
        assert.has_error(function() Sampler.new { top_p = 0 } end)
        assert.has_error(function() Sampler.new { min_p = 1 } end)
        assert.has_error(function() Sampler.new { temperature = 1 } end)
    end)

    it("takes a model file's recommendations (GGUF general.sampling.*) unless told otherwise", function()
        local meta = { ["general.sampling.penalty_repeat"] = 1.15, ["general.sampling.top_k"] = 20,
                       ["general.sampling.penalty_last_n"] = 32, ["general.name"] = "x" }
        local rec = Sampler.model_defaults(meta, "m.gguf")
        assert.same({ repeat_penalty = 1.15, top_k = 20, repeat_last_n = 32 }, rec)
        local chosen = Sampler.choose({ top_k = 5, seed = 3 }, rec, { temp = 0.7, top_k = 99 })
        assert.same({ top_k = 5, repeat_penalty = 1.15, repeat_last_n = 32, temp = 0.7, seed = 3 }, chosen)
        local s = Sampler.new(chosen)
        assert.same({ 5, 1.15, 32, 0.7, 0.95 }, { s.top_k, s.repeat_penalty, s.repeat_last_n, s.temp, s.top_p })
        assert.same({}, Sampler.model_defaults({}, "m.gguf"))
        local ok, err = pcall(Sampler.model_defaults, { ["general.sampling.temp"] = "hot" }, "m.gguf")
        assert.is_false(ok)
        assert.truthy(tostring(err):find("m.gguf: general.sampling.temp must be a number, got hot", 1, true), err)
    end)
end)

describe("rng", function()
    it("gives numbers in [0, 1) and the same stream in LuaJIT and PUC Lua 5.1", function()
        local r = Rng.new(12345)
        local xs = {}
        for i = 1, 5 do
            xs[i] = r:next()
            assert.is_true(xs[i] >= 0 and xs[i] < 1)
        end
        local code = [[local R = require "bitttt.rng"; local r = R.new(12345); local t = {}
            for i = 1, 5 do t[i] = string.format("%.17g", r:next()) end; print(table.concat(t, " "))]]
        local env = ("LUA_PATH=%s "):format(helper.quote(helper.root .. "/lua/?.lua;;"))
        local a = helper.run(env .. "luajit -e " .. helper.quote(code))
        local b = helper.run(env .. "lua5.1 -e " .. helper.quote(code))
        assert.equals(a, b)
        local mine = {}
        for i = 1, 5 do mine[i] = string.format("%.17g", xs[i]) end
        assert.equals(table.concat(mine, " ") .. "\n", a)
    end)
end)
