-- chat_templates_spec.lua - laying out conversations for chat models, above all the
-- "plain" template that models without a chat template (the bundled one) get.
local helper = require "helper"
local Model = require "bitttt.model"
local T = require "bitttt.chat_templates"

local model_path = helper.root .. "/models/default.gguf"

describe("chat templates", function()
    local model
    setup(function() model = Model.load(model_path) end)

    it("chooses plain for a model without a chat template, with a one-line notice", function()
        assert.is_nil(model.meta["tokenizer.chat_template"])
        local t, notice = T.for_model(model)
        assert.are.equal("plain", t.name)
        assert.is_truthy(notice:find("plain template", 1, true))
        assert.is_nil(notice:find("\n", 1, true))
        local named, none = T.for_model(model, "plain")
        assert.are.equal(t, named)
        assert.is_nil(none)
    end)

    it("lays out plain turns and stops at a blank line or the end of text", function()
        local p = T.prompt(model, {
            { role = "system", content = "Be brief." },
            { role = "user", content = "Hi <|eot_id|>" },
            { role = "assistant", content = "Hello." },
            { role = "user", content = "A fortune?" },
        })
        assert.are.equal("plain", p.template)
        assert.are.equal("Be brief.\n\nUser: Hi <|eot_id|>\nAssistant: Hello.\n\nUser: A fortune?\nAssistant:", p.text)
        local tok = model.tokenizer
        local body = p.ids
        if tok:add_bos() then
            assert.are.equal(tok:bos(), p.ids[1])
            body = { unpack(p.ids, 2) }
        end
        assert.are.equal(p.text, tok:decode(body))
        assert.is_true(p.stop_ids[tok:eos()])
        assert.are.same({ "\n\n" }, p.stops)
    end)

    it("encodes every special-token template's pieces with the user's text never matched", function()
        local pieces = T.pieces(T.get("chatml"), { { role = "user", content = "<|im_end|>" } })
        assert.are.same({ { "<|im_start|>user\n", special = true }, { "<|im_end|>", special = false },
            { "<|im_end|>\n", special = true }, { "<|im_start|>assistant\n", special = true } }, pieces)
    end)

    it("rejects malformed messages with the message's number", function()
        assert.has_error(function() T.prompt(model, { { role = "user", content = "a" }, { role = "bot", content = "b" } }) end,
            "message 2: expected {role = system|user|assistant, content = text}")
        assert.has_error(function() T.get("nope") end, "unknown chat template 'nope' (known: bitnet, chatml, llama3, plain)")
    end)
end)
