-- metrics.lua - the server's counters, and /metrics in Prometheus text format.
local Metrics = {}
Metrics.__index = Metrics

function Metrics.new(clock)
    return setmetatable({ clock = clock, started = clock(), requests = {}, prompt_tokens = 0,
                          generated_tokens = 0, generate_seconds = 0, rejected = 0, cancelled = 0,
                          timed_out = 0 }, Metrics)
end

--- Counts a finished request by endpoint and status.
function Metrics:request(endpoint, status)
    local key = ('endpoint="%s",status="%d"'):format(endpoint, status)
    self.requests[key] = (self.requests[key] or 0) + 1
end

--- Counts a generation: tokens fed and made, and its seconds from start to end.
function Metrics:generation(n_prompt, n_generated, seconds)
    self.prompt_tokens = self.prompt_tokens + n_prompt
    self.generated_tokens = self.generated_tokens + n_generated
    self.generate_seconds = self.generate_seconds + seconds
end

--- The exposition text; pool: the slots (busy, queue).
function Metrics:text(pool)
    local out = {}
    local function metric(name, kind, help, value, labels)
        out[#out + 1] = ("# HELP bitttt_%s %s\n# TYPE bitttt_%s %s"):format(name, help, name, kind)
        if type(value) == "table" then
            local keys = {}
            for k in pairs(value) do keys[#keys + 1] = k end
            table.sort(keys)
            for _, k in ipairs(keys) do out[#out + 1] = ("bitttt_%s{%s} %s"):format(name, k, value[k]) end
        else
            out[#out + 1] = ("bitttt_%s%s %s"):format(name, labels or "", value)
        end
    end
    local uptime = self.clock() - self.started
    metric("requests_total", "counter", "HTTP requests answered, by endpoint and status.", self.requests)
    metric("prompt_tokens_total", "counter", "Prompt tokens fed.", self.prompt_tokens)
    metric("generated_tokens_total", "counter", "Tokens generated.", self.generated_tokens)
    metric("tokens_per_second", "gauge", "Generated tokens per second of uptime.",
        ("%.3f"):format(uptime > 0 and self.generated_tokens / uptime or 0))
    metric("rejected_total", "counter", "Requests refused with 503 because the queue was full.", self.rejected)
    metric("cancelled_total", "counter", "Generations ended because the client went away.", self.cancelled)
    metric("timed_out_total", "counter", "Generations ended at their time limit.", self.timed_out)
    metric("queue_length", "gauge", "Requests waiting for a slot.", pool:queue_length())
    metric("queue_capacity", "gauge", "Most requests that may wait for a slot.", pool.queue_max)
    metric("slots_busy", "gauge", "Slots generating now.", pool.busy)
    metric("slots_total", "gauge", "Parallel slots.", #pool.slots)
    metric("lua_heap_bytes", "gauge", "Bytes of the Lua heap.", ("%d"):format(collectgarbage("count") * 1024))
    metric("uptime_seconds", "gauge", "Seconds since the server started.", ("%.1f"):format(uptime))
    return table.concat(out, "\n") .. "\n"
end

return Metrics
