-- ttt_mlp_trained_spec.lua - a small TTT-MLP BitLlama trained by scripts/train/
-- (spec/data/ttt_mlp_trained, see its README: a few minutes of training, no
-- quality target): it loads, generates through generate.lua, and agrees with the
-- PyTorch trainer's logits (float activations, so nothing discrete differs) through
-- a prefill that ends inside a mini-batch, then decoding.
local helper = require "helper"
local F = require "ttt_fixtures"
local bt = require "bitttt"
local Model = require "bitttt.model"

local DIR = helper.root .. "/spec/data/ttt_mlp_trained/"
local FLOAT_TOL = 1e-4   -- logits reach about 8; the same f32 graph summed in other orders (measured 6e-6)

describe("a TTT-MLP model trained by scripts/train", function()
    it("is a bitttt model of ttt_mlp layers with ternary projections", function()
        local m = bt.gguf_meta(DIR .. "model.gguf")
        for _, kind in ipairs(m["bitttt.mixers"]) do assert.equals("ttt_mlp", kind) end
        local model = Model.load(DIR .. "model.gguf")
        assert.equals("ttt_mlp", model.w.layers[1].mixer.kind)
        assert.equals("tq2_0", model.w.layers[1].mixer.wq:dtype())
    end)

    it("generates text with generate.lua", function()
        local out, err, rc = helper.run_host("generate.lua", "-m", DIR .. "model.gguf", "-p", "The fortune says",
            "-n", "24", "--seed", "3")
        assert.equals(0, rc, err)
        assert.equals("The fortune says", out:sub(1, 16))
        assert.is_true(#out > 16 + 10, out)
    end)

    it("agrees with the PyTorch trainer: whole sequence, and prefill then decode", function()
        local want, meta = bt.safetensors_load(DIR .. "logits.safetensors")
        local dir = helper.tmpdir()
        F.float_copy(DIR .. "model.gguf", dir .. "/float.gguf")
        local model = Model.load(dir .. "/float.gguf")
        helper.rmdir(dir)
        local ids = {}
        for i = 1, want.ids:shape()[1] do ids[i] = math.floor(want.ids[i] + 0.5) end
        local ref, cols = want.logits_float, want.logits_float:shape()[2]
        local function worst(rows)
            local w = 0
            for p, row in ipairs(rows) do w = math.max(w, F.max_abs_diff(row:narrow(1, 1, cols), ref[p])) end
            return w
        end
        local whole = worst(model:new_session {}:forward(ids, "all"))
        assert.is_true(whole <= FLOAT_TOL, ("whole sequence: max |delta logits| = %.3g"):format(whole))
        local k = tonumber(meta.prefill)
        assert.is_true(k % model.w.layers[1].mixer.mini_batch ~= 0, "the prefill ends inside a mini-batch")
        local s, rows, first = model:new_session {}, {}, {}
        for i = 1, k do first[i] = ids[i] end
        for _, r in ipairs(s:forward(first, "all")) do rows[#rows + 1] = r end
        for i = k + 1, #ids do rows[#rows + 1] = s:forward({ ids[i] }, "last"):clone() end
        local split = worst(rows)
        assert.is_true(split <= FLOAT_TOL, ("prefill %d, decode: max |delta logits| = %.3g"):format(k, split))
    end)
end)
