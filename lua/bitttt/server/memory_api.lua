-- memory_api.lua - /v1/memories/{name}: POST learns from a text (and reports the
-- text's perplexity under the memory as it read it; "learn": false only measures),
-- GET describes a memory, DELETE removes it.
local Errors = require "bitttt.server.errors"
local Fields = require "bitttt.server.fields"
local Request = require "bitttt.server.request"
local Jobs = require "bitttt.server.jobs"

local MemoryApi = {}

-- Mean natural-log cross-entropy of each row of `rows` (logits [vocab]) predicting targets[i].
local function mean_nll(rows, targets)
    local total = 0
    for i, row in ipairs(rows) do
        local p, n = row:ptr(), row:shape()[1]
        local max = -math.huge
        for j = 0, n - 1 do max = math.max(max, p[j]) end
        local sum = 0
        for j = 0, n - 1 do sum = sum + math.exp(p[j] - max) end
        total = total + (math.log(sum) + max - p[targets[i]])
    end
    return total / #rows
end

-- Reads text into the memory; scores the text's tokens after its first (with or without a
-- BOS before it, as the memory is fresh or not, the same tokens are scored).
local function read_text(app, name, text, learn)
    return function(session, raw)
        app.memories:load(raw, name)
        local tok = app.tokenizer
        local ids = tok:encode(text, { bos = false })
        if #ids < 2 then Errors.raise(400, "'text' must have at least 2 tokens", "text") end
        if raw.pos + #ids + 1 > raw.n_ctx then
            Errors.raise(400, ("memory '%s' holds %d tokens; %d more do not fit its context of %d"):format(
                name, raw.pos, #ids, raw.n_ctx), "text")
        end
        local first = 1
        if raw.pos == 0 and tok:add_bos() then table.insert(ids, 1, tok:bos()) first = 2 end
        local rows = session:forward(ids, "all")
        local scored, targets = {}, {}
        for i = first, #ids - 1 do scored[#scored + 1], targets[#targets + 1] = rows[i], ids[i + 1] end
        if learn then app.memories:save(raw, name) end
        return { tokens = raw.pos, read = #ids, perplexity = math.exp(mean_nll(scored, targets)) }
    end
end

function MemoryApi.handle(app, ex, name)
    name = Request.memory_name(name, "name")
    if ex.method == "GET" then
        local info = app.memories:info(name) or Errors.raise(404, ("no memory named '%s'"):format(name), "name")
        return ex:respond_json(200, info)
    elseif ex.method == "DELETE" then
        local release = app.memories:lock(name)
        local existed = app.memories:delete(name)
        release()
        if not existed then Errors.raise(404, ("no memory named '%s'"):format(name), "name") end
        return ex:respond_json(200, { id = name, object = "memory", deleted = true })
    elseif ex.method == "POST" then
        local body = ex:json()
        local text = Fields.string(body, "text") or Errors.raise(400, "'text' is required", "text")
        local learn = Fields.boolean(body, "learn")
        if learn == nil then learn = true end
        local job = Jobs.run(app, read_text(app, name, text, learn), { memory = name, exchange = ex })
        if not job.result then Errors.raise(503, "the request ran past its time limit") end
        local r = job.result
        return ex:respond_json(200, { id = name, object = "memory", tokens = r.tokens, read = r.read,
                                      learned = learn, perplexity = r.perplexity })
    end
    Errors.raise(405, ("%s is not allowed on /v1/memories/{name} (GET, POST, DELETE)"):format(ex.method))
end

return MemoryApi
