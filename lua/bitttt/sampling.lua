-- sampling.lua - picks the next token from a row of logits.
--
--   local sampler = Sampler.new{ temp = 0.8, top_k = 40, top_p = 0.95, seed = 42 }
--   local id = sampler:sample(logits_row, history)
--
-- Scripts take their defaults from the model file where it recommends some (GGUF
-- general.sampling.*: Sampler.model_defaults, Sampler.choose), as llama.cpp does.
--
-- `logits_row` is a 1-d f32 tensor (one row of the logits). Under LuaJIT it is
-- read through an FFI pointer, without copying; elsewhere element by element.
-- The order of operations follows llama.cpp: penalties, then (temp <= 0) greedy,
-- else top-k, top-p, min-p, temperature, softmax, draw. Penalties never modify
-- the logits tensor itself: the sampler works on its own candidate list.
require "bitttt"   -- installs tensor:ptr()
local Rng = require "bitttt.rng"

local Sampler = {}
Sampler.__index = Sampler

local defaults = {
    temp = 0.8, top_k = 40, top_p = 0.95, min_p = 0.05,
    repeat_penalty = 1.0, repeat_last_n = 64, frequency_penalty = 0, presence_penalty = 0,
    seed = nil,
}

-- What a model file may recommend (GGUF general.sampling.*, the keys llama.cpp reads), per option.
local model_keys = {
    temp = "general.sampling.temp", top_k = "general.sampling.top_k", top_p = "general.sampling.top_p",
    min_p = "general.sampling.min_p", repeat_penalty = "general.sampling.penalty_repeat",
    repeat_last_n = "general.sampling.penalty_last_n", frequency_penalty = "general.sampling.penalty_freq",
    presence_penalty = "general.sampling.penalty_present",
}

Sampler.options = model_keys   -- the options a model may recommend -> their GGUF keys

--- The options a model's metadata recommends: { option = value } for the keys it has;
-- an error names `source` (the file) and the key when a value is not a number.
function Sampler.model_defaults(meta, source)
    local out = {}
    for option, key in pairs(model_keys) do
        local v = meta and meta[key]
        if v ~= nil then
            if type(v) ~= "number" or v ~= v then
                error(("%s: %s must be a number, got %s"):format(source or "model", key, tostring(v)), 2)
            end
            out[option] = v
        end
    end
    return out
end

--- Sampler options from the command line (`given`, nil where not given), else the model's
-- recommendations (`recommended`, from model_defaults), else `fallback`, else Sampler's own.
function Sampler.choose(given, recommended, fallback)
    local out = {}
    for option in pairs(model_keys) do
        local v = given[option]
        if v == nil then v = recommended[option] end
        if v == nil and fallback then v = fallback[option] end
        out[option] = v
    end
    out.seed = given.seed
    return out
end

function Sampler.new(opts)
    local self = setmetatable({}, Sampler)
    for k, v in pairs(defaults) do self[k] = v end
    for k, v in pairs(opts or {}) do
        if defaults[k] == nil and k ~= "seed" then error("sampler: unknown option '" .. tostring(k) .. "'", 2) end
        self[k] = v
    end
    if self.top_p <= 0 or self.top_p > 1 then error("sampler: top_p must be in (0, 1], got " .. self.top_p, 2) end
    if self.min_p < 0 or self.min_p >= 1 then error("sampler: min_p must be in [0, 1), got " .. self.min_p, 2) end
    if self.top_k < 0 then error("sampler: top_k must be >= 0", 2) end
    self.rng = Rng.new(self.seed or os.time())
    return self
end

-- A reader for the row: under LuaJIT an FFI pointer (0-based), else tensor indexing.
local function row_reader(row)
    if row:dtype() ~= "f32" then error("sampler: logits must be f32, got " .. row:dtype(), 3) end
    if row:dim() ~= 1 or not row:is_contiguous() then error("sampler: logits must be one contiguous row", 3) end
    local ok, p = pcall(row.ptr, row)
    if ok then return function(i) return p[i] end end
    return function(i) return row[i + 1] end
end

--- Penalty adjustments over the recent history: {id -> adjusted logit}.
function Sampler:penalties(read, history)
    local adjust = {}
    if not history or #history == 0 then return adjust end
    if self.repeat_penalty == 1 and self.frequency_penalty == 0 and self.presence_penalty == 0 then return adjust end
    local counts = {}
    local first = self.repeat_last_n < 0 and 1 or math.max(1, #history - self.repeat_last_n + 1)
    for i = first, #history do counts[history[i]] = (counts[history[i]] or 0) + 1 end
    for id, count in pairs(counts) do
        local l = read(id)
        if self.repeat_penalty ~= 1 then
            l = l > 0 and l / self.repeat_penalty or l * self.repeat_penalty
        end
        adjust[id] = l - count * self.frequency_penalty - self.presence_penalty
    end
    return adjust
end

-- Greedy: the highest logit, the lowest id on ties (as llama2.c's argmax).
local function argmax(read, n, adjust)
    local best, best_id = -math.huge, 0
    for i = 0, n - 1 do
        local l = adjust[i] or read(i)
        if l > best then best, best_id = l, i end
    end
    return best_id
end

-- The k best candidates as an array of {id, logit}, best first (k = 0: all).
local function top_candidates(read, n, adjust, k)
    local c = {}
    if k == 0 or k >= n then
        for i = 0, n - 1 do c[#c + 1] = { i, adjust[i] or read(i) } end
        table.sort(c, function(a, b) return a[2] > b[2] or (a[2] == b[2] and a[1] < b[1]) end)
        return c
    end
    -- Keep a sorted list of k; insert only what beats the current worst.
    local worst = -math.huge
    for i = 0, n - 1 do
        local l = adjust[i] or read(i)
        if #c < k or l > worst then
            local pos = #c + 1
            while pos > 1 and c[pos - 1][2] < l do pos = pos - 1 end
            table.insert(c, pos, { i, l })
            if #c > k then c[#c] = nil end
            worst = c[#c][2]
        end
    end
    return c
end

--- Returns the sampled token id (0-based, as the model's vocabulary).
function Sampler:sample(row, history)
    local read = row_reader(row)
    local n = row:size(1)
    local adjust = self:penalties(read, history)
    if self.temp <= 0 then return argmax(read, n, adjust) end
    local c = top_candidates(read, n, adjust, self.top_k)
    -- softmax at temperature 1 for the top-p / min-p cuts (llama.cpp applies temp last)
    local function probs(cands, temp)
        local maxl, sum, p = cands[1][2], 0, {}
        for i = 1, #cands do p[i] = math.exp((cands[i][2] - maxl) / temp); sum = sum + p[i] end
        for i = 1, #cands do p[i] = p[i] / sum end
        return p
    end
    local p = probs(c, 1)
    if self.top_p < 1 then
        local cum, keep = 0, #c
        for i = 1, #c do
            cum = cum + p[i]
            if cum >= self.top_p then keep = i break end
        end
        for i = #c, keep + 1, -1 do c[i] = nil end
    end
    if self.min_p > 0 then
        local cut = self.min_p * p[1]
        local keep = 1
        for i = 2, #c do if p[i] >= cut then keep = i else break end end
        for i = #c, keep + 1, -1 do c[i] = nil end
    end
    p = probs(c, self.temp)
    local r, cum = self.rng:next(), 0
    for i = 1, #c do
        cum = cum + p[i]
        if r < cum then return c[i][1] end
    end
    return c[#c][1]
end

return Sampler
