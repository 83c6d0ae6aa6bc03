-- capi.lua - the Lua half of the C API (runtime/bitttt.h). libbitttt runs this
-- module in its private Lua state (runtime/capi/lua_state.c); each bt_* call
-- is one call of a function here, so the C API runs exactly the graphs, the
-- sampler, the stepper, the fingerprint and the state files the scripts run.
--
-- Errors are raised as Lua errors; the C side turns them into a bt_status and
-- bt_last_error(). A table error { status = "arg"|"io"|"format", message = ... }
-- picks the status; a plain string gets the status the C call names as its default.
local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"
local Schedules = require "bitttt.schedules"

local M = {}

local function fail(status, fmt, ...)
    error({ status = status, message = fmt:format(...) }, 0)
end

---------------------------------------------------------------- models

-- The tokenizer or a clear error naming the model file.
local function tokenizer_of(model)
    return model.tokenizer or fail("arg",
        "%s: the model has no tokenizer (llama2.c checkpoints: give tokenizer_path)", model.path)
end

--- load(path, opts) -> model, info. opts: tokenizer, max_batch, float_activations,
-- n_gpu_layers (number or "auto"), n_ctx (for placement), device.
function M.load(path, opts)
    local f = io.open(path, "rb")
    if not f then fail("io", "%s: no such file", path) end
    f:close()
    local model = Model.load(path, {
        tokenizer = opts.tokenizer, max_batch = opts.max_batch, act_quant = not opts.float_activations,
        n_gpu_layers = opts.n_gpu_layers, n_ctx = opts.n_ctx, device = opts.device,
    })
    local cfg, tok = model.cfg, model.tokenizer
    local info = {
        architecture = model.arch, format = model.file:format(),
        n_vocab = cfg.n_vocab, n_embd = cfg.n_embd, n_layer = #model.w.layers, n_ff = cfg.n_ff or 0,
        n_ctx_train = cfg.n_ctx_train, has_tokenizer = tok ~= nil,
        bos = tok and tok:bos() or -1, eos = tok and tok:eos() or -1, add_bos = tok ~= nil and tok:add_bos(),
        fingerprint = model:fingerprint(), stop_at_bos = model.stop_at_bos, mixers = {},
        n_gpu_layers = model.placement.n_gpu_layers or 0,
    }
    for l, layer in ipairs(model.w.layers) do info.mixers[l] = layer.mixer.kind or "?" end
    return model, info
end

--- meta(model, key) -> text as bt_model_meta prints it (an "arg" error when absent).
function M.meta(model, key)
    local v = model.meta[key]
    if type(v) == "string" then return v end
    if type(v) == "boolean" then return tostring(v) end
    if type(v) == "number" then return ("%.17g"):format(v) end
    if type(v) == "table" then
        local n = 0
        for _ in pairs(v) do n = n + 1 end
        return ("[%d]"):format(n)
    end
    fail("arg", "%s: no metadata key '%s'", model.path, key)
end

local sampling_fields = { "temp", "top_k", "top_p", "min_p", "repeat_penalty", "repeat_last_n",
    "frequency_penalty", "presence_penalty" }

--- sampling(model) -> the defaults with what the model file recommends (general.sampling.*).
function M.sampling(model)
    local out = Sampler.choose({}, Sampler.model_defaults(model.meta, model.path))
    local fields = {}
    for _, k in ipairs(sampling_fields) do fields[k] = out[k] end
    return fields
end

---------------------------------------------------------------- tokens <-> text

function M.tokenize(model, text, bos, eos, special)
    return tokenizer_of(model):encode(text, { bos = bos, eos = eos, special = special })
end

function M.detokenize(model, ids)
    local tok = tokenizer_of(model)
    local n = tok:vocab_size()
    for i, id in ipairs(ids) do
        if id < 0 or id >= n then fail("arg", "detokenize: token %d (at %d) is outside the vocabulary [0, %d)", id, i - 1, n) end
    end
    return tok:decode(ids)
end

function M.text_stream(model) return tokenizer_of(model):stream() end
function M.stream_push(stream, id) return stream:push(id) end
function M.stream_flush(stream) return stream:flush() end

---------------------------------------------------------------- samplers

-- Sampler options from the C struct's fields (seed nil: from the clock).
function M.sampler(fields)
    local ok, s = pcall(Sampler.new, fields)
    if not ok then fail("arg", "%s", tostring(s):gsub("^[^:]*:%d+: ", "")) end
    return s
end

-- The ids in `history` as a Lua array (the C side passes a table already).
function M.sample(sampler, logits, history)
    return sampler:sample(logits, history)
end

---------------------------------------------------------------- sessions

-- A C session: the Lua session, its sampler, its history (penalties) and the logits row.
function M.session_new(model, n_ctx, sampling)
    if n_ctx ~= nil and (n_ctx < 1 or n_ctx ~= math.floor(n_ctx)) then
        fail("arg", "session: n_ctx must be a whole number >= 1, got %s", tostring(n_ctx))
    end
    local session = model:new_session { n_ctx = n_ctx }
    return { session = session, sampler = M.sampler(sampling), history = {} }
