-- mixers/attention.lua - causal grouped-query self-attention with a KV cache.
--
-- Weights (numpy shapes): wq [n_head*hd, d], wk and wv [n_head_kv*hd, d],
-- wo [d, n_head*hd]; optional sub_norm [n_head*hd] (BitNet's attn_sub_norm,
-- applied to the concatenated heads before wo).
-- State per session: k_cache, v_cache [n_head_kv, n_ctx, hd] f32, on the
-- layer's device (self.device, set when the model is placed; the CPU by default).
local core = require "bitttt.core"
local Kinds = require "bitttt.kinds"

local Attention = {}
Attention.__index = Attention
Attention.kind = "attention"
Attention.weight_names = { "wq", "wk", "wv", "wo", "sub_norm" }

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

--- Bytes of state one session needs at context n_ctx.
function Attention:state_bytes(n_ctx)
    return 2 * self.n_head_kv * n_ctx * self.head_dim * 4
end

--- A fresh state for one session (KV cache sized to n_ctx), zeroed.
function Attention:new_state(n_ctx)
    local shape, device = { self.n_head_kv, n_ctx, self.head_dim }, self.device or "cpu"
    local state = { k_cache = core.empty(shape, "f32", device), v_cache = core.empty(shape, "f32", device), n_ctx = n_ctx }
    if device ~= "cpu" then self:reset_state(state) end   -- device memory starts undefined
    return state
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

function Attention:reset_state(state)
    state.k_cache:fill(0)
    state.v_cache:fill(0)
end

--- Scratch buffers this mixer needs for a batch of up to `rows` tokens: {name -> width}.
function Attention:scratch_widths()
    return { q = self.q_dim, k = self.kv_dim, v = self.kv_dim, att = self.q_dim }
end

--- out [m, d] = attention over h [m, d] for positions pos0 .. pos0+m-1.
-- buf: scratch views for this m (q, k, v, att); pos: i32 [m] positions.
function Attention:forward(state, out, h, buf, pos, pos0)
    local aq = self.act_quant
    core.op_linear_group({ buf.q, buf.k, buf.v }, { self.wq, self.wk, self.wv }, h, aq)
    core.op_rope(buf.q, pos, self.n_head, self.head_dim, self.rope_dim, self.rope_theta, self.rope_style)
    core.op_rope(buf.k, pos, self.n_head_kv, self.head_dim, self.rope_dim, self.rope_theta, self.rope_style)
    core.op_attention(buf.att, buf.q, buf.k, buf.v, state.k_cache, state.v_cache, pos0, self.n_head, self.scale)
    if self.sub_norm then core.op_rmsnorm(buf.att, buf.att, self.sub_norm, self.eps) end
    core.op_linear(out, self.wo, buf.att, aq)
end

return Attention
