-- generation.lua - the token loop shared by generate.lua, chat and the REPL:
-- feed the prompt as a batch, then sample, stream and feed one token at a time.
local Generation = {}

-- Ctrl-C: the bitttt-lua host preloads bitttt.interrupt; check() raises "interrupted"
-- once it was pressed. Other hosts have no such module, and no check.
local has_interrupt, Interrupt = pcall(require, "bitttt.interrupt")
local check_interrupt = has_interrupt and Interrupt.check or function() end

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
-- args: session, sampler, tokenizer, prompt_ids (array, fed first; may be empty when the
--   session already holds context), n_predict, on_text(str) (streaming output),
--   stop_at = {[id] = true} end tokens, stops = {strings}, strip_leading_space (bool:
--   the first piece drops one leading space, SentencePiece convention after BOS),
--   history (array of ids for penalties; appended to), clock = function() -> seconds.
-- Returns { n_prompt, n_generated, t_prompt, t_generate, stopped = "eos"|"length"|"stop"|"context",
--   last_id (the last sampled token: not fed to the session) }.
function Generation.run(a)
    local clock = a.clock or os.clock
    local session, sampler, tok = a.session, a.sampler, a.tokenizer
    local history = a.history or {}
    for _, id in ipairs(a.prompt_ids) do history[#history + 1] = id end
    local result = { n_prompt = #a.prompt_ids, n_generated = 0, t_prompt = 0, t_generate = 0 }
    local t0 = clock()
    local logits
    if #a.prompt_ids > 0 then logits = session:forward(a.prompt_ids, "last") else logits = a.logits end
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
                if at - 1 > emitted then a.on_text(text:sub(emitted + 1, at - 1)) end
                emitted = at - 1
                return true
            end
        end
        local upto = #text - held_suffix(text, stops)
        if upto > emitted then
            a.on_text(text:sub(emitted + 1, upto))
            emitted = upto
        end
        return false
    end

    t0 = clock()
    result.stopped = "length"
    while result.n_generated < a.n_predict do
        check_interrupt()
        local id = sampler:sample(logits, history)
        result.last_id = id
        result.n_generated = result.n_generated + 1
        history[#history + 1] = id
        if a.stop_at[id] then result.stopped = "eos" break end
        if emit(stream:push(id)) then result.stopped = "stop" break end
        if result.n_generated >= a.n_predict then break end
        if session.pos >= session.n_ctx then result.stopped = "context" break end
        logits = session:forward({ id }, "last")
    end
    if result.stopped ~= "stop" then
        emit(stream:flush())
        if #text > emitted then a.on_text(text:sub(emitted + 1)) end
    end
    result.t_generate = clock() - t0
    result.logits = logits
    return result
end

return Generation
