-- completions.lua - POST /v1/completions and POST /v1/chat/completions: the
-- request's prompt ids through Generation.run on a slot (from a TTT memory when
-- asked, saved afterwards when it learns), answered whole or as server-sent events.
local cjson = require "cjson"
local Generation = require "bitttt.generation"
local Templates = require "bitttt.chat_templates"
local Errors = require "bitttt.server.errors"
local Request = require "bitttt.server.request"
local Prompt = require "bitttt.server.prompt"
local Jobs = require "bitttt.server.jobs"

local Completions = {}

local finish_reasons = { eos = "stop", stop = "stop", length = "length", context = "length" }
local serial = 0

local function new_id(prefix)
    serial = serial + 1
    return ("%s-%d-%d"):format(prefix, os.time(), serial)
end

-- The tokens left for the answer when `used` tokens (a memory's) and the prompt are in a
-- context of n_ctx; 400 when the prompt and max_tokens (s.n_predict) do not fit.
local function check_fits(n_ctx, used, n_prompt, s)
    local room = n_ctx - used - n_prompt
    if room <= 0 or (s.n_predict and s.n_predict > room) then
        Errors.raise(400, ("the prompt (%d tokens) and max_tokens (%s) do not fit the context (%d tokens%s)"):format(
            n_prompt, tostring(s.n_predict or 0), n_ctx,
            used > 0 and (", %d of them used by memory '%s'"):format(used, s.memory) or ""), "max_tokens")
    end
    return room
end

-- The generation on a slot. Posts each piece of text; returns Generation.run's result.
-- stop_at: end tokens; p.stops: the template's stop texts, p.strip_leading_space.
local function generate(app, s, ids, stop_at, p)
    return function(session, raw, job)
        if s.memory then app.memories:load(raw, s.memory) else raw:reset() end
        local room = check_fits(raw.n_ctx, raw.pos, #ids, s)
        local t0 = app.clock()
        local r = Generation.run {
            session = session, sampler = s.sampler, tokenizer = app.tokenizer, prompt_ids = ids,
            n_predict = s.n_predict or room, stop_at = stop_at, stops = s.stops, clock = app.clock,
            strip_leading_space = p.strip_leading_space,
            on_text = job.post,
        }
        app.metrics:generation(r.n_prompt, r.n_generated, app.clock() - t0)
        if s.memory and s.learn then app.memories:save(raw, s.memory) end
        return r
    end
end

-- The OpenAI shapes of both endpoints: a whole answer, a streamed piece, the last chunk.
local shapes = {
    text = {
        object = "text_completion", chunk_object = "text_completion", id_prefix = "cmpl",
        choice = function(text, finish) return { index = 0, text = text, logprobs = cjson.null, finish_reason = finish } end,
    },
    chat = {
        object = "chat.completion", chunk_object = "chat.completion.chunk", id_prefix = "chatcmpl",
        choice = function(text, finish)
            return { index = 0, message = { role = "assistant", content = text }, finish_reason = finish }
        end,
        piece = function(text, finish)
            local delta = text and { role = "assistant", content = text } or {}   -- cjson: {} is an object
            return { index = 0, delta = delta, finish_reason = finish }
        end,
    },
}

local function usage(r)
    return { prompt_tokens = r.n_prompt, completion_tokens = r.n_generated, total_tokens = r.n_prompt + r.n_generated }
end

shapes.text.piece = shapes.text.choice   -- a streamed piece of text has the same shape

-- Runs the request and answers it. kind: "text" or "chat"; p: the prompt's own
-- stop texts and strip_leading_space (chat templates).
local function serve(app, ex, body, kind, ids, stop_at, p)
    local s = Request.settings(body, app.recommended, ex:header("x-bitttt-memory"))
    for _, text in ipairs(p.stops or {}) do s.stops[#s.stops + 1] = text end
    if s.model and not app.model_names[s.model] then
        Errors.raise(404, ("the model '%s' does not exist; this server has '%s'"):format(s.model, app.model_id),
            "model", "model_not_found")
    end
    check_fits(app.n_ctx, 0, #ids, s)   -- before queueing; again on the slot, after a memory's tokens
    local shape = shapes[kind]
    local id, created = new_id(shape.id_prefix), os.time()
    local function chunk(choice, extra)
        local c = { id = id, object = shape.chunk_object, created = created, model = app.model_id, choices = { choice } }
        for k, v in pairs(extra or {}) do c[k] = v end
        return c
    end
    local streaming, texts = false, {}
    local on_event
    if s.stream then
        on_event = function(events)
            if not streaming then
                streaming = true
                if not ex:start_events() then return false end
            end
            for _, text in ipairs(events) do
                if not ex:event(chunk(shape.piece(text, cjson.null))) then return false end
            end
        end
    else
        on_event = function(events) for _, text in ipairs(events) do texts[#texts + 1] = text end end
    end
    local ok, job = pcall(Jobs.run, app, generate(app, s, ids, stop_at, p),
        { memory = s.memory, on_event = on_event, exchange = ex })
    if not ok then
        if not streaming then error(job, 0) end
        io.stderr:write("serve: a stream ended by an error: ", tostring(job), "\n")
        ex:end_events()
        return
    end
    if job.cancelled then return end
    -- timed out: what was made by then (each forward after the prompt fed one sampled token)
    local r = job.result or { n_prompt = #ids, n_generated = math.max(0, job.forwards - 1), stopped = "length" }
    local finish = finish_reasons[r.stopped] or "length"
    if s.stream then
        if not streaming and not ex:start_events() then return end
        ex:event(chunk(shape.piece(nil, finish), { usage = usage(r) }))
        ex:end_events()
    else
        ex:respond_json(200, { id = id, object = shape.object, created = created, model = app.model_id,
                               choices = { shape.choice(table.concat(texts), finish) }, usage = usage(r) })
    end
end

function Completions.text(app, ex)
    local body = ex:json()
    local ids = Prompt.completion(app.tokenizer, app.n_vocab, body.prompt)
    serve(app, ex, body, "text", ids, app.stop_at, {})
end

function Completions.chat(app, ex)
    local body = ex:json()
    local messages = Prompt.messages(body.messages)
    local ok, p = pcall(Templates.prompt, app.model, messages, { template = app.template_name })
    if not ok then Errors.raise(400, tostring(p), "messages") end
    serve(app, ex, body, "chat", p.ids, p.stop_ids, p)
end

return Completions
