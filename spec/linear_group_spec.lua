-- linear_group_spec.lua - core.op_linear_group (runtime/ops.h bt_op_linear_group): the
-- results of one op_linear per weight, exactly, for ternary and float weights (with and
-- without BitLinear activation quantization), and clear errors for bad groups.
-- On a GPU, test_cuda_ops.c checks the grouped launch against single linears.
local bt = require "bitttt"
local core = bt.core

local function random(shape, seed)
    local t, x = core.empty(shape, "f32"), seed
    for i = 0, t:numel() - 1 do
        x = (x * 1103515245 + 12345) % 2147483648
        t:ptr()[i] = x / 2147483648 * 2 - 1
    end
    return t
end

describe("op_linear_group", function()
    local m, k = 3, 512
    local x = random({ m, k }, 5)
    local cases = {
        tq2_0 = { core.ternary_random({ 40, k }, "tq2_0", 1, 0.1), core.ternary_random({ 24, k }, "tq2_0", 2, 0.2),
                  core.ternary_random({ 24, k }, "tq2_0", 3, 0.3) },
        tq1_0 = { core.ternary_random({ 17, k }, "tq1_0", 4, 0.1), core.ternary_random({ 9, k }, "tq1_0", 5, 0.2) },
        f32 = { random({ 33, k }, 6), random({ 7, k }, 7), random({ 11, k }, 8), random({ 5, k }, 9) },
    }
    for name, ws in pairs(cases) do
        for _, aq in ipairs({ false, true }) do
            it(("gives op_linear's results exactly: %s, %d weights, act_quant %s"):format(name, #ws, tostring(aq)), function()
                local outs, want = {}, {}
                for i, w in ipairs(ws) do
                    local n = w:shape()[1]
                    outs[i], want[i] = core.empty({ m, n }, "f32"), core.empty({ m, n }, "f32")
                    core.op_linear(want[i], w, x, aq)
                end
                core.op_linear_group(outs, ws, x, aq)
                for i = 1, #ws do
                    local p, q = outs[i]:ptr(), want[i]:ptr()
                    for j = 0, outs[i]:numel() - 1 do assert.equals(q[j], p[j]) end
                end
            end)
        end
    end

    it("refuses bad groups with a clear error", function()
        local w = cases.f32
        local o = { core.empty({ m, 33 }, "f32"), core.empty({ m, 7 }, "f32") }
        local function err(...)
            local ok, e = pcall(core.op_linear_group, ...)
            assert.is_false(ok)
            return tostring(e)
        end
        assert.truthy(err({}, {}, x):find("outputs holds 0 tensors", 1, true))
        assert.truthy(err({ o[1], o[1], o[1], o[1], o[1] }, w, x):find("outputs holds 5 tensors", 1, true))
        assert.truthy(err(o, { w[1] }, x):find("2 outputs for 1 weights", 1, true))
        assert.truthy(err({ o[1], "q" }, { w[1], w[2] }, x):find("outputs[2] is not a tensor", 1, true))
        assert.truthy(err({ o[2], o[1] }, { w[1], w[2] }, x):find("linear_group: out", 1, true))
        assert.truthy(err(o, { w[1], w[2] }, random({ m, 256 }, 1)):find("linear_group", 1, true))
    end)
end)
