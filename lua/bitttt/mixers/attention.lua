-- mixers/attention.lua - causal grouped-query self-attention with a KV cache.
--
-- Weights (numpy shapes): wq [n_head*hd, d], wk and wv [n_head_kv*hd, d],
-- wo [d, n_head*hd]; optional sub_norm [n_head*hd] (BitNet's attn_sub_norm,
-- applied to the concatenated heads before wo).
-- State per session: k_cache, v_cache [n_head_kv, capacity, hd] of the session's
-- KV type (f16 by default; f32 or q8_0), on the layer's device (self.device, set
-- when the model is placed; the CPU by default). The cache grows as the context
-- is used: it starts at Attention.initial_capacity positions (or the context, if
-- smaller) and doubles, up to the session's context, when a forward needs more.
-- Positions at and past the session's position are never read, so a reset or a
-- rewind only moves the position.
local core = require "bitttt.core"
local Kinds = require "bitttt.kinds"

local Attention = {}
Attention.__index = Attention
Attention.kind = "attention"
Attention.keeps_cache = true   -- its state grows with the context (Decoder:default_context)
Attention.weight_names = { "wq", "wk", "wv", "wo", "sub_norm" }
Attention.initial_capacity = 256

--- Bytes one cached value takes in each KV type (q8_0: 34 bytes per block of 32).
Attention.kv_value_bytes = { f32 = 4, f16 = 2, q8_0 = 34 / 32 }

--- Attention.new{ wq=, wk=, wv=, wo=, sub_norm=?, n_head=, n_head_kv=, head_dim=,
---   rope_dim=, rope_theta=, rope_style="interleaved"|"neox", eps= (for sub_norm),
---   act_quant= (BitLinear: per-token int8 activations into every projection) }
function Attention.new(p)
    Kinds.check("attention: rope_style", p.rope_style, Kinds.rope_styles)
    local self = setmetatable({}, Attention)
    for k, v in pairs(p) do self[k] = v end
    self.q_dim = p.n_head * p.head_dim
    self.kv_dim = p.n_head_kv * p.head_dim
    self.scale = 1 / math.sqrt(p.head_dim)
    return self
end

local function check_kv_type(self, kv_type)
    if not Attention.kv_value_bytes[kv_type] then
        error(("KV cache type '%s': expected f16, f32 or q8_0"):format(tostring(kv_type)), 0)
    end
    if kv_type == "q8_0" and self.head_dim % 32 ~= 0 then
        error(("KV cache type q8_0 needs a head size that is a multiple of 32; this model's is %d (use f16 or f32)"):format(
            self.head_dim), 0)
    end
end

--- Bytes of state one session needs with n_ctx positions cached (kv_type default f16).
function Attention:state_bytes(n_ctx, kv_type)
    return 2 * self.n_head_kv * n_ctx * self.head_dim * Attention.kv_value_bytes[kv_type or "f16"]
end

local function new_caches(self, capacity, kv_type)
    local shape, device = { self.n_head_kv, capacity, self.head_dim }, self.device or "cpu"
    return core.empty(shape, kv_type, device), core.empty(shape, kv_type, device)
end

--- A fresh state for one session: caches for up to n_ctx positions of kv_type (default f16),
-- allocated for the first few and grown as they are used.
function Attention:new_state(n_ctx, kv_type)
    kv_type = kv_type or "f16"
    check_kv_type(self, kv_type)
    local state = { n_ctx = n_ctx, kv_type = kv_type }
    state.k_cache, state.v_cache = new_caches(self, math.min(n_ctx, Attention.initial_capacity), kv_type)
    return state
end

--- Positions the state's caches hold now.
function Attention.capacity(state)
    return state.k_cache:shape()[2]
end

--- Grows the caches (doubling, at most to the context) to hold n positions, keeping
-- the first `keep` of each kv head.
function Attention:reserve(state, n, keep)
    local capacity = Attention.capacity(state)
    if n <= capacity then return end
    local grown = capacity
    while grown < n do grown = grown * 2 end
    grown = math.min(grown, state.n_ctx)
    local k, v = new_caches(self, grown, state.kv_type)
    keep = math.min(keep, capacity)   -- rows past the old capacity were never written (a position set by hand)
    if keep > 0 then
        for g = 1, self.n_head_kv do   -- a kv head's first rows are contiguous in both
            k:select(1, g):narrow(1, 1, keep):copy(state.k_cache:select(1, g):narrow(1, 1, keep))
            v:select(1, g):narrow(1, 1, keep):copy(state.v_cache:select(1, g):narrow(1, 1, keep))
        end
    end
    state.k_cache:free()
    state.v_cache:free()
    state.k_cache, state.v_cache = k, v
end

--- A state tensor loaded from a file may be shorter or longer than this session's
-- caches: any capacity from the saved position to the context will do.
function Attention:accepts_state(state, field, t, pos)
    if field ~= "k_cache" and field ~= "v_cache" then return false end
    local s = t:shape()
    return t:dtype() == state.kv_type and #s == 3 and s[1] == self.n_head_kv and s[3] == self.head_dim
        and s[2] >= pos and s[2] <= state.n_ctx
end

--- nil when this layer's kernels exist on device (its head shape, its weights' dtypes), else why not.
function Attention:gpu_unsupported(device)
    local why = core.attention_unsupported(self.n_head, self.n_head_kv, self.head_dim, self.rope_dim, device)
    if why then return "attention: " .. why end
    for _, name in ipairs({ "wq", "wk", "wv", "wo" }) do
        why = core.linear_unsupported(self[name], self.act_quant, device)
        if why then return "attention " .. name .. ": " .. why end
    end
    return nil
end

function Attention:reset_state(state) end   -- positions past the session's are never read

--- Scratch buffers this mixer needs for a batch of up to `rows` tokens: {name -> width}.
function Attention:scratch_widths()
    return { q = self.q_dim, k = self.kv_dim, v = self.kv_dim, att = self.q_dim }
end

--- out [m, d] = attention over h [m, d] for positions pos0 .. pos0+m-1.
-- buf: scratch views for this m (q, k, v, att); pos: i32 [m] positions.
function Attention:forward(state, out, h, buf, pos, pos0)
    local aq = self.act_quant
    self:reserve(state, pos0 + h:shape()[1], pos0)
    core.op_linear_group({ buf.q, buf.k, buf.v }, { self.wq, self.wk, self.wv }, h, aq)
    core.op_rope(buf.q, pos, self.n_head, self.head_dim, self.rope_dim, self.rope_theta, self.rope_style)
    core.op_rope(buf.k, pos, self.n_head_kv, self.head_dim, self.rope_dim, self.rope_theta, self.rope_style)
    core.op_attention(buf.att, buf.q, buf.k, buf.v, state.k_cache, state.v_cache, pos0, self.n_head, self.scale)
    if self.sub_norm then core.op_rmsnorm(buf.att, buf.att, self.sub_norm, self.eps) end
    core.op_linear(out, self.wo, buf.att, aq)
end

return Attention
