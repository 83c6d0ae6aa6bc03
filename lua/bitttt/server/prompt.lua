-- prompt.lua - the token ids a request feeds: a completion's `prompt` (text, or
-- token ids), or a chat's `messages` laid out by the chat template as chat.lua
-- lays out a conversation (BOS when the template wants it, the system prompt,
-- then each turn; the assistant's opening last, where generation starts).
local cjson = require "cjson"
local Errors = require "bitttt.server.errors"

local Prompt = {}

--- Ids of a completion prompt: a string, or an array of token ids (or an array of one of those).
-- BOS first when the vocabulary adds one, as generate.lua does.
function Prompt.completion(tok, n_vocab, prompt)
    if prompt == nil or prompt == cjson.null then Errors.raise(400, "'prompt' is required", "prompt") end
    if type(prompt) == "table" and #prompt == 1 and type(prompt[1]) ~= "number" then prompt = prompt[1] end
    if type(prompt) == "string" then
        local ids = tok:encode(prompt, { bos = tok:add_bos() })
        if #ids == 0 then ids = { tok:bos() } end
        return ids, prompt
    end
    if type(prompt) ~= "table" or #prompt == 0 then
        Errors.raise(400, "'prompt' must be a string or an array of token ids", "prompt")
    end
    for i, id in ipairs(prompt) do
        if type(id) ~= "number" or id ~= math.floor(id) or id < 0 or id >= n_vocab then
            Errors.raise(400, ("'prompt[%d]' must be a token id in [0, %d)"):format(i - 1, n_vocab), "prompt")
        end
    end
    return prompt, nil
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

--- Ids of a chat: template pieces are matched as special tokens, message text never is.
-- end_of_turn: the id that closes a turn. Returns the ids.
function Prompt.chat(tok, template, end_of_turn, messages)
    if type(messages) ~= "table" or #messages == 0 then
        Errors.raise(400, "'messages' must be a non-empty array", "messages")
    end
    local ids = {}
    local function add(list) for _, id in ipairs(list) do ids[#ids + 1] = id end end
    local function special(text) add(tok:encode(text, { bos = false, special = true })) end
    local function plain(text) add(tok:encode(text, { bos = false, special = false })) end
    if template.bos then ids[1] = tok:bos() end
    for i, m in ipairs(messages) do
        if type(m) ~= "table" then Errors.raise(400, ("'messages[%d]' must be an object"):format(i - 1), "messages") end
        local text = content_text(m, i)
        if m.role == "system" or m.role == "developer" then
            special(template.system[1]); plain(text); special(template.system[2])
        elseif m.role == "user" then
            special(template.user[1]); plain(text); special(template.user[2])
        elseif m.role == "assistant" then
            special(template.assistant); plain(text); ids[#ids + 1] = end_of_turn
        else
            Errors.raise(400, ("'messages[%d].role' must be system, user or assistant, got %s"):format(
                i - 1, tostring(m.role)), "messages")
        end
    end
    special(template.assistant)
    return ids
end

return Prompt
