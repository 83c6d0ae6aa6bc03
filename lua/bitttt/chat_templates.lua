-- chat_templates.lua - how a conversation is laid out as text for a chat model.
--
--   local T = require "bitttt.chat_templates"
--   local template, notice = T.for_model(model [, name])   -- notice: a line to show, or nil
--   local p = T.prompt(model, { {role = "system", content = "..."}, {role = "user", content = "Hi"} }
--                      [, {template = name}])
--   -- p.ids: token ids to feed (BOS first when the template wants it); p.text: the same as text;
--   -- p.stop_ids {[id] = true} and p.stops {strings}: where the answer ends (Generation.run's
--   -- stop_at and stops); p.template: the template's name; p.notice: as for_model's.
--
-- A template is a table of text pieces; special-token names inside them (like
-- <|eot_id|>) are matched as special tokens, the user's text never is:
--   bos          true when the conversation starts with BOS ("model": when the tokenizer adds one)
--   system       { before, after } around the system prompt
--   user         { before, after } around a user message
--   assistant    the text that opens the assistant's turn (generation starts after it)
--   end_of_turn  what ends a turn: a special token (generation stops on it), or, when
--                end_is_text, plain text (generation stops when it appears in the answer)
local T = {}

T.templates = {
    llama3 = {
        bos = true,
        system = { "<|start_header_id|>system<|end_header_id|>\n\n", "<|eot_id|>" },
        user = { "<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>" },
        assistant = "<|start_header_id|>assistant<|end_header_id|>\n\n",
        end_of_turn = "<|eot_id|>",
    },
    chatml = {
        bos = false,
        system = { "<|im_start|>system\n", "<|im_end|>\n" },
        user = { "<|im_start|>user\n", "<|im_end|>\n" },
        assistant = "<|im_start|>assistant\n",
        end_of_turn = "<|im_end|>",
    },
    -- BitNet b1.58 2B4T instruct (its tokenizer.chat_template; llama.cpp's "bitnet"):
    -- "System: ...<|eot_id|>User: ...<|eot_id|>Assistant: ...<|eot_id|>"
    bitnet = {
        bos = true,
        system = { "System: ", "<|eot_id|>" },
        user = { "User: ", "<|eot_id|>" },
        assistant = "Assistant: ",
        end_of_turn = "<|eot_id|>",
    },
    -- For models without a chat template (the bundled one): no special tokens, plain
    -- turns; an answer ends at a blank line or at the model's end-of-text token.
    --   System prompt\n\nUser: Hi\nAssistant: Hello.\n\nUser: ...
    plain = {
        bos = "model",
        system = { "", "\n\n" },
        user = { "User: ", "\n" },
        assistant = "Assistant:",
        end_of_turn = "\n\n",
        end_is_text = true,
    },
}
for name, t in pairs(T.templates) do t.name = name end

--- The template a model's `tokenizer.chat_template` (Jinja text) describes, or nil.
function T.detect(jinja)
    if type(jinja) ~= "string" then return nil end
    if jinja:find("<|start_header_id|>", 1, true) then return "llama3" end
    if jinja:find("<|im_start|>", 1, true) then return "chatml" end
    if jinja:find("Assistant: ", 1, true) and jinja:find("<|eot_id|>", 1, true) then return "bitnet" end
    return nil
end

--- A template by name; errors list the known names.
function T.get(name)
    local t = T.templates[name]
    if not t then
        local names = {}
        for k in pairs(T.templates) do names[#names + 1] = k end
        table.sort(names)
        error(("unknown chat template '%s' (known: %s)"):format(tostring(name), table.concat(names, ", ")), 0)
    end
    return t
end

--- The template for a model: `name` when given, else the one its tokenizer.chat_template
-- describes, else "plain" with a one-line notice saying so (the second result; nil otherwise).
-- A file template whose end-of-turn token the vocabulary lacks also falls back to plain.
function T.for_model(model, name)
    if name then return T.get(name), nil end
    local jinja = model.meta and model.meta["tokenizer.chat_template"]
    local detected = T.detect(jinja)
    if detected then
        local t = T.get(detected)
        if not model.tokenizer or T.end_token(model.tokenizer, t) then return t, nil end
        return T.templates.plain, ("chat: the model's %s template needs %s, which its vocabulary lacks; " ..
            "using the plain template (User:/Assistant: turns)"):format(detected, t.end_of_turn)
    end
    local why = jinja and "a chat template this program does not know" or "no chat template"
    return T.templates.plain, ("chat: the model has %s; using the plain template (User:/Assistant: turns)"):format(why)
end

--- The id of a template's end-of-turn special token, or nil (none in the vocabulary,
-- or a template that ends turns with text).
function T.end_token(tok, template)
    if template.end_is_text then return nil end
    local ids = tok:encode(template.end_of_turn, { bos = false, special = true })
    return #ids == 1 and ids[1] or nil
end

--- Whether a conversation in this template starts with BOS.
function T.wants_bos(tok, template)
    if template.bos == "model" then return tok:add_bos() end
    return template.bos
end

--- Where an answer ends: stop_at {[id] = true} (the end-of-turn token, the model's end of
-- text) and stops {strings} (the text end of turn). Errors when a special end-of-turn
-- token is missing from the vocabulary.
function T.stop_rules(tok, template)
    local stop_at, stops = { [tok:eos()] = true }, {}
    if template.end_is_text then
        stops[1] = template.end_of_turn
    else
        local id = T.end_token(tok, template)
        if not id then
            error(("the vocabulary has no single token for %s (template %s)"):format(template.end_of_turn, template.name), 0)
        end
        stop_at[id] = true
    end
    return stop_at, stops
end

local roles = { system = true, user = true, assistant = true }

--- The conversation as pieces { {text, special = bool}, ... }: template text (special
-- token names matched when the template uses them) and message text (never matched).
-- With opts.open (default true) the last piece opens the assistant's turn.
-- The assistant's messages are laid out as the model would have written them.
function T.pieces(template, messages, opts)
    local special = not template.end_is_text
    local out = {}
    local function add(text, is_template)
        if text ~= "" then out[#out + 1] = { text, special = is_template and special } end
    end
    for i, m in ipairs(messages) do
        if type(m) ~= "table" or not roles[m.role] or type(m.content) ~= "string" then
            error(("message %d: expected {role = system|user|assistant, content = text}"):format(i), 0)
        end
        if m.role == "assistant" then
            add(template.assistant .. (template.end_is_text and " " or ""), true)
            add(m.content, false)
            add(template.end_of_turn, true)
        else
            local around = template[m.role]
            add(around[1], true)
            add(m.content, false)
            add(around[2], true)
        end
    end
    if not opts or opts.open ~= false then add(template.assistant, true) end
    return out
end

--- Token ids of pieces (from T.pieces), with BOS first when `bos`.
function T.encode(tok, pieces, bos)
    local ids = {}
    if bos then ids[1] = tok:bos() end
    for _, p in ipairs(pieces) do
        for _, id in ipairs(tok:encode(p[1], { bos = false, special = p.special })) do ids[#ids + 1] = id end
    end
    return ids
end

--- A whole prompt for a model from a list of messages (see the top of the file).
-- opts.template: a template name (default: T.for_model's choice).
function T.prompt(model, messages, opts)
    opts = opts or {}
    local tok = model.tokenizer or error("chat: the model has no vocabulary", 0)
    local template, notice = T.for_model(model, opts.template)
    local pieces = T.pieces(template, messages)
    local text = {}
    for i, p in ipairs(pieces) do text[i] = p[1] end
    local stop_at, stops = T.stop_rules(tok, template)
    return {
        ids = T.encode(tok, pieces, T.wants_bos(tok, template)),
        text = table.concat(text),
        stop_ids = stop_at, stops = stops,
        template = template.name, notice = notice,
        -- the answer's first piece follows "Assistant:" with a space the reader need not see
        strip_leading_space = template.end_is_text or false,
    }
end

return T
