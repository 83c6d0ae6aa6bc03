-- chat.lua - a multi-turn conversation with a model that keeps its session (KV cache,
-- TTT state) between turns: each turn feeds only the new text (the user's message and
-- the opening of the assistant's turn); the answer streams and stops at the template's
-- end of turn. scripts/chat.lua is the terminal front end.
--
--   local Chat = require "bitttt.chat"
--   local c = Chat.new{ model = m, session = s, sampler = sampler, template = t,
--                       system = "...", stops = {"extra stop text"}, ignore_eos = false }
--   local answer, result = c:say("Hello", on_text)   -- result.stopped as Generation.run's
--   c:reset()                      -- a new conversation (the system prompt stays)
--   c:save(path) / c:load(path)    -- the transcript as text; load feeds it again
local Templates = require "bitttt.chat_templates"
local Generation = require "bitttt.generation"

local Chat = {}
Chat.__index = Chat

local function append(dst, src) for _, id in ipairs(src) do dst[#dst + 1] = id end end

function Chat.new(opts)
    local self = setmetatable({}, Chat)
    self.model, self.session, self.sampler, self.template = opts.model, opts.session, opts.sampler, opts.template
    self.tok = self.model.tokenizer or error("chat: the model has no vocabulary", 0)
    self.system = opts.system
    self.n_predict = opts.n_predict
    self.clock = opts.clock
    local stop_at, stops = Templates.stop_rules(self.tok, self.template)
    if self.model.stop_at_bos then stop_at[self.tok:bos()] = true end
    if opts.ignore_eos then stop_at, stops = {}, {} end   -- answers end at n_predict, a stop text or Ctrl-C
    for _, s in ipairs(opts.stops or {}) do stops[#stops + 1] = s end
    self.stop_at, self.stops = stop_at, stops
    self.end_token = Templates.end_token(self.tok, self.template)
    self:reset()
    return self
end

-- Token ids of messages laid out by the template; `open`: end with the assistant's opening.
function Chat:encode(messages, open, bos)
    return Templates.encode(self.tok, Templates.pieces(self.template, messages, { open = open }), bos)
end

--- A new conversation: the session from position 0, the system prompt waiting to be fed.
function Chat:reset()
    self.session:reset()
    self.messages = {}
    if self.system then self.messages[1] = { role = "system", content = self.system } end
    self.history = {}   -- token ids for the repetition penalties
    -- tokens not fed yet: the start of the conversation, or the end of the last turn
    self.pending = self:encode(self.messages, false, Templates.wants_bos(self.tok, self.template))
end

--- Tokens in the context plus those waiting to be fed, and the context size.
function Chat:used() return self.session.pos + #self.pending, self.session.n_ctx end

--- One turn: the user's text in, the answer out (streamed through on_text as it comes).
-- Returns the answer and Generation.run's result; nil and a message when the context
-- has no room for the message.
function Chat:say(text, on_text)
    local ids = {}
    append(ids, self.pending)
    append(ids, self:encode({ { role = "user", content = text } }, true))
    if self.session.pos + #ids >= self.session.n_ctx then
        return nil, ("the context is full (%d of %d tokens used, this message needs %d); /reset starts again"):format(
            self.session.pos + #self.pending, self.session.n_ctx, #ids - #self.pending)
    end
    self.messages[#self.messages + 1] = { role = "user", content = text }
    local pieces = {}
    local r = Generation.run {
        session = self.session, sampler = self.sampler, tokenizer = self.tok, prompt_ids = ids,
        n_predict = self.n_predict, stop_at = self.stop_at, stops = self.stops, history = self.history,
        strip_leading_space = self.template.end_is_text, clock = self.clock,
        on_text = function(s)
            pieces[#pieces + 1] = s
            if on_text then on_text(s) end
        end,
    }
    local answer = table.concat(pieces)
    self.messages[#self.messages + 1] = { role = "assistant", content = answer }
    -- The last sampled token is not in the cache yet; with the end of turn (unless the
    -- model wrote it) it opens the next input.
    local tmpl = self.template
    if r.stopped == "stop" and r.stop_text == tmpl.end_of_turn then   -- the text end of turn is in the last token
        self.pending = { r.last_id }
    elseif r.stopped == "eos" and r.last_id == self.end_token then
        self.pending = { self.end_token }
    else   -- the model's end of text, -n, a stop text, Ctrl-C: close the turn
        self.pending = (r.stopped == "eos" or not r.last_id) and {} or { r.last_id }
        append(self.pending, Templates.encode(self.tok, { { tmpl.end_of_turn, special = not tmpl.end_is_text } }))
    end
    return answer, r
end

---------------------------------------------------------------- transcripts

-- One message per line, "role: text", with \n and \\ escaped.
local function escape(s) return (s:gsub("\\", "\\\\"):gsub("\n", "\\n")) end
local function unescape(s)
    return (s:gsub("\\(.)", function(c)
        if c == "n" then return "\n" end
        if c == "\\" then return "\\" end
        return "\\" .. c
    end))
end

local TRANSCRIPT_HEADER = "# bitttt chat transcript: one message per line, role: text (\\n is a newline)"

--- Writes the conversation to a text file.
function Chat:save(path)
    local f, err = io.open(path, "w")
    if not f then return nil, err end
    f:write(TRANSCRIPT_HEADER, "\n")
    for _, m in ipairs(self.messages) do f:write(m.role, ": ", escape(m.content), "\n") end
    f:close()
    return #self.messages
end

--- Messages of a transcript file; nil and a message naming the file and line when it is not one.
function Chat.read_transcript(path)
    local f, err = io.open(path, "r")
    if not f then return nil, err end
    local messages, n = {}, 0
    for line in f:lines() do
        n = n + 1
        if n == 1 and line ~= TRANSCRIPT_HEADER then
            f:close()
            return nil, ("%s: not a chat transcript (its first line should be %q)"):format(path, TRANSCRIPT_HEADER)
        end
        if n > 1 and line ~= "" then
            local role, text = line:match("^(%a+): (.*)$")
            if not (role == "system" or role == "user" or role == "assistant") then
                f:close()
                return nil, ("%s:%d: expected 'system: ', 'user: ' or 'assistant: ' and the text"):format(path, n)
            end
            messages[#messages + 1] = { role = role, content = unescape(text) }
        end
    end
    f:close()
    if n == 0 then return nil, path .. ": an empty file, not a chat transcript" end
    return messages
end

--- Replaces the conversation with a transcript's (its system prompt included); the
-- tokens are fed with the next message. Returns the number of messages, or nil and why.
function Chat:load(path)
    local messages, err = Chat.read_transcript(path)
    if not messages then return nil, err end
    local ids = self:encode(messages, false, Templates.wants_bos(self.tok, self.template))
    if #ids >= self.session.n_ctx then
        return nil, ("%s: the conversation has %d tokens, the context holds %d"):format(path, #ids, self.session.n_ctx)
    end
    self.session:reset()
    self.messages, self.pending, self.history = messages, ids, {}
    return #messages
end

return Chat
