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
local core = require "bitttt.core"

local Decoder = {}
Decoder.__index = Decoder

--- Decoder.new(cfg, weights)
-- cfg: n_embd, n_vocab, n_ctx_train, rms_eps, ffn_act ("silu"|"relu2"), n_ff,
--      act_quant (BitLinear FFN: per-token int8 activations), max_batch (rows per chunk, default 64)
-- weights: tok_embd [vocab, d], output_norm [d], output [vocab, d] (may be tok_embd),
--      layers[i] = { attn_norm, mixer (object), ffn_norm, ffn_gate, ffn_up, ffn_down, ffn_sub_norm? }
function Decoder.new(cfg, weights)
    local self = setmetatable({ cfg = cfg, w = weights }, Decoder)
    cfg.max_batch = cfg.max_batch or 64
    return self
end

--- Bytes of per-session state at context n_ctx (KV caches, TTT state), summed over layers.
function Decoder:state_bytes(n_ctx)
    local total = 0
    for _, layer in ipairs(self.w.layers) do total = total + layer.mixer:state_bytes(n_ctx) end
    return total
end

local Session = {}
Session.__index = Session

--- A session: its own state and buffers. opts.n_ctx (default: the model's training context).
function Decoder:new_session(opts)
    opts = opts or {}
    local cfg = self.cfg
    local n_ctx = opts.n_ctx or cfg.n_ctx_train
    if n_ctx < 1 then error("context size must be >= 1, got " .. tostring(n_ctx), 2) end
    local s = setmetatable({ model = self, n_ctx = n_ctx, pos = 0, states = {}, views = {} }, Session)
    for l, layer in ipairs(self.w.layers) do s.states[l] = layer.mixer:new_state(n_ctx) end
    -- Scratch: rows of the widths every block needs (mixers may add their own).
    local B = cfg.max_batch
    local widths = { x = cfg.n_embd, h = cfg.n_embd, mix = cfg.n_embd, gate = cfg.n_ff, up = cfg.n_ff }
    for _, layer in ipairs(self.w.layers) do
        for name, width in pairs(layer.mixer:scratch_widths()) do
            widths[name] = math.max(widths[name] or 0, width)
        end
    end
    s.buffers = {}
    for name, width in pairs(widths) do s.buffers[name] = core.empty({ B, width }, "f32") end
    s.buffers.logits = core.empty({ B, cfg.n_vocab }, "f32")
    s.ids = core.empty({ B }, "i32")
    s.positions = core.empty({ B }, "i32")
    return s
end

--- Views of the first m rows of every buffer (cached per m: decode reuses m = 1).
function Session:views_for(m)
    local v = self.views[m]
    if v then return v end
    v = {}
    for name, buf in pairs(self.buffers) do v[name] = buf:narrow(1, 1, m) end
    v.ids = self.ids:narrow(1, 1, m)
    v.positions = self.positions:narrow(1, 1, m)
    self.views[m] = v
    return v
end

function Session:reset()
    self.pos = 0
    for l, layer in ipairs(self.model.w.layers) do layer.mixer:reset_state(self.states[l]) end
end

-- One chunk of at most max_batch tokens starting at self.pos; returns the logits view [m, vocab]
-- (rows needed by `want`: "last" computes only the last row, "all" every row).
function Session:forward_chunk(ids, first, m, want)
    local model, cfg = self.model, self.model.cfg
    local w = model.w
    local v = self:views_for(m)
    for i = 0, m - 1 do
        v.ids[i + 1] = ids[first + i]
        v.positions[i + 1] = self.pos + i
    end
    core.op_get_rows(v.x, w.tok_embd, v.ids)
    local eps = cfg.rms_eps
    for l, layer in ipairs(w.layers) do
        core.op_rmsnorm(v.h, v.x, layer.attn_norm, eps)
        layer.mixer:forward(self.states[l], v.mix, v.h, v, v.positions, self.pos)
        core.op_add(v.x, v.x, v.mix)
        core.op_rmsnorm(v.h, v.x, layer.ffn_norm, eps)
        local aq = cfg.act_quant
        core.op_linear(v.gate, layer.ffn_gate, v.h, aq)
        core.op_linear(v.up, layer.ffn_up, v.h, aq)
        core.op_gated(v.gate, v.gate, v.up, cfg.ffn_act)
        if layer.ffn_sub_norm then core.op_rmsnorm(v.gate, v.gate, layer.ffn_sub_norm, eps) end
        core.op_linear(v.mix, layer.ffn_down, v.gate, aq)
        core.op_add(v.x, v.x, v.mix)
    end
    self.pos = self.pos + m
    if want == "none" then return nil end
    local rows_x, rows_h, logits = v.x, v.h, v.logits
    if want == "last" then
        local last = self:views_for(1)
        rows_x, rows_h, logits = v.x:narrow(1, m, 1), last.h, last.logits
    end
    core.op_rmsnorm(rows_h, rows_x, w.output_norm, eps)
    core.op_linear(logits, w.output, rows_h)
    return logits
end

--- Feeds tokens (a Lua array of ids) at the current position.
-- want = "last" (default): returns the logits of the last token, a [vocab] f32 view;
-- "all": returns a Lua array of [vocab] row tensors (copies), one per token;
-- "none": runs the model for its state only.
-- Prompts go in chunks of max_batch tokens; the context limit is an error.
function Session:forward(ids, want)
    want = want or "last"
    local n = #ids
    if n == 0 then error("forward: no tokens", 2) end
    if self.pos + n > self.n_ctx then
        error(("context full: %d tokens already, %d more, context size %d"):format(self.pos, n, self.n_ctx), 2)
    end
    local B = self.model.cfg.max_batch
    local rows = {}
    local logits
    local first = 1
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
    if want == "last" then return logits:select(1, 1) end
    return nil
end

Decoder.Session = Session
return Decoder
