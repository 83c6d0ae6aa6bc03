-- slots.lua - N parallel slots, each a session sharing the model's weights, a
-- bounded queue in front of them, and the scheduler that interleaves the busy
-- slots token by token.
--
-- A job is a function run(session) that does its work through session:forward;
-- it runs in a coroutine whose session is a proxy that yields before every
-- forward call, so one resume is one forward (a prompt, or one token). The
-- scheduler resumes each busy slot once per round, then lets the event loop
-- serve I/O. A job's owner (the HTTP handler) reads job.events / job.done and
-- sets job.cancelled (a disconnected client); past its deadline a job is ended.
--
--   local pool = Slots.new{ model = m, n_slots = 4, n_ctx = 512, queue_max = 64, clock = bt.clock }
--   local job = pool:submit{ run = function(session) ... end, deadline = t, on_event = fn }
--   -- nil, "full" when the queue is full
--   cq:wrap(function() pool:loop(wait, pause) end)
local Slots = {}
Slots.__index = Slots

function Slots.new(o)
    local self = setmetatable({ slots = {}, queue = {}, queue_max = o.queue_max, clock = o.clock,
                                busy = 0, model = o.model }, Slots)
    for i = 1, o.n_slots do
        self.slots[i] = { id = i - 1, session = o.model:new_session { n_ctx = o.n_ctx } }
    end
    return self
end

-- A view of `session` whose forward first yields to the scheduler (counted in job.forwards).
local function yielding(session, job)
    job.forwards = 0
    return setmetatable({
        forward = function(_, ids, want)
            coroutine.yield()
            job.forwards = job.forwards + 1
            return session:forward(ids, want)
        end,
    }, { __index = session })
end

local function start(self, slot, job)
    slot.job, job.slot = job, slot
    self.busy = self.busy + 1
    job.co = coroutine.create(function() return job.run(yielding(slot.session, job), slot.session) end)
    job.state = "running"
    job.notify("started")
end

--- Queues a job (a table with run(session, raw_session), notify(event), deadline?);
-- it starts as soon as a slot is free. Returns the job, or nil, "full".
function Slots:submit(job)
    job.state = "queued"
    for _, slot in ipairs(self.slots) do
        if not slot.job then
            start(self, slot, job)
            if self.on_submit then self.on_submit() end   -- wakes the scheduler
            return job
        end
    end
    if #self.queue >= self.queue_max then return nil, "full" end
    self.queue[#self.queue + 1] = job
    return job
end

local function finish(self, job, ok, err)
    local slot = job.slot
    slot.job, job.slot = nil, nil
    self.busy = self.busy - 1
    job.state = "done"
    if ok then job.result = err else job.error = err end
    job.notify("done")
    while #self.queue > 0 do   -- the next waiting job that was not cancelled meanwhile
        local next_job = table.remove(self.queue, 1)
        if not next_job.cancelled then start(self, slot, next_job) break end
        next_job.state = "done"
    end
end

--- Removes a job that is still queued (its client went away).
function Slots:withdraw(job)
    for i, j in ipairs(self.queue) do
        if j == job then table.remove(self.queue, i) job.state = "done" return end
    end
end

--- One round: every busy slot runs one forward (ends cancelled and overdue jobs first).
-- Returns whether any slot was busy.
function Slots:round()
    local any = false
    local now = self.clock()
    for _, slot in ipairs(self.slots) do
        local job = slot.job
        if job then
            any = true
            if job.cancelled then
                finish(self, job, false, "cancelled")
            elseif job.deadline and now > job.deadline then
                job.timed_out = true
                finish(self, job, false, "timeout")
            else
                local ok, err = coroutine.resume(job.co)
                if not ok or coroutine.status(job.co) == "dead" then
                    finish(self, job, ok, err)
                else
                    job.notify("step")
                end
            end
        end
    end
    return any
end

--- The scheduler: rounds while a slot is busy; `idle()` waits for work, `pause()`
-- lets the event loop serve I/O between rounds. A full garbage collection when the
-- slots fall idle gives the memory of finished requests back while nobody waits.
function Slots:loop(idle, pause)
    local was_busy = false
    while true do
        if self:round() then
            was_busy = true
            pause()
        else
            if was_busy then collectgarbage() end
            was_busy = false
            idle()
        end
    end
end

function Slots:queue_length() return #self.queue end

return Slots
