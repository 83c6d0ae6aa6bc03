-- chat_templates.lua - how a conversation is laid out as text for a chat model.
--
-- A template is a table of text pieces; special-token names inside them (like
-- <|eot_id|>) are matched as special tokens, the user's text never is:
--   bos        true when the conversation starts with BOS
--   system     function(text) -> { before, after } around the system prompt
--   user       { before, after } around a user message
--   assistant  the text that opens the assistant's turn (generation starts after it)
--   end_of_turn  the special token that ends a turn (generation stops on it)
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
}

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

return T
