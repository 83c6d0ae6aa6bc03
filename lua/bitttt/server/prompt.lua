-- prompt.lua - what a request feeds: a completion's `prompt` (text, or token ids),
-- or a chat's `messages` checked and put in the shape bitttt.chat_templates lays
-- out (as chat.lua does).
local cjson = require "cjson"
local Errors = require "bitttt.server.errors"
local Fields = require "bitttt.server.fields"

local Prompt = {}

--- Ids of a completion prompt: a string, or an array of token ids (or an array of one of those).
-- BOS first when the vocabulary adds one, as generate.lua does.
function Prompt.completion(tok, n_vocab, prompt)
    if prompt == nil or prompt == cjson.null then Errors.raise(400, "'prompt' is required", "prompt") end
    if type(prompt) == "table" and #prompt == 1 and type(prompt[1]) ~= "number" then prompt = prompt[1] end
    if type(prompt) == "string" then
        local ids = tok:encode(prompt, { bos = tok:add_bos() })
        if #ids == 0 then ids = { tok:bos() } end
        return ids
    end
    if type(prompt) ~= "table" or #prompt == 0 then
        Errors.raise(400, "'prompt' must be a string or an array of token ids", "prompt")
    end
    return Fields.check_token_ids(prompt, "prompt", n_vocab)
end

-- A message's text: a string, or OpenAI's array of content parts ({type = "text", text = ...}).
local function content_text(m, i)
    local c = m.content
    if type(c) == "string" then return c end
    if c == nil or c == cjson.null then return "" end
    if type(c) ~= "table" then Errors.raise(400, ("'messages[%d].content' must be a string or an array"):format(i - 1), "messages") end
    local parts = {}
    for _, part in ipairs(c) do
        if type(part) ~= "table" or type(part.text) ~= "string" then
            Errors.raise(400, ("'messages[%d].content' parts must be {type: 'text', text: string}"):format(i - 1), "messages")
        end
        parts[#parts + 1] = part.text
    end
    return table.concat(parts)
end

--- OpenAI's messages as chat_templates' { {role, content = text} }: content parts joined,
-- "developer" read as "system"; anything else is a 400 naming the message.
function Prompt.messages(messages)
    if type(messages) ~= "table" or #messages == 0 then
        Errors.raise(400, "'messages' must be a non-empty array", "messages")
    end
    local out = {}
    for i, m in ipairs(messages) do
        if type(m) ~= "table" then Errors.raise(400, ("'messages[%d]' must be an object"):format(i - 1), "messages") end
        local role = m.role == "developer" and "system" or m.role
        if role ~= "system" and role ~= "user" and role ~= "assistant" then
            Errors.raise(400, ("'messages[%d].role' must be system, user or assistant, got %s"):format(
                i - 1, tostring(m.role)), "messages")
        end
        out[i] = { role = role, content = content_text(m, i) }
    end
    return out
end

return Prompt
