-- server_slots_spec.lua - the server's slot scheduler (bitttt.server.slots) over a fake
-- model: slots interleave token by token, the queue is bounded and first come first
-- served, cancelled and overdue jobs end at the next round and hand their slot on.
local Slots = require "bitttt.server.slots"

-- A model whose sessions log every forward as "<job>:<token>".
local function fake_model(log)
    return { new_session = function(_, o)
        return { n_ctx = o.n_ctx, pos = 0, forward = function(self, ids)
            log[#log + 1] = self.current .. ":" .. ids[1]
            self.pos = self.pos + #ids
        end }
    end }
end

-- A job that feeds n tokens, one forward each, and returns its name.
local function job(name, n, events)
    return { run = function(session, raw)
        raw.current = name
        for i = 1, n do session:forward({ i }) end
        return name
    end, notify = function(e) events[#events + 1] = name .. " " .. e end }
end

local function run_until_idle(pool)
    local rounds = 0
    while pool:round() do rounds = rounds + 1 assert(rounds < 1000) end
    return rounds
end

describe("server slots", function()
    local now
    local function clock() return now end
    before_each(function() now = 0 end)

    it("interleaves busy slots token by token and queues the rest in order", function()
        local log, events = {}, {}
        local n_slots = math.random(2, 4)
        local pool = Slots.new { model = fake_model(log), n_slots = n_slots, n_ctx = 64, queue_max = 2, clock = clock }
        local jobs = {}
        for i = 1, n_slots + 2 do
            jobs[i] = assert(pool:submit(job("j" .. i, 3, events)))
        end
        local full, why = pool:submit(job("late", 1, events))
        assert.is_nil(full)
        assert.equal("full", why)
        assert.equal(2, pool:queue_length())
        assert.equal(n_slots, pool.busy)
        run_until_idle(pool)
        -- the first n_slots jobs alternate: token t of every one before token t+1 of any
        local expected = {}
        for t = 1, 3 do for i = 1, n_slots do expected[#expected + 1] = ("j%d:%d"):format(i, t) end end
        assert.same(expected, { unpack(log, 1, 3 * n_slots) })
        for i, j in ipairs(jobs) do
            assert.equal("done", j.state)
            assert.equal("j" .. i, j.result)
        end
        assert.equal(0, pool.busy)
        assert.equal(0, pool:queue_length())
    end)

    it("ends a cancelled job at the next round and gives its slot to the next in the queue", function()
        local log, events = {}, {}
        local pool = Slots.new { model = fake_model(log), n_slots = 1, n_ctx = 64, queue_max = 4, clock = clock }
        local a = pool:submit(job("a", 100, events))
        local b = pool:submit(job("b", 2, events))
        local c = pool:submit(job("c", 2, events))
        pool:round() pool:round() pool:round()
        assert.same({ "a:1", "a:2" }, log)
        a.cancelled = true
        c.cancelled = true   -- went away while queued: skipped
        pool:round()
        assert.equal("done", a.state)
        assert.equal("cancelled", a.error)
        assert.equal("running", b.state)
        run_until_idle(pool)
        assert.same({ "a:1", "a:2", "b:1", "b:2" }, log)
        assert.equal("done", c.state)
        assert.is_nil(c.result)
    end)

    it("ends a job past its deadline", function()
        local log, events = {}, {}
        local pool = Slots.new { model = fake_model(log), n_slots = 1, n_ctx = 64, queue_max = 0, clock = clock }
        local j = job("slow", 50, events)
        j.deadline = 5
        pool:submit(j)
        for _ = 1, 4 do pool:round() end
        now = 6
        pool:round()
        assert.equal("done", j.state)
        assert.is_true(j.timed_out)
        assert.equal(3, #log)
        assert.equal(3, j.forwards)
    end)

    it("withdraws a queued job", function()
        local pool = Slots.new { model = fake_model({}), n_slots = 1, n_ctx = 64, queue_max = 2, clock = clock }
        pool:submit(job("a", 1, {}))
        local b = pool:submit(job("b", 1, {}))
        pool:withdraw(b)
        assert.equal(0, pool:queue_length())
        assert.equal("done", b.state)
    end)
end)