end

local function check_ids(cs, ids)
    local n = cs.session.model.cfg.n_vocab
    for i, id in ipairs(ids) do
        if id < 0 or id >= n then fail("arg", "feed: token %d (at %d) is outside the vocabulary [0, %d)", id, i - 1, n) end
    end
end

local function finish(cs)
    while cs.session.step_co do cs.session:step() end
end

-- feed(cs, ids) -> the last token's logits row; feed_all -> every row.
function M.feed(cs, ids, want)
    finish(cs)
    check_ids(cs, ids)
    local session = cs.session
    if session.pos + #ids > session.n_ctx then
        fail("arg", "context full: %d tokens already, %d more, context size %d", session.pos, #ids, session.n_ctx)
    end
    local out = session:forward(ids, want)
    for _, id in ipairs(ids) do cs.history[#cs.history + 1] = id end
    if want == "all" then session.last_logits = out[#out] end   -- what step() samples from next
    return out
end

function M.set_sampling(cs, fields) cs.sampler = M.sampler(fields) end

local function ready_to_step(cs)
    local session = cs.session
    if not session.last_logits then fail("arg", "step: no logits yet (feed a prompt first)") end
    if session.pos >= session.n_ctx then
        fail("arg", "step: context full (%d tokens, context size %d)", session.pos, session.n_ctx)
    end
end

--- step(cs) -> id: samples from the last logits and feeds the token (one call per token).
function M.step(cs)
    finish(cs)
    ready_to_step(cs)
    local id = cs.sampler:sample(cs.session.last_logits, cs.history)
    cs.session:forward({ id }, "last")
    cs.history[#cs.history + 1] = id
    return id
end

--- step_budget(cs, ms) -> id sampled in this call or -1, busy (a token still in flight).
function M.step_budget(cs, budget_ms)
    if not (budget_ms >= 0) then fail("arg", "step_budget: budget must be >= 0 ms, got %s", tostring(budget_ms)) end
    local session, sampled = cs.session, -1
    if not session.step_co then ready_to_step(cs) end
    session:step { sampler = cs.sampler, budget_ms = budget_ms, history = cs.history,
        on_sample = function(id) sampled = id end }
    return sampled, session.step_co ~= nil
end

function M.finish(cs) finish(cs) end

function M.set_ttt_lr(cs, lr)
    finish(cs)
    if lr < 0 then lr = nil end
    cs.session:set_ttt_lr(lr)
end

--- set_ttt_schedule(cs, text, is_source): a schedule as --ttt-schedule takes it
-- (constant:M, warmup:N, cosine:N[,MIN], inv_sqrt:N, piecewise:..., FILE.lua),
-- or Lua source returning function(position, layer, step) -> multiplier; nil: constant 1.
function M.set_ttt_schedule(cs, text, is_source)
    finish(cs)
    local schedule = text
    if text and is_source then
        local chunk, err = loadstring(text, "=(schedule)")
        if not chunk then fail("arg", "schedule: %s", err) end
        local ok, fn = pcall(chunk)
        if not ok or type(fn) ~= "function" then
            fail("arg", "schedule: the source must return a function(position, layer, step), got %s",
                ok and type(fn) or tostring(fn))
        end
        schedule = fn
    elseif text then
        local ok, fn = pcall(Schedules.parse, text)
        if not ok then fail("arg", "%s", tostring(fn):gsub("^[^:]*:%d+: ", "")) end
        schedule = fn
    end
    cs.session:set_schedule(schedule)
end

function M.reset(cs)
    finish(cs)
    cs.session:reset()
    cs.session.last_logits = nil
    cs.history = {}
end

---------------------------------------------------------------- state

local function copy(list)
    local out = {}
    for i, v in ipairs(list) do out[i] = v end
    return out
end

function M.snapshot(cs)
    finish(cs)
    local logits = cs.session.last_logits
    return { state = cs.session:snapshot(), history = copy(cs.history), logits = logits and logits:clone() }
end

function M.restore(cs, snap)
    finish(cs)
    cs.session:restore(snap.state)
    cs.history = copy(snap.history)
    local session = cs.session
    if snap.logits then
        session.last_logits = session.last_logits or session.buffers.cpu.logits:select(1, 1)
        session.last_logits:copy(snap.logits)
    else
        session.last_logits = nil
    end
end

function M.save_state(cs, path)
    finish(cs)
    cs.session:save_state(path)
end

function M.load_state(cs, path)
    finish(cs)
    local ok, err = pcall(cs.session.load_state, cs.session, path)
    if not ok then fail("format", "%s", tostring(err):gsub("^[^:]*:%d+: ", "")) end
    cs.session.last_logits = nil
    cs.history = {}
end

return M
