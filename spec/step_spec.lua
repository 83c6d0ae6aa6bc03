-- step_spec.lua - Session:step{budget_ms}: tokens one at a time within a time
-- budget, resuming between layers (for game loops).
local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"
local helper = require "helper"

local stories, tok512 = "models/stories260K.bin", "models/tok512.bin"

local function load()
    return Model.load(helper.data_file(stories), { tokenizer = helper.data_file(tok512) })
end

describe("session:step", function()
    it("gives the same tokens as plain generation, spreading a token over several calls when the budget is tiny", function()
        if helper.skip_without(pending, stories) then return end
        local model = load()
        -- reference: forward + greedy sampling, token by token
        local ref_s = model:new_session { n_ctx = 64 }
        local logits = ref_s:forward({ 1 }, "last")
        local greedy = Sampler.new { temp = 0 }
        local ref = {}
        for i = 1, 12 do
            ref[i] = greedy:sample(logits)
            logits = ref_s:forward({ ref[i] }, "last")
        end
        for _, budget in ipairs({ 0, 1000 }) do
            local s = model:new_session { n_ctx = 64 }
            s:forward({ 1 }, "last")
            local got, calls = {}, 0
            while #got < 12 do
                calls = calls + 1
                local id = s:step { sampler = greedy, budget_ms = budget }
                if id then got[#got + 1] = id end
            end
            assert.are.same(ref, got)
            if budget == 0 then
                assert.equals(12 * #model.w.layers, calls)   -- one layer per call
            else
                assert.equals(12, calls)                      -- one token per call
            end
        end
    end)

    it("needs a prompt first and a sampler", function()
        if helper.skip_without(pending, stories) then return end
        local s = load():new_session { n_ctx = 8 }
        assert.has_error(function() s:step { sampler = Sampler.new { temp = 0 } } end)
        s:forward({ 1 }, "last")
        assert.has_error(function() s:step {} end)
    end)
end)
