-- decoder.lua - a decoder-only transformer assembled from blocks:
--
--   x = embed(ids)                                    [m, d]
--   for each layer:  x += mixer(rmsnorm(x) * attn_norm)       (attention, TTT, ...)
--                    x += ffn(rmsnorm(x) * ffn_norm)           (gated: act(gate) * up, then down;
--                                                               BitNet: ffn_sub_norm before down)
--   logits = head(rmsnorm(x) * output_norm)          [m, vocab]
--
-- Architectures (models/*.lua) build the config and the per-layer mixers; a
-- session (Decoder:new_session) owns the per-sequence state (KV caches, TTT
-- fast weights) and scratch buffers, reused for every call.
--
-- Devices: Decoder:place puts layers on a GPU (bitttt.placement decides which;
-- everything stays on the CPU until then). A session keeps a set of buffers on
-- every device the plan uses; activations stay on the device where a layer
-- runs and are copied across only where consecutive layers (or the head)
-- sit on different devices. Logits always come back to the CPU.
--
-- Mixer interface (mixers/*.lua): new_state(n_ctx) (on self.device, set by the
-- placement), reset_state(state), state_bytes(n_ctx), scratch_widths(),
-- forward(state, out, h, buf, pos, pos0, learning), weight_names (its weight
-- fields), optionally pre_mix(state, x, buf) (on the residual stream before the
-- block's norm), gpu_unsupported(device) (nil when it can run there, else why not).
-- A state is a table whose tensor fields are the whole per-session state (what
-- snapshots copy and state files hold). `learning` is the session's test-time
-- training settings (lr, schedule, form); mixers without learning ignore it.
-- Decoder.new gives each mixer its 1-based `layer_index`.
local core = require "bitttt.core"
local Kinds = require "bitttt.kinds"
local Placement = require "bitttt.placement"
local Schedules = require "bitttt.schedules"

local Decoder = {}
Decoder.__index = Decoder

--- Decoder.new(cfg, weights)
-- cfg: n_embd, n_vocab, n_ctx_train, rms_eps, ffn_act ("silu"|"relu2"), n_ff,
--      act_quant (BitLinear FFN: per-token int8 activations), max_batch (rows per chunk, default 64)
-- weights: tok_embd [vocab, d], output_norm [d], output [vocab, d] (may be tok_embd),
--      layers[i] = { attn_norm, mixer (object), ffn_norm, ffn_gate, ffn_up, ffn_down, ffn_sub_norm? }
function Decoder.new(cfg, weights)
    local self = setmetatable({ cfg = cfg, w = weights }, Decoder)
    Kinds.check("decoder: ffn_act", cfg.ffn_act, Kinds.activations)
    cfg.max_batch = cfg.max_batch or 64
    for l, layer in ipairs(weights.layers) do
        layer.mixer.layer_index = l
        -- Each weight is prepared for the products once, here (a ternary matrix's layout is
        -- checked and cached on it), so that running the model only reads weights.
        for _, ref in ipairs(Placement.layer_weights(layer)) do core.prepare_weight(ref[1][ref[2]]) end
    end
    core.prepare_weight(weights.output)
    self.placement = Placement.all_cpu(self, "Not placed: everything on the CPU.")
    return self
end

--- Puts layers (and the output head) on the GPU as bitttt.placement plans it:
-- opts.n_gpu_layers = N or "auto", opts.n_ctx (the context KV caches are counted
-- for), opts.device ("cuda:0"), opts.reserve (bytes), opts.gpu_mem (bytes: a cap on the
-- GPU memory planned for). Once per model, before its
-- sessions are made. Returns the plan (also self.placement).
function Decoder:place(opts)
    if self.placement.device ~= "cpu" then error("place: this model is already placed on " .. self.placement.device, 2) end
    self:fingerprint()   -- it hashes weight bytes, which it can read only while they are on the CPU
    self.placement = Placement.apply(self, Placement.plan(self, opts))
    return self.placement
end

--- Widths of the activation buffers every layer needs: {name -> width}.
function Decoder:scratch_widths()
    local cfg = self.cfg
    local widths = { x = cfg.n_embd, h = cfg.n_embd, mix = cfg.n_embd, gate = cfg.n_ff, up = cfg.n_ff }
    for _, layer in ipairs(self.w.layers) do
        for name, width in pairs(layer.mixer:scratch_widths()) do
            widths[name] = math.max(widths[name] or 0, width)
        end
    end
    return widths
end

local function sorted_keys(t)
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    return keys
end

--- A 16-hex-digit fingerprint of the model: its sizes, each layer's mixer kind, and
-- every weight's name, dtype, shape and first 64 KiB. State files carry it.
function Decoder:fingerprint()
    if self.fingerprint_hex then return self.fingerprint_hex end
    local cfg, w = self.cfg, self.w
    local h = core.hash64(nil, ("bitttt model d=%d vocab=%d layers=%d"):format(cfg.n_embd, cfg.n_vocab, #w.layers))
    local function add(name, t)
        h = core.hash64(h, ("%s %s [%s]"):format(name, t:dtype(), table.concat(t:shape(), ",")))
        if t:is_contiguous() then h = core.hash64(h, t, 65536) end
    end
    local function add_tensors(prefix, tbl)
        for _, k in ipairs(sorted_keys(tbl)) do
            if core.is_tensor(tbl[k]) then add(prefix .. tostring(k), tbl[k]) end
        end
    end
    add_tensors("", { tok_embd = w.tok_embd, output_norm = w.output_norm, output = w.output })
    for l, layer in ipairs(w.layers) do
        h = core.hash64(h, ("layer %d %s"):format(l, layer.mixer.kind or "?"))
        add_tensors(l .. ".", layer)
        add_tensors(l .. ".mixer.", layer.mixer)
    end
    self.fingerprint_hex = h
    return h
end

--- Bytes of per-session state at context n_ctx (KV caches of kv_type, default the
-- model's; TTT state), summed over layers.
function Decoder:state_bytes(n_ctx, kv_type)
    local total = 0
    kv_type = kv_type or self.cfg.kv_type
    for _, layer in ipairs(self.w.layers) do total = total + layer.mixer:state_bytes(n_ctx, kv_type) end
    return total
end

--- Whether some layer keeps a cache that grows with the context (attention's KV cache).
function Decoder:keeps_cache()
    for _, layer in ipairs(self.w.layers) do
        if layer.mixer.keeps_cache then return true end
    end
    return false
end

Decoder.max_default_context = 4096

--- The context a session gets unless told: llama.cpp's habit for models with a KV
-- cache, the smaller of the file's context and 4096 (the cache grows as it is used);
-- no limit (math.huge) for models whose state does not grow with the context.
function Decoder:default_context()
    if not self:keeps_cache() then return math.huge end
    return math.min(self.cfg.n_ctx_train or Decoder.max_default_context, Decoder.max_default_context)
end

local function mib(bytes) return ("%.0f MiB"):format(bytes / 1048576) end

-- Refuses a session whose memory (the state at its full context, the batch buffers)
-- exceeds what the machine has free, naming the option to lower.
local function check_memory(model, n_ctx, kv_type, rows, buffer_bytes)
    local available = core.memory_available()
    if available <= 0 then return end
    local state = model:state_bytes(n_ctx, kv_type)
    if state + buffer_bytes <= available then return end
    local what = state > buffer_bytes
        and ("a context of %s positions needs %s of %s; lower the context size (-c, n_ctx)"):format(
            n_ctx == math.huge and "unlimited" or tostring(n_ctx), mib(state),
            model:keeps_cache() and ("KV cache (" .. kv_type .. ")") or "state")
        or ("batches of %d tokens need %s of buffers; lower the batch size (-b, max_batch)"):format(rows, mib(buffer_bytes))
    error(("new_session: %s, and only %s of memory is available"):format(what, mib(available)), 3)
end

local Session = {}
Session.__index = Session

-- print(model), print(session): one line, not a table address.
function Decoder.__tostring(m)
    return ("<model> %s, %d layers, d=%d, vocab %d, %s"):format(m.arch or "?", #m.w.layers, m.cfg.n_embd,
        m.cfg.n_vocab, m.path or "(not from a file)")
end

function Session.__tostring(s)
    return ("<session> position %d of %s, %s model"):format(s.pos, s:context_text(), s.model.arch or "?")
end

--- A session: its own state and buffers. opts.n_ctx (default: Decoder:default_context()),
-- opts.kv_type ("f16", "f32" or "q8_0"; default the model's cfg.kv_type, else f16).
-- Refuses (an error naming the option) when its memory would exceed the machine's.
function Decoder:new_session(opts)
    opts = opts or {}
    local cfg = self.cfg
    local n_ctx = opts.n_ctx or self:default_context()
    if type(n_ctx) ~= "number" or n_ctx < 1 or (n_ctx ~= math.huge and n_ctx ~= math.floor(n_ctx)) then
        error("context size must be a whole number >= 1, got " .. tostring(n_ctx), 2)
    end
    local kv_type = opts.kv_type or cfg.kv_type or "f16"
    -- Scratch on every device the plan uses (Session:grow_buffers): rows of the widths every
    -- block needs, token ids and positions; logits on the head's device and on the CPU.
    local B, plan = math.min(cfg.max_batch, n_ctx), self.placement
    local devices = { cpu = true, [plan.head] = true, [plan.embd] = true }
    for _, dev in ipairs(plan.layers) do devices[dev] = true end
    local floats = cfg.n_vocab * (plan.head == "cpu" and 1 or 2)
    for _, width in pairs(self:scratch_widths()) do floats = floats + width end
    check_memory(self, n_ctx, kv_type, B, 4 * B * floats)
    local s = setmetatable({ model = self, n_ctx = n_ctx, kv_type = kv_type, max_batch = B, pos = 0, states = {},
        views = {}, learning = {}, devices = devices, buffer_rows = 0 }, Session)
    for l, layer in ipairs(self.w.layers) do s.states[l] = layer.mixer:new_state(n_ctx, kv_type) end
    s:grow_buffers(1)
    return s
end

--- Buffers of at least `rows` rows (at most max_batch): allocated for the largest chunk fed
-- so far, so a large -b costs memory only when a prompt that long comes.
function Session:grow_buffers(rows)
    if rows <= self.buffer_rows then return end
    local cfg, plan = self.model.cfg, self.model.placement
    self.buffers, self.gpu_devices, self.views = {}, {}, {}
    for dev in pairs(self.devices) do
        local bufs = { ids = core.empty({ rows }, "i32", dev), positions = core.empty({ rows }, "i32", dev) }
        for name, width in pairs(self.model:scratch_widths()) do bufs[name] = core.empty({ rows, width }, "f32", dev) end
        self.buffers[dev] = bufs
        if dev ~= "cpu" then self.gpu_devices[#self.gpu_devices + 1] = dev end
    end
    self.buffers.cpu.logits = core.empty({ rows, cfg.n_vocab }, "f32")
    self.buffers[plan.head].logits = self.buffers[plan.head].logits or core.empty({ rows, cfg.n_vocab }, "f32", plan.head)
    self.buffer_rows = rows
end

--- The context size for people: "unlimited" or the number.
function Session:context_text()
    return self.n_ctx == math.huge and "unlimited" or ("%d"):format(self.n_ctx)
end

--- Views of the first m rows of every buffer on a device (default the CPU), cached:
-- decode reuses m = 1.
function Session:views_for(m, device)
    device = device or "cpu"
    local cache = self.views[device]
    if not cache then
        cache = {}
        self.views[device] = cache
    end
    local v = cache[m]
    if v then return v end
    v = {}
    for name, buf in pairs(self.buffers[device]) do v[name] = buf:narrow(1, 1, m) end
    cache[m] = v
    return v
end

function Session:reset()
    self.pos = 0
    self.unusable = nil
    for l, layer in ipairs(self.model.w.layers) do layer.mixer:reset_state(self.states[l]) end
end

-- BITTTT_DEBUG=1: every layer's output is checked for NaN/infinity, so the error names the first
-- layer that produced one (without it only the logits are checked, once per step).
local debug_finite = os.getenv("BITTTT_DEBUG") == "1"

local function check_finite(x, where, pos)
    local host = x:device() == "cpu" and x or x:to("cpu")
    local bad = core.first_non_finite(host)
    if bad then
        local row = math.floor((bad - 1) / x:shape()[2])
        error(("forward: %s produced a non-finite value (%g) at position %d"):format(where, host:reshape(-1)[bad], pos + row), 0)
    end
end

-- One chunk of at most max_batch tokens starting at self.pos; returns the logits view [m, vocab]
-- (rows needed by `want`: "last" computes only the last row, "all" every row).
function Session:forward_chunk(ids, first, m, want)
    local model, cfg = self.model, self.model.cfg
    local w, plan = model.w, model.placement
    local cpu = self:views_for(m)
    for i = 0, m - 1 do
        cpu.ids[i + 1] = ids[first + i]
        cpu.positions[i + 1] = self.pos + i
    end
    for _, dev in ipairs(self.gpu_devices) do self:views_for(m, dev).positions:copy(cpu.positions) end
    local here = plan.embd            -- the device holding the activations
    local v = self:views_for(m, here)
    if here ~= "cpu" then v.ids:copy(cpu.ids) end
    core.op_get_rows(v.x, w.tok_embd, v.ids)
    if debug_finite then check_finite(v.x, "the embedding lookup", self.pos) end
    local eps = cfg.rms_eps
    for l, layer in ipairs(w.layers) do
        if plan.layers[l] ~= here then
            here = plan.layers[l]
            local moved = self:views_for(m, here)
            moved.x:copy(v.x)
            v = moved
        end
        if layer.mixer.pre_mix then layer.mixer:pre_mix(self.states[l], v.x, v) end   -- TTT's pre_conv
        core.op_rmsnorm(v.h, v.x, layer.attn_norm, eps)
        layer.mixer:forward(self.states[l], v.mix, v.h, v, v.positions, self.pos, self.learning)
        core.op_add(v.x, v.x, v.mix)
        core.op_rmsnorm(v.h, v.x, layer.ffn_norm, eps)
        local aq = cfg.act_quant
        core.op_linear_group({ v.gate, v.up }, { layer.ffn_gate, layer.ffn_up }, v.h, aq)
        core.op_gated(v.gate, v.gate, v.up, cfg.ffn_act)
        if layer.ffn_sub_norm then core.op_rmsnorm(v.gate, v.gate, layer.ffn_sub_norm, eps) end
        core.op_linear(v.mix, layer.ffn_down, v.gate, aq)
        core.op_add(v.x, v.x, v.mix)
        if self.on_layer then self.on_layer(l, v.x) end   -- tests: the residual stream [m, d] after layer l
        if debug_finite then check_finite(v.x, ("layer %d (blk.%d, %s)"):format(l, l - 1, layer.mixer.kind or "?"), self.pos) end
        if self.between_layers and l < #w.layers then self.between_layers(l) end   -- step{budget_ms} may yield
    end
    self.pos = self.pos + m
    if want == "none" then return nil end
    if plan.head ~= here then
        local moved = self:views_for(m, plan.head)
        moved.x:copy(v.x)
        v = moved
    end
    local rows_x, rows_h, logits = v.x, v.h, v.logits
    if want == "last" then
        local last = self:views_for(1, plan.head)
        rows_x, rows_h, logits = v.x:narrow(1, m, 1), last.h, last.logits
    end
    core.op_rmsnorm(rows_h, rows_x, w.output_norm, eps)
    core.op_linear(logits, w.output, rows_h)
    if plan.head ~= "cpu" then   -- the sampler reads logits on the CPU
        local host = self:views_for(want == "last" and 1 or m).logits
        host:copy(logits)
        logits = host
    end
    local bad = core.first_non_finite(logits)   -- once per step: a NaN would otherwise sample as some token
    if bad then
        local row = math.floor((bad - 1) / cfg.n_vocab)
        error(("%s: the logits at position %d are not finite (%g for token %d); the model produced NaN or "
            .. "infinity%s"):format(self.model.path or "forward", self.pos - m + (want == "last" and m - 1 or row), logits:reshape(-1)[bad],
            (bad - 1) % cfg.n_vocab, debug_finite and "" or " (BITTTT_DEBUG=1 names the first layer that did)"), 0)
    end
    return logits
end

-- Every id a whole number in 0 .. n_vocab-1, checked before anything runs.
local function check_ids(ids, n_vocab)
    if type(ids) ~= "table" then error("forward: an array of token ids expected, got " .. type(ids), 3) end
    for i = 1, #ids do
        local id = ids[i]
        if type(id) ~= "number" or id ~= math.floor(id) or id < 0 or id >= n_vocab then
            error(("forward: token id %s at index %d is not in 0..%d; nothing was fed"):format(tostring(id), i, n_vocab - 1), 3)
        end
    end
end

--- Whether a failed forward can be undone by moving the position back: true when every
-- layer's state only grows with the context (KV caches), false when a forward changes
-- state in place (TTT fast weights).
function Session:rewindable()
    for _, layer in ipairs(self.model.w.layers) do
        if not layer.mixer.keeps_cache then return false end
    end
    return true
end

local function check_usable(self)
    if self.unusable then
        error(("session: unusable after a failed forward (%s); call reset(), restore(snapshot) or load_state(path)"):format(
            self.unusable), 3)
    end
end

--- Feeds tokens (a Lua array of ids) at the current position.
-- want = "last" (default): returns the logits of the last token, a [vocab] f32 view;
-- "all": returns a Lua array of [vocab] row tensors (copies), one per token;
-- "none": runs the model for its state only.
-- Prompts go in chunks of max_batch tokens; the context limit is an error.
local wants = { "last", "all", "none" }

-- Ids are all checked before the first layer runs (a bad one feeds nothing). When the
-- forward fails part-way (an op's error, Ctrl-C, NaN/infinity in the logits), a session
-- whose layers only keep KV caches goes back to where it was (position and last logits);
-- one with TTT layers, whose state changed in place, is marked unusable until reset(),
-- restore() or load_state(). Either way the error is raised.
function Session:forward(ids, want)
    check_usable(self)
    want = Kinds.check("forward: want", want or "last", wants)
    check_ids(ids, self.model.cfg.n_vocab)
    local n = #ids
    if n == 0 then error("forward: no tokens", 2) end
    if self.pos + n > self.n_ctx then
        error(("context full: %d tokens already, %d more, context size %d"):format(self.pos, n, self.n_ctx), 2)
    end
    local pos0, last = self.pos, self.last_logits
    if last then   -- kept until the forward has succeeded
        self.saved_logits = self.saved_logits or core.empty(last:shape(), "f32")
        self.saved_logits:copy(last)
    end
    local ok, result = pcall(Session.forward_chunks, self, ids, want)
    if not ok then
        if self:rewindable() then
            self.pos = pos0
            if last then last:copy(self.saved_logits) end
            self.last_logits = last
        else
            self.unusable = tostring(result)
        end
        error(result, 0)
    end
    return result
end

function Session:forward_chunks(ids, want)
    local n, B = #ids, self.max_batch
    local rows = {}
    local logits
    local first = 1
    self:grow_buffers(math.min(B, n))
    while first <= n do
        local m = math.min(B, n - first + 1)
        local chunk_want = want == "all" and "all" or (first + m > n and want or "none")
        logits = self:forward_chunk(ids, first, m, chunk_want)
        if want == "all" then
            for i = 1, m do rows[#rows + 1] = logits:select(1, i):clone() end
        end
        first = first + m
    end
    if want == "all" then return rows end
    if want == "last" then
        self.last_logits = logits:select(1, 1)   -- what step() samples from next
        return self.last_logits
    end
    return nil
end

Session.step = require("bitttt.stepper").step

---------------------------------------------------------------- test-time training

--- Inner learning rate of the TTT layers (replaces each layer's base lr; nil: the model's).
function Session:set_ttt_lr(lr)
    if lr ~= nil and (type(lr) ~= "number" or lr < 0 or lr ~= lr) then
        error("set_ttt_lr: a number >= 0 (or nil for the model's own) expected, got " .. tostring(lr), 2)
    end
    self.learning.lr = lr
end

--- Learning-rate schedule (see bitttt.schedules): a function (position, layer, step) -> m,
-- a schedule text ("cosine:4096", FILE.lua), or nil for a constant 1.
function Session:set_schedule(schedule)
    if type(schedule) == "string" then schedule = Schedules.parse(schedule) end
    if schedule ~= nil and type(schedule) ~= "function" then
        error("set_schedule: a function, a schedule name or nil expected, got " .. type(schedule), 2)
    end
    self.learning.schedule = schedule
end

--- Reads text (a string, through the model's tokenizer) or token ids to adapt the
-- fast weights without computing logits; returns the number of tokens read.
function Session:learn(input)
    local ids = input
    if type(input) == "string" then
        local tok = self.model.tokenizer
        if not tok then error("learn: the model has no tokenizer; pass token ids instead of text", 2) end
        ids = tok:encode(input, { bos = self.pos == 0 and tok:add_bos() })
    elseif type(input) ~= "table" then
        error("learn: text or an array of token ids expected, got " .. type(input), 2)
    end
    if #ids > 0 then self:forward(ids, "none") end
    return #ids
end

---------------------------------------------------------------- state: snapshots and files

--- An in-memory copy of the session's state (position, KV caches, fast weights).
function Session:snapshot()
    local snap = { model = self.model, pos = self.pos, n_ctx = self.n_ctx, states = {} }
    for l, state in ipairs(self.states) do
        local copy = {}
        for k, v in pairs(state) do
            if core.is_tensor(v) then copy[k] = v:clone() end
        end
        snap.states[l] = copy
    end
    return snap
end

local function same_shape(a, b)
    return table.concat(a:shape(), ",") == table.concat(b:shape(), ",")
end

--- Puts a snapshot of this model's sessions back (the snapshot stays usable).
function Session:restore(snap)
    if type(snap) ~= "table" or snap.model ~= self.model then
        error("restore: not a snapshot of a session of this model", 2)
    end
    if snap.n_ctx ~= self.n_ctx then
        error(("restore: the snapshot has context %d, this session %d"):format(snap.n_ctx, self.n_ctx), 2)
    end
    for l, state in ipairs(self.states) do
        for k, v in pairs(snap.states[l]) do
            if same_shape(state[k], v) then state[k]:copy(v) else state[k] = v:clone() end   -- a cache grown since
        end
    end
    self.pos = snap.pos
    self.unusable = nil
end

--- A new session that continues from this one's state (a branch of the conversation);
-- it has its own copy of the state and of the learning settings.
function Session:fork()
    local s = self.model:new_session { n_ctx = self.n_ctx }
    s:restore(self:snapshot())
    for k, v in pairs(self.learning) do s.learning[k] = v end
    return s
end

local STATE_FORMAT = "bitttt-session-state"

-- { "layer.<l>.<field>", tensor, l, field } for every tensor field of every layer's state.
local function state_entries(states)
    local entries = {}
    for l, state in ipairs(states) do
        for _, k in ipairs(sorted_keys(state)) do
            if core.is_tensor(state[k]) then entries[#entries + 1] = { ("layer.%d.%s"):format(l, k), state[k], l, k } end
        end
    end
    return entries
end

-- safetensors has no q8_0: such tensors go as their bytes, u8 [..., row bytes], and the
-- metadata "<name>.dtype" says what they were.
local function as_bytes(t)
    local shape = t:shape()
    shape[#shape] = #t:select(1, 1):select(1, 1):tobytes()
    return core.from_bytes(t:tobytes(), "u8", shape)
end

local function from_bytes(t, dtype, values_per_row)
    local shape = t:shape()
    shape[#shape] = values_per_row
    return core.from_bytes(t:tobytes(), dtype, shape)
end

--- Saves the state to a safetensors file with the model's fingerprint.
function Session:save_state(path)
    local entries = state_entries(self.states)
    local meta = { format = STATE_FORMAT, version = "1", fingerprint = self.model:fingerprint(),
        position = tostring(self.pos), context = tostring(self.n_ctx) }
    for _, e in ipairs(entries) do   -- the writer reads CPU memory
        if e[2]:device() ~= "cpu" then e[2] = e[2]:to("cpu") end
        if e[2]:dtype() == "q8_0" then
            meta[e[1] .. ".dtype"] = "q8_0"
            e[2] = as_bytes(e[2])
        end
    end
    core.safetensors_save(path, entries, meta)
end

--- Loads a state saved by save_state; refuses a file of another model or context size.
function Session:load_state(path)
    local tensors, meta = core.safetensors_load(path)
    if meta.format ~= STATE_FORMAT then
        error(("%s: not a bitttt session state (format '%s')"):format(path, tostring(meta.format)), 2)
    end
    local want = self.model:fingerprint()
    if meta.fingerprint ~= want then
        error(("%s: the state was saved from another model (fingerprint %s; this model's is %s)"):format(
            path, tostring(meta.fingerprint), want), 2)
    end
    local pos = tonumber(meta.position)
    if not pos or pos < 0 or pos > self.n_ctx or pos ~= math.floor(pos) then
        error(("%s: position %s does not fit a context of %s"):format(path, tostring(meta.position), tostring(self.n_ctx)), 2)
    end
    local entries = state_entries(self.states)
    local layers = self.model.w.layers
    for name, t in pairs(tensors) do
        local dtype = meta[name .. ".dtype"]
        if dtype == "q8_0" and t:dtype() == "u8" and #t:shape() >= 1 and t:shape()[#t:shape()] % 34 == 0 then
            tensors[name] = from_bytes(t, dtype, t:shape()[#t:shape()] / 34 * 32)
        end
    end
    for _, e in ipairs(entries) do   -- check everything before changing anything
        local t = tensors[e[1]]
        local want_shape, got_shape = table.concat(e[2]:shape(), ", "), t and table.concat(t:shape(), ", ")
        if not t then error(("%s: missing state tensor '%s'"):format(path, e[1]), 2) end
        local mixer, state = layers[e[3]].mixer, self.states[e[3]]
        e.replace = want_shape ~= got_shape and mixer.accepts_state and mixer:accepts_state(state, e[4], t, pos)
        if not e.replace and (want_shape ~= got_shape or t:dtype() ~= e[2]:dtype()) then
            error(("%s: state tensor '%s' is %s [%s], this session needs %s [%s] (context %s when saved, %s now)"):format(
                path, e[1], t:dtype(), got_shape, e[2]:dtype(), want_shape, tostring(meta.context), tostring(self.n_ctx)), 2)
        end
    end
    for _, e in ipairs(entries) do
        local t = tensors[e[1]]
        if e.replace then   -- a KV cache of another capacity: it becomes this session's, on the layer's device
            self.states[e[3]][e[4]] = e[2]:device() == "cpu" and t or t:to(e[2]:device())
        else
            e[2]:copy(t)
        end
    end
    self.pos = pos
    self.unusable = nil
end

-- Text generation with the model's recommended sampling (bitttt.generation):
-- model:generate(prompt, opts) in a session of its own, session:generate([prompt,] opts).
function Session:generate(prompt, opts) return require("bitttt.generation").generate(self, prompt, opts) end

function Decoder:generate(prompt, opts)
    local Generation = require "bitttt.generation"
    prompt, opts = Generation.arguments(prompt, opts)
    if type(opts) ~= "table" then Generation.fail("generate: options must be a table, got " .. type(opts)) end
    local n_ctx = opts.n_ctx
    local s = self.generate_session
    if not s or (n_ctx and s.n_ctx ~= n_ctx) then
        s = self:new_session { n_ctx = n_ctx }
        self.generate_session = s
    end
    s:reset()
    return s:generate(prompt or "", opts)
end

Decoder.Session = Session
return Decoder
