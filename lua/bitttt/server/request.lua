-- request.lua - the generation settings of a completion request (OpenAI's field
-- names, plus llama-server's `n_predict`, `top_k`, `min_p`, `repeat_penalty`):
-- sampler options over the model file's recommendations, the token budget, stop
-- strings, streaming and the TTT memory. Wrong types and out-of-range values are 400s.
local Sampler = require "bitttt.sampling"
local Fields = require "bitttt.server.fields"
local Errors = require "bitttt.server.errors"

local Request = {}

-- request field -> sampler option
local sampler_fields = {
    temperature = "temp", top_p = "top_p", top_k = "top_k", min_p = "min_p",
    frequency_penalty = "frequency_penalty", presence_penalty = "presence_penalty",
    repeat_penalty = "repeat_penalty", repeat_last_n = "repeat_last_n",
}

--- A Sampler for the request: its fields, else `recommended` (Sampler.model_defaults).
function Request.sampler(body, recommended)
    local given = {}
    for field, option in pairs(sampler_fields) do
        given[option] = Fields.number(body, field, option == "top_k" or option == "repeat_last_n")
    end
    given.seed = Fields.number(body, "seed", true)
    local ok, sampler = pcall(Sampler.new, Sampler.choose(given, recommended))
    if not ok then Errors.raise(400, tostring(sampler):gsub("^sampler: ", ""), nil) end
    return sampler
end

--- The most tokens to generate: max_tokens (>= 0), else n_predict (-1: to the context's end),
-- else nil (to the context's end).
function Request.n_predict(body)
    local n = Fields.number(body, "max_tokens", true)
    if n then
        if n < 0 then Errors.raise(400, "'max_tokens' must be >= 0", "max_tokens") end
        return n
    end
    n = Fields.number(body, "max_completion_tokens", true) or Fields.number(body, "n_predict", true)
    if n and n < -1 then Errors.raise(400, "'n_predict' must be >= -1", "n_predict") end
    if n == -1 then return nil end
    return n
end

local max_name = 64

--- Checks a memory name: letters, digits, '-', '_' and '.', not starting with '.', at most 64 bytes.
function Request.memory_name(name, param)
    if type(name) ~= "string" or name == "" or #name > max_name or name:find("[^%w%-_%.]") or name:sub(1, 1) == "." then
        Errors.raise(400, ("bad memory name '%s': 1 to %d letters, digits, '-', '_' or '.', not starting with '.'")
            :format(tostring(name):sub(1, 80), max_name), param or "ttt.memory")
    end
    return name
end

--- The TTT memory of a request: body.ttt = { memory = NAME, learn = bool }, or the header
-- X-Bitttt-Memory (learn from body.ttt.learn). Returns name, learn (or nil).
function Request.memory(body, header)
    local ttt = Fields.object(body, "ttt") or {}
    local name = Fields.string(ttt, "memory") or header
    local learn = Fields.boolean(ttt, "learn") or false
    if not name then return nil end
    return Request.memory_name(name), learn
end

--- Everything a completion needs besides the prompt.
-- memory_header: the X-Bitttt-Memory header, or nil.
function Request.settings(body, recommended, memory_header)
    local memory, learn = Request.memory(body, memory_header)
    local n = Fields.number(body, "n", true)
    if n and n ~= 1 then Errors.raise(400, "only one choice per request is supported ('n' must be 1)", "n") end
    return {
        sampler = Request.sampler(body, recommended),
        n_predict = Request.n_predict(body),
        stops = Fields.strings(body, "stop") or {},
        stream = Fields.boolean(body, "stream") or false,
        model = Fields.string(body, "model"),
        memory = memory, learn = learn,
    }
end

return Request
