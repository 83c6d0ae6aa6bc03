-- stepper.lua - Session:step, generation one token at a time within a time
-- budget per call, for game loops that must not stall a frame:
--
--   session:forward(prompt_ids)                     -- the prompt, as usual
--   -- each frame:
--   local id = session:step{ sampler = s, budget_ms = 4, history = h }
--   if id then show(tokenizer:piece(id)) end         -- nil: the token is still in progress
--
-- A call samples the next token from the last logits and feeds it. When the
-- budget runs out part-way through the model, it stops after the current layer
-- and returns nil; the next call resumes there (a coroutine holds the place).
-- Each call runs at least one layer, so it always makes progress; the budget is
-- checked between layers, so a call can overrun it by one layer (and the head).
-- opts.on_sample(id), when given, hears the sampled id in the call that samples it.
local core = require "bitttt.core"

local M = {}

function M.step(self, opts)
    opts = opts or {}
    if not self.step_co then
        local logits = self.last_logits or error("step: no logits yet: feed a prompt with session:forward first", 2)
        if not opts.sampler then error("step: a sampler is needed (step{ sampler = ... })", 2) end
        if self.unusable then error("step: the session is unusable after a failed forward; reset() it", 2) end
        if self.pos >= self.n_ctx then error(("step: context full (%d tokens)"):format(self.n_ctx), 2) end
        local id = opts.sampler:sample(logits, opts.history)
        local history, pos0 = opts.history, self.pos
        if history then history[#history + 1] = id end
        self.step_undo = function()   -- a failed forward rewound the session: the id was not fed
            if history and self.pos == pos0 and history[#history] == id then history[#history] = nil end
        end
        if opts.on_sample then opts.on_sample(id) end   -- the C API reports the id at once
        self.step_co = coroutine.create(function()
            self:forward({ id }, "last")
            return id
        end)
    end
    local budget = opts.budget_ms
    if budget then
        local deadline = core.clock() + budget / 1000
        self.between_layers = function()
            if core.clock() >= deadline then coroutine.yield() end
        end
    end
    local ok, id = coroutine.resume(self.step_co)
    self.between_layers = nil
    local done = coroutine.status(self.step_co) == "dead"
    if done then self.step_co = nil end
    if not ok then
        self.step_undo()
        error(id, 0)
    end
    return done and id or nil
end

return M
