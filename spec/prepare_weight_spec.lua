-- prepare_weight_spec.lua - core.prepare_weight (runtime/ops.h bt_op_prepare_weight):
-- a ternary weight prepared at load gives exactly the products of one prepared by its
-- first product, both match a double-precision reference, and loading a model prepares
-- every ternary weight it has (so running it only reads weights).
local ffi = require "ffi"
local bt = require "bitttt"
local helper = require "helper"
local core = bt.core
local Model = require "bitttt.model"
local Placement = require "bitttt.placement"

local seed = helper.seed_random()

local function random_matrix(m, k)
    local t = core.empty({ m, k }, "f32")
    local p = t:ptr()
    for i = 0, m * k - 1 do p[i] = math.random() * 2 - 1 end
    return t
end

local function round_half_even(v)
    local f = math.floor(v)
    if v - f ~= 0.5 then return math.floor(v + 0.5) end
    return f % 2 == 0 and f or f + 1
end

local f32_box = ffi.new("float[1]")
local function f32(v) f32_box[0] = v return f32_box[0] end

-- y [m, n] = q . W^T / s per token, in double: BitNet's per-token int8 activations
-- (s = 127 / max|x| and q = round-half-even(x * s), both rounded to float as the kernels
-- do, so q is the kernels' q) times the weights' values.
local function reference(w, x)
    local wd = core.ternary_dequantize(w)
    local n, k, m = w:shape()[1], w:shape()[2], x:shape()[1]
    local wp, xp, y = wd:ptr(), x:ptr(), {}
    for t = 0, m - 1 do
        local amax = 0
        for j = 0, k - 1 do amax = math.max(amax, math.abs(xp[t * k + j])) end
        local s = f32(127 / amax)
        local q = {}
        for j = 0, k - 1 do q[j] = round_half_even(f32(xp[t * k + j] * s)) end
        for i = 0, n - 1 do
            local acc = 0
            for j = 0, k - 1 do acc = acc + wp[i * k + j] * q[j] end
            y[t * n + i] = acc / s
        end
    end
    return y
end

describe("prepare_weight (seed " .. seed .. ")", function()
    for _, format in ipairs({ "tq2_0", "tq1_0" }) do
        it(format .. ": a weight prepared before its first product gives the same products, bit for bit", function()
            local n, k, m = 2 * math.random(1, 20) + 1, 256 * math.random(1, 3), 2 * math.random(0, 3) + 1
            local w_seed = math.random(1, 2 ^ 30)
            local prepared = core.ternary_random({ n, k }, format, w_seed, 0.25)
            local lazy = core.ternary_random({ n, k }, format, w_seed, 0.25)
            assert.is_false(core.weight_prepared(prepared))
            core.prepare_weight(prepared)
            assert.is_true(core.weight_prepared(prepared))
            core.prepare_weight(prepared)   -- a second call changes nothing
            assert.is_false(core.weight_prepared(lazy))

            local x = random_matrix(m, k)
            local y1, y2 = core.empty({ m, n }, "f32"), core.empty({ m, n }, "f32")
            core.op_linear(y1, prepared, x)
            core.op_linear(y2, lazy, x)
            local want, p1, p2 = reference(lazy, x), y1:ptr(), y2:ptr()
            for i = 0, m * n - 1 do
                assert.equals(p2[i], p1[i])
                assert.is_true(math.abs(p1[i] - want[i]) <= 1e-5 * (1 + math.abs(want[i])),
                               ("element %d: %.9g, reference %.9g"):format(i, p1[i], want[i]))
            end
        end)
    end

    it("leaves float weights as they are and refuses a ternary weight that is not a matrix", function()
        local f = random_matrix(3, 8)
        core.prepare_weight(f)
        assert.is_false(core.weight_prepared(f))
        local flat = core.empty({ 256 }, "tq2_0")
        assert.has_error(function() core.prepare_weight(flat) end,
                         "prepare_weight: a tq2_0 weight must be 2-d [n, k], got 1-d")
    end)

    it("is done for every ternary weight when a model is loaded", function()
        local model = Model.load(helper.root .. "/models/default.gguf")
        local ternary = 0
        local function expect(t, what)
            if t:dtype():match("^t") or t:dtype() == "i2_s" then
                ternary = ternary + 1
                assert.is_true(core.weight_prepared(t), what .. " (" .. t:dtype() .. ") is not prepared")
            end
        end
        for l, layer in ipairs(model.w.layers) do
            for _, ref in ipairs(Placement.layer_weights(layer)) do expect(ref[1][ref[2]], ("layer %d %s"):format(l, ref[2])) end
        end
        expect(model.w.output, "output")
        assert.is_true(ternary > 0, "the bundled model has no ternary weights to check")
    end)
end)
