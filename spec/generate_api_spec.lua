-- generate_api_spec.lua - model:generate / session:generate: the model's recommended
-- sampling, streaming, stopping, continuing a session, and options that are left out
-- or wrong giving clear errors (never an internal one).
local helper = require "helper"
local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"
local Generation = require "bitttt.generation"

describe("model:generate and session:generate", function()
    local model
    setup(function() model = Model.load(helper.root .. "/models/default.gguf") end)

    it("samples as the model file recommends (general.sampling.*)", function()
        local recommended = Sampler.model_defaults(model.meta, model.path)
        assert.is_near(1.3, recommended.repeat_penalty, 1e-6)   -- what makes the bundled model readable
        local seed = math.random(1, 1e6)
        local text, r = model:generate("The cat", { n = 40, seed = seed })
        -- the same loop by hand, with a sampler built from the file's recommendation
        local s = model:new_session {}
        local tok = model.tokenizer
        local pieces = {}
        Generation.run { session = s, tokenizer = tok, n_predict = 40,
            sampler = Sampler.new(Sampler.choose({ seed = seed }, recommended)),
            prompt_ids = tok:encode("The cat", { bos = tok:add_bos() }),
            on_text = function(p) pieces[#pieces + 1] = p end }
        assert.are.equal(table.concat(pieces), text)
        assert.is_true(r.n_generated >= 1 and r.n_generated <= 40)
        -- and a different penalty gives a different sampler
        local text_no_penalty = model:generate("The cat", { n = 40, seed = seed, repeat_penalty = 1, temp = 0 })
        local text_greedy = model:generate("The cat", { n = 40, seed = seed, temp = 0 })
        assert.are_not.equal(text_no_penalty, text_greedy)
    end)

    it("streams the text it returns and stops when on_text says false", function()
        local pieces = {}
        local text = model:generate("Once", { n = 30, on_text = function(p) pieces[#pieces + 1] = p end })
        assert.are.equal(text, table.concat(pieces))
        local calls = 0
        local _, r = model:generate("Once", { n = 100, temp = 0, on_text = function() calls = calls + 1 return calls < 3 end })
        assert.are.equal("cancelled", r.stopped)
        assert.are.equal(3, calls)
    end)

    it("continues a session where the last call stopped", function()
        local n = math.random(3, 8)
        local whole = model:new_session {}:generate("A wise man", { n = 2 * n, temp = 0 })
        local s = model:new_session {}
        local first = s:generate { prompt = "A wise man", n = n, temp = 0 }
        local second = s:generate { n = n, temp = 0 }
        assert.are.equal(whole, first .. second)
    end)

    it("stops at a stop text, which it leaves out", function()
        local text, r = model:generate("", { n = 200, temp = 0, stop = "\n" })
        if r.stopped == "stop" then assert.is_nil(text:find("\n", 1, true)) end
        assert.is_true(r.stopped == "stop" or r.stopped == "eos" or r.stopped == "length")
    end)

    it("works with every optional field left out", function()
        assert.is_string((model:generate()))
        assert.is_string((model:new_session {}:generate()))
        assert.is_string((model:new_session {}:generate {}))
        local tok = model.tokenizer
        local r = Generation.run { session = model:new_session {}, sampler = Sampler.new {}, tokenizer = tok,
            prompt_ids = { tok:bos() }, n_predict = 3 }
        assert.is_true(r.n_generated <= 3)
    end)

    it("names the caller's line and the option for bad options", function()
        local cases = {
            { { bogus = 1 }, "unknown option 'bogus'" },
            { { n = "many" }, "option n must be a number, got many" },
            { { n = 2.5 }, "n must be a whole number >= 0" },
            { { temp = 0 / 0 }, "option temp must be a number, got nan" },
            { { on_text = "print" }, "option on_text must be a function" },
            { 7, "options must be a table, got number" },
        }
        for _, c in ipairs(cases) do
            local ok, err = pcall(model.generate, model, "x", c[1])
            assert.is_false(ok)
            assert.is_truthy(err:find(c[2], 1, true), err)
            assert.is_truthy(err:find("generate_api_spec.lua:%d+: generate: "), err)
        end
        local ok, err = pcall(function() return model:new_session { n_ctx = 4 }:generate(("word "):rep(20)) end)
        assert.is_false(ok)
        assert.is_truthy(err:find("generate: the prompt has %d+ tokens, the context room for 4 more"), err)
    end)
end)
