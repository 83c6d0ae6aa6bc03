-- chat.lua - fuzz target: chat templates. The input is a model's
-- tokenizer.chat_template text, a system prompt and a user message separated by NUL
-- bytes; the template is detected (or taken by name from the first byte when the text
-- names none) and the turn is laid out and encoded as scripts/chat.lua does, with the
-- Llama 3 vocabulary and the shipped default model's.
local Templates = require "bitttt.chat_templates"
local core = require "bitttt.core"
local home = BITTTT_HOME

local vocabularies = {
    core.tokenizer_open(home .. "/spec/data/tokenizers/ggml-vocab-llama-bpe.gguf"),
    core.tokenizer_open(home .. "/models/default.gguf"),
}
local names = {}
for k in pairs(Templates.templates) do names[#names + 1] = k end
table.sort(names)

return function(data)
    local jinja, system, user = data:match("^([^%z]*)%z?([^%z]*)%z?(.*)$")
    local name = Templates.detect(jinja) or names[(data:byte(1) or 0) % #names + 1]
    local t = Templates.get(name)
    local tok = vocabularies[(data:byte(2) or 0) % #vocabularies + 1]
    local ids = {}
    local function add(text, special)
        for _, id in ipairs(tok:encode(text, { bos = false, special = special })) do ids[#ids + 1] = id end
    end
    if t.bos then ids[1] = tok:bos() end
    add(t.system[1], true) add(system, false) add(t.system[2], true)
    add(t.user[1], true) add(user, false) add(t.user[2], true)
    add(t.assistant, true)
    tok:encode(t.end_of_turn, { bos = false, special = true })
    tok:decode(ids)
end
