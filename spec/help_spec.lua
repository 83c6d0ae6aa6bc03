-- help_spec.lua - the REPL's help: every public function of the bitttt package has an
-- entry (found by walking the package's tables), topics by name and plural, objects
-- described by help(obj), and readable print(model) / print(session).
local helper = require "helper"
local Help = require "bitttt.help"
local Model = require "bitttt.model"

describe("help", function()
    it("has an entry for every function of the package's public tables", function()
        local documented, internal = Help.documented()
        local missing, n = {}, 0
        for _, owner in ipairs(Help.owners()) do
            for name, fn in pairs(owner[3]) do
                if type(fn) == "function" and not name:match("^__") then
                    n = n + 1
                    if not documented[fn] and not internal[fn] then
                        missing[#missing + 1] = owner[1] .. owner[2] .. name
                    end
                end
            end
        end
        table.sort(missing)
        assert.are.same({}, missing)
        assert.is_true(n > 140, "walked only " .. n .. " functions")
        -- and help(f) shows that entry for each of them
        for fn, name in pairs(documented) do
            assert.is_nil(Help.text(fn):find("without a help entry", 1, true), name)
        end
    end)

    it("would notice a function without an entry", function()
        local bt = require "bitttt"
        bt.undocumented_for_the_spec = function() end
        local documented = Help.documented()
        assert.is_nil(documented[bt.undocumented_for_the_spec])
        assert.truthy(Help.text(bt.undocumented_for_the_spec):find("without a help entry", 1, true))
        bt.undocumented_for_the_spec = nil
    end)

    it("finds topics by name and plural, and entries of sessions' methods", function()
        assert.truthy(Help.text("tensors"):find("bitttt.zeros(shape", 1, true))
        assert.are.equal(Help.text("tensor"), Help.text("tensors"))
        local Session = require("bitttt.decoder").Session
        assert.truthy(Help.text(Session.step):find("session:step{", 1, true))
        assert.truthy(Help.text(Session.save_state):find("session:save_state(path)", 1, true))
        assert.truthy(Help.text(Session.load_state):find("session:save_state(path)", 1, true))
    end)

    it("describes models and sessions themselves, and prints them as one line", function()
        local m = Model.load(helper.root .. "/models/default.gguf")
        local s = m:new_session { n_ctx = 64 }
        s:forward({ 1, 2, 3 }, "none")
        assert.truthy(Help.text(s):find("^This is <session> position 3 of 64, bitttt model%.\n"), Help.text(s))
        assert.truthy(Help.text(s):find("session:forward(ids", 1, true))
        assert.truthy(Help.text(m):find("^This is <model> bitttt, 4 layers"), Help.text(m))
        assert.equals("<session> position 3 of 64, bitttt model", tostring(s))
        assert.truthy(tostring(m):find("^<model> bitttt, 4 layers, d=%d+, vocab %d+, .*default%.gguf$"))
        assert.truthy(Help.text(m.tokenizer):find("tok:encode", 1, true))
    end)
end)
