-- ttt_dual_primal_spec.lua - a prompt run in the dual form (one forward call)
-- equals the primal form token by token: logits and the final fast weights and
-- gradient sums, for prompts of 1, B-1, B, B+1 and 5B+3 tokens, with a constant
-- and a non-constant schedule; prompts split anywhere continue correctly.
-- Random in-memory TTT models (no data files needed).
local F = require "ttt_fixtures"
local S = require "bitttt.schedules"

local B = 5
local TOL = 1e-5

local function random_ids(n, vocab, seed)
    local rng = require("bitttt.rng").new(seed)
    local ids = {}
    for i = 1, n do ids[i] = math.floor(rng:next() * vocab) end
    return ids
end

local function state_diff(s1, s2)
    local m = 0
    for l, st in ipairs(s1.states) do
        m = math.max(m, F.max_abs_diff(st.weights, s2.states[l].weights), F.max_abs_diff(st.grads, s2.states[l].grads))
    end
    return m
end

local function one_at_a_time(session, ids)
    local rows = {}
    for i, id in ipairs(ids) do rows[i] = session:forward({ id }, "last"):clone() end
    return rows
end

local schedules = {
    { name = "no schedule" },
    { name = "a cosine schedule with a frozen layer 2", make = function()
        return S.per_layer(S.cosine(3 * B, 0.2), { [2] = 0 })
    end },
    { name = "a piecewise schedule", make = function()
        return S.piecewise({ { 0, 2 }, { B + 1, 0.5 }, { 3 * B, 0 }, { 4 * B, 1.5 } })
    end },
}

describe("TTT-Linear dual form vs primal form", function()
    local model = F.random_ttt_model { mini_batch = B, n_layer = 2, seed = 3 }
    for _, sch in ipairs(schedules) do
        for _, n in ipairs({ 1, B - 1, B, B + 1, 5 * B + 3 }) do
            it(("agree on %d tokens with %s"):format(n, sch.name), function()
                local ids = random_ids(n, model.cfg.n_vocab, n)
                local dual, primal = model:new_session(), model:new_session()
                if sch.make then
                    dual:set_schedule(sch.make())
                    primal:set_schedule(sch.make())
                end
                local a = F.stack(dual:forward(ids, "all"))
                local b = F.stack(one_at_a_time(primal, ids))
                local d_logits, d_state = F.max_abs_diff(a, b), state_diff(dual, primal)
                assert.is_true(d_logits <= TOL, ("logits differ by %.3g"):format(d_logits))
                assert.is_true(d_state <= TOL, ("fast weights differ by %.3g"):format(d_state))
            end)
        end
    end

    it("continues a prompt split at any point (prefill k, then decode; or two prompts)", function()
        local ids = random_ids(4 * B + 2, model.cfg.n_vocab, 99)
        local whole = F.stack(model:new_session():forward(ids, "all"))
        for _, k in ipairs({ 1, 2, B - 1, B + 2, 3 * B }) do
            local s = model:new_session()
            local head, tail = {}, {}
            for i, id in ipairs(ids) do
                if i <= k then head[#head + 1] = id else tail[#tail + 1] = id end
            end
            local rows = s:forward(head, "all")
            local decoded = one_at_a_time(s, tail)
            for _, r in ipairs(decoded) do rows[#rows + 1] = r end
            local d = F.max_abs_diff(whole, F.stack(rows))
            assert.is_true(d <= TOL, ("prefill %d + decode: logits differ by %.3g"):format(k, d))
            -- two multi-token calls, the second starting inside a mini-batch
            local s2 = model:new_session()
            local rows2 = s2:forward(head, "all")
            for _, r in ipairs(s2:forward(tail, "all")) do rows2[#rows2 + 1] = r end
            d = F.max_abs_diff(whole, F.stack(rows2))
            assert.is_true(d <= TOL, ("prompts of %d and %d tokens: logits differ by %.3g"):format(k, #tail, d))
        end
    end)

    it("gives the same result in chunks of max_batch tokens", function()
        local small = F.random_ttt_model { mini_batch = B, n_layer = 2, seed = 3, max_batch = 7 }
        local ids = random_ids(5 * B + 3, model.cfg.n_vocab, 5)
        local d = F.max_abs_diff(F.stack(model:new_session():forward(ids, "all")),
            F.stack(small:new_session():forward(ids, "all")))
        assert.is_true(d <= TOL, ("logits differ by %.3g"):format(d))
    end)

    it("the schedule changes the result (it reaches the kernels)", function()
        local ids = random_ids(3 * B, model.cfg.n_vocab, 11)
        local plain, scheduled = model:new_session(), model:new_session()
        scheduled:set_schedule(S.linear_warmup(2 * B))
        local d = F.max_abs_diff(F.stack(plain:forward(ids, "all")), F.stack(scheduled:forward(ids, "all")))
        assert.is_true(d > 1e-3, ("a warmup schedule moved the logits by only %.3g"):format(d))
    end)
end)
