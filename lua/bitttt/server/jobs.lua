-- jobs.lua - runs work on a slot for an HTTP handler and waits for it: the TTT
-- memory's lock around it, the queue (full: 503), events from the slot (streamed
-- text) and the end. Used by the completion and memory endpoints.
local condition = require "cqueues.condition"
local Errors = require "bitttt.server.errors"

local Jobs = {}

--- Runs `work(session, raw_session)` on a slot. app: the server (pool, memories, metrics,
-- clock, timeout). opts.memory: a memory name to lock for the whole job; opts.on_event(list):
-- called with the events the work posted (job.post(x)) since the last call, returns false
-- when the client is gone; opts.exchange: the request, watched for a client that goes away.
-- Returns the job (job.result: work's return value; job.error; job.cancelled).
function Jobs.run(app, work, opts)
    local release = opts.memory and app.memories:lock(opts.memory)
    local cond = condition.new()
    local job = { events = {}, deadline = app.clock() + app.timeout }
    job.notify = function() cond:signal() end   -- "started", "step" (a token), "done"
    job.post = function(x) job.events[#job.events + 1] = x cond:signal() end
    job.run = function(session, raw) return work(session, raw, job) end
    local function cancel()
        if job.cancelled then return end
        job.cancelled = true
        app.metrics.cancelled = app.metrics.cancelled + 1
        if job.state == "queued" then app.pool:withdraw(job) end
    end
    local ok, err = pcall(function()
        if not app.pool:submit(job) then
            app.metrics.rejected = app.metrics.rejected + 1
            Errors.raise(503, "the server is busy: every slot is in use and the queue is full; retry later", nil,
                "queue_full")
        end
        while job.state ~= "done" do
            if #job.events > 0 and opts.on_event then
                local events = job.events
                job.events = {}
                if opts.on_event(events) == false then cancel() end
            end
            if job.state ~= "done" and #job.events == 0 then cond:wait(1) end   -- the slot signals every token
            if opts.exchange and opts.exchange:client_gone() then cancel() end
        end
        if #job.events > 0 and opts.on_event and not job.cancelled then opts.on_event(job.events) end
    end)
    if release then release() end
    if not ok then error(err, 0) end
    if job.timed_out then app.metrics.timed_out = app.metrics.timed_out + 1 end
    if job.error and not job.cancelled and not job.timed_out then error(job.error, 0) end
    return job
end

return Jobs
