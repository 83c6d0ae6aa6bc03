-- generation.lua - the token loop shared by generate.lua, chat and the REPL:
-- feed the prompt as a batch, then sample, stream and feed one token at a time.
--
--   Generation.run{...}                 the loop itself (below)
--   Generation.generate(session, opts)  model:generate / session:generate: the model's
--                                       recommended sampling, text in and out
local Sampler = require "bitttt.sampling"

local Generation = {}

-- Ctrl-C: the bitttt-lua host preloads bitttt.interrupt; check() raises "interrupted"
-- once it was pressed (the REPL), pressed() says whether it was while a script traps
-- it (chat: the answer stops cleanly). Other hosts have no such module, and no check.
local has_interrupt, Interrupt = pcall(require, "bitttt.interrupt")
local check_interrupt = has_interrupt and Interrupt.check or function() end
local pressed = has_interrupt and Interrupt.pressed or function() return false end

-- Text held back because it could be the start of a stop string.
local function held_suffix(text, stops)
    local hold = 0
    for _, s in ipairs(stops) do
        for len = math.min(#s - 1, #text), 1, -1 do
            if text:sub(-len) == s:sub(1, len) then hold = math.max(hold, len) break end
        end
    end
    return hold
end

--- Runs generation.
-- args: session, sampler, tokenizer (required); prompt_ids (array, fed first; may be empty
--   when a.logits continue the session), n_predict (default: until a stop or the context
--   is full), on_text(str) (streaming output; returning false stops), stop_at = {[id] = true}
--   end tokens (default: the tokenizer's end of text), stops = {strings},
--   strip_leading_space (bool: the first piece drops one leading space, SentencePiece
--   convention after BOS), history (array of ids for penalties; appended to),
--   clock = function() -> seconds.
-- Returns { n_prompt, n_generated, t_prompt, t_generate, text (all generated text, stops
--   included), stop_text (the stop text found), stopped = "eos"|"length"|"stop"|"context"|"cancelled" (on_text said false)
--   |"interrupted" (Ctrl-C while trapped), last_id (the last sampled token: not fed) }.
function Generation.run(a)
    local clock = a.clock or os.clock
    local session, sampler, tok = a.session, a.sampler, a.tokenizer
    if not (session and sampler and tok) then error("generation: session, sampler and tokenizer are required", 2) end
    local prompt_ids = a.prompt_ids or {}
    local n_predict = a.n_predict or math.huge
    local stop_at = a.stop_at or { [tok:eos()] = true }
    local on_text = a.on_text or function() end
    local cancelled = false
    local function out(s) if on_text(s) == false then cancelled = true end end
    local history = a.history or {}
    for _, id in ipairs(prompt_ids) do history[#history + 1] = id end
    local result = { n_prompt = #prompt_ids, n_generated = 0, t_prompt = 0, t_generate = 0 }
    local t0 = clock()
    local logits
    if #prompt_ids > 0 then logits = session:forward(prompt_ids, "last") else logits = a.logits end
    result.t_prompt = clock() - t0
    if not logits then error("generation: nothing to continue from (empty prompt and no logits)", 2) end

    local stream = tok:stream()
    local stops = a.stops or {}
    local text, emitted = "", 0    -- generated text so far, and how much of it went out
    local strip = a.strip_leading_space
    local function emit(piece)
        if strip and piece ~= "" then
            piece = piece:gsub("^ ", "")
            strip = false
        end
        text = text .. piece
        for _, s in ipairs(stops) do
            local at = text:find(s, math.max(1, emitted - #s + 1), true)
            if at then
                if at - 1 > emitted then out(text:sub(emitted + 1, at - 1)) end
                emitted = at - 1
                result.stop_text = s
                return true
            end
        end
        local upto = #text - held_suffix(text, stops)
        if upto > emitted then
            out(text:sub(emitted + 1, upto))
            emitted = upto
        end
        return false
    end

    t0 = clock()
    result.stopped = "length"
    while result.n_generated < n_predict do
        check_interrupt()
        if pressed() then result.stopped = "interrupted" break end
        local id = sampler:sample(logits, history)
        result.last_id = id
        result.n_generated = result.n_generated + 1
        history[#history + 1] = id
        if stop_at[id] then result.stopped = "eos" break end
        if emit(stream:push(id)) then result.stopped = "stop" break end
        if cancelled then result.stopped = "cancelled" break end
        if result.n_generated >= n_predict then break end
        if session.pos >= session.n_ctx then result.stopped = "context" break end
        logits = session:forward({ id }, "last")
    end
    if result.stopped ~= "stop" and not cancelled then
        emit(stream:flush())
        if #text > emitted then out(text:sub(emitted + 1)) end
    end
    result.text = text
    result.t_generate = clock() - t0
    result.logits = logits
    return result
end

---------------------------------------------------------------- model:generate, session:generate

-- The options generate takes, with the type each must have; the sampler's options
-- (Sampler.choose) are numbers too.
local option_types = {
    prompt = "string|table", n = "number", on_text = "function", stop = "string|table", sampler = "table",
    seed = "number", n_ctx = "number", strip_leading_space = "boolean",
}
for option in pairs(Sampler.options) do option_types[option] = "number" end

-- An error reported at the user's line: the first caller outside lua/bitttt/.
local function fail(msg)
    for level = 3, 30 do
        local info = debug.getinfo(level, "Sl")
        if not info then break end
        if info.currentline > 0 and not info.source:find("[/\\]bitttt[/\\][%w_]+%.lua$") then
            error(("%s:%d: %s"):format(info.short_src, info.currentline, msg), 0)
        end
    end
    error(msg, 0)
end
Generation.fail = fail

local function check_options(opts, where)
    if type(opts) ~= "table" then fail(("%s: options must be a table, got %s"):format(where, type(opts))) end
    for k, v in pairs(opts) do
        local want = option_types[k]
        if not want then
            local names = {}
            for name in pairs(option_types) do names[#names + 1] = name end
            table.sort(names)
            fail(("%s: unknown option '%s' (known: %s)"):format(where, tostring(k), table.concat(names, ", ")))
        end
        if not want:find(type(v), 1, true) or v ~= v then
            fail(("%s: option %s must be a %s, got %s"):format(where, k, (want:gsub("|", " or ")), tostring(v)))
        end
    end
    if opts.n and (opts.n < -1 or opts.n % 1 ~= 0) then
        fail(("%s: n must be a whole number >= 0 (or -1: until the end of text), got %s"):format(where, opts.n))
    end
end

-- The model's recommended sampling (GGUF general.sampling.*), read once per model.
local function recommended(model)
    if not model.sampling_defaults then
        model.sampling_defaults = Sampler.model_defaults(model.meta, model.path)
    end
    return model.sampling_defaults
end

--- session:generate([prompt,] opts) -> text, result: continues the session with `prompt`
-- (text or token ids; none: from where it stands, or from BOS at position 0) and samples
-- up to opts.n tokens (default 64; -1: until the end of text or the context is full).
-- opts: on_text(piece) streams (return false to stop), stop = text or {texts}, sampler
-- options (temp, top_k, top_p, min_p, repeat_penalty, ...; not given: the model's
-- recommendation, else the defaults) and seed, or sampler = a Sampler. Ctrl-C stops it.
-- Text is returned without the prompt and without a stop text; result as Generation.run's.
-- The next call carries on after the last token (sampled, not yet fed).
--- (prompt, opts) or (opts with opts.prompt) -> prompt, opts.
function Generation.arguments(prompt, opts)
    if type(prompt) == "table" and opts == nil and prompt[1] == nil then return prompt.prompt, prompt end
    return prompt, opts or {}
end

function Generation.generate(session, prompt, opts)
    prompt, opts = Generation.arguments(prompt, opts)
    check_options(opts, "generate")
    if prompt ~= nil and type(prompt) ~= "string" and type(prompt) ~= "table" then
        fail("generate: the prompt must be text or an array of token ids, got " .. type(prompt))
    end
    local model = session.model
    local tok = model.tokenizer or fail("generate: the model has no tokenizer; give it one when loading (tokenizer = FILE)")
    local at_start = session.pos == 0
    if at_start then session.generated, session.pending_id = {}, nil end
    local ids = {}
    if session.pending_id and session.pending_at == session.pos then
        ids[1] = session.pending_id
        session.generated[#session.generated] = nil   -- counted again as it is fed
    end
    if type(prompt) == "string" then
        for _, id in ipairs(tok:encode(prompt, { bos = session.pos == 0 and tok:add_bos() })) do ids[#ids + 1] = id end
    elseif prompt then
        for _, id in ipairs(prompt) do ids[#ids + 1] = id end
    end
    local logits = session.last_logits
    if #ids == 0 and (session.pos == 0 or not logits) then ids[1] = tok:bos() end
    if session.pos + #ids > session.n_ctx then
        fail(("generate: the prompt has %d tokens, the context room for %d more (position %d of %d)"):format(
            #ids, session.n_ctx - session.pos, session.pos, session.n_ctx))
    end
    local sampler = opts.sampler or Sampler.new(Sampler.choose(opts, recommended(model)))
    local stop_at = { [tok:eos()] = true }
    if model.stop_at_bos then stop_at[tok:bos()] = true end
    local pieces = {}
    local on_text = opts.on_text
    local n = opts.n or 64
    local strip = opts.strip_leading_space
    if strip == nil then strip = at_start and (prompt == nil or prompt == "") end
    local r = Generation.run {
        session = session, sampler = sampler, tokenizer = tok, prompt_ids = ids,
        logits = #ids == 0 and logits or nil, n_predict = n >= 0 and n or nil,
        stop_at = stop_at, stops = type(opts.stop) == "string" and { opts.stop } or opts.stop,
        strip_leading_space = strip, history = session.generated,
        on_text = function(s)
            pieces[#pieces + 1] = s
            if on_text then return on_text(s) end
        end,
    }
    -- the last sampled token is fed first next time, unless it ended the text
    session.pending_id = r.stopped ~= "eos" and r.last_id or nil
    session.pending_at = session.pos
    return table.concat(pieces), r
end

return Generation
