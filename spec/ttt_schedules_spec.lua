-- ttt_schedules_spec.lua - learning-rate schedules (lua/bitttt/schedules.lua):
-- the built-ins' values, per-layer overrides, parsing, the arguments the runtime
-- passes, and their effect on a session (0 freezes learning; lr overrides).
local F = require "ttt_fixtures"
local S = require "bitttt.schedules"

local function near(a, b) return math.abs(a - b) <= 1e-12 end

describe("schedules", function()
    it("constant, linear warmup, cosine decay, inverse square root", function()
        assert.equals(1, S.constant()(123, 1, 0))
        assert.equals(0.25, S.constant(0.25)(0, 2, 0))
        local w = S.linear_warmup(4)
        assert.is_true(near(w(0), 0.25) and near(w(1), 0.5) and near(w(3), 1) and w(100) == 1)
        assert.is_true(near(S.linear_warmup(4, 0.5)(0), 0.625))
        local c = S.cosine(10, 0.1)
        assert.is_true(near(c(0), 1) and near(c(5), 0.55) and near(c(10), 0.1) and near(c(1000), 0.1))
        local r = S.inverse_sqrt(16)
        assert.is_true(r(0) == 1 and r(15) == 1 and near(r(63), 0.5))
    end)

    it("piecewise: linear between points, constant outside, or held steps", function()
        local p = S.piecewise({ { 10, 1 }, { 20, 0 }, { 30, 2 } })
        assert.is_true(p(0) == 1 and near(p(15), 0.5) and p(20) == 0 and near(p(25), 1) and p(99) == 2)
        local s = S.piecewise({ { 0, 1 }, { 8, 0.5 } }, true)
        assert.is_true(s(7) == 1 and s(8) == 0.5)
        assert.has_error(function() S.piecewise({ { 5, 1 }, { 5, 2 } }) end)
    end)

    it("per-layer overrides by schedule or number", function()
        local sch = S.per_layer(S.constant(2), { [3] = 0, [1] = S.linear_warmup(2) })
        assert.equals(2, sch(0, 2, 0))
        assert.equals(0, sch(0, 3, 0))
        assert.is_true(near(sch(0, 1, 0), 0.5))
    end)

    it("parses names, arguments and Lua files; rejects the rest clearly", function()
        assert.is_true(near(S.parse("cosine:10,0.1")(5), 0.55))
        assert.is_true(near(S.parse("warmup:4")(1), 0.5))
        assert.is_true(near(S.parse("inv_sqrt:16")(63), 0.5))
        assert.equals(0, S.parse("constant:0")(7))
        assert.equals(1, S.parse("constant")(7))
        assert.is_true(near(S.parse("piecewise:0=1,10=0")(5), 0.5))
        assert.equals(1, S.parse("steps:0=1,10=0")(9))
        local path = os.tmpname() .. ".lua"
        F.write_file(path, "return { default = 0.5, [2] = function(pos, layer, step) return step end }")
        local sch = S.parse(path)
        os.remove(path)
        assert.equals(0.5, sch(3, 1, 0))
        assert.equals(4, sch(3, 2, 4))
        local ok, err = pcall(S.parse, "sawtooth:3")
        assert.is_false(ok)
        assert.truthy(tostring(err):find("cannot read 'sawtooth:3'", 1, true))
    end)

    it("is called with (position, layer, step) for every token and layer, step = mini-batch index", function()
        local model = F.random_ttt_model { mini_batch = 4, n_layer = 2 }
        local session = model:new_session()
        local seen = {}
        session:set_schedule(function(pos, layer, step)
            seen[#seen + 1] = ("%d/%d/%d"):format(pos, layer, step)
            return 1
        end)
        session:forward({ 1, 2, 3, 4, 5 }, "last")
        session:forward({ 6 }, "last")
        assert.same({ "0/1/0", "1/1/0", "2/1/0", "3/1/0", "4/1/1", "0/2/0", "1/2/0", "2/2/0", "3/2/0", "4/2/1",
            "5/1/1", "5/2/1" }, seen)
    end)

    it("0 freezes learning; a frozen layer keeps its initial fast weights", function()
        local model = F.random_ttt_model { mini_batch = 4, n_layer = 2 }
        local ids = { 3, 1, 4, 1, 5, 9, 2, 6, 5 }
        local frozen = model:new_session()
        frozen:set_schedule(S.per_layer(1, { [1] = 0 }))
        frozen:forward(ids, "none")
        local initial = model.w.layers[1].mixer.initial
        assert.equals(0, F.max_abs_diff(frozen.states[1].weights, initial))
        assert.equals(0, F.max_abs_diff(frozen.states[1].grads, model.w.layers[1].mixer.initial:clone():fill(0)))
        assert.is_true(F.max_abs_diff(frozen.states[2].weights, model.w.layers[2].mixer.initial) > 1e-4)
        -- schedule 0 everywhere == base lr 0
        local a, b = model:new_session(), model:new_session()
        a:set_schedule(S.constant(0))
        b:set_ttt_lr(0)
        assert.equals(0, F.max_abs_diff(F.stack(a:forward(ids, "all")), F.stack(b:forward(ids, "all"))))
    end)

    it("a multiplier m on the schedule equals a base lr scaled by m", function()
        local model = F.random_ttt_model { mini_batch = 4, n_layer = 2, base_lr = 0.8 }
        local ids = { 7, 2, 9, 4, 4, 1, 8 }
        local a, b = model:new_session(), model:new_session()
        a:set_schedule(S.constant(0.5))
        b:set_ttt_lr(0.4)
        assert.is_true(F.max_abs_diff(F.stack(a:forward(ids, "all")), F.stack(b:forward(ids, "all"))) <= 1e-6)
    end)

    it("refuses a schedule value that is not a finite number >= 0", function()
        local model = F.random_ttt_model { mini_batch = 4, n_layer = 1 }
        local s = model:new_session()
        s:set_schedule(function(pos) return pos == 2 and -1 or 1 end)
        local ok, err = pcall(s.forward, s, { 1, 2, 3 }, "last")
        assert.is_false(ok)
        assert.truthy(tostring(err):find("position 2, layer 1 gave -1", 1, true))
        assert.has_error(function() s:set_ttt_lr(-1) end)
    end)
end)
