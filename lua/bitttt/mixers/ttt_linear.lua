-- mixers/ttt_linear.lua - TTT-Linear (Sun et al. 2024), ttt-lm-pytorch's
-- TTTLinear layer with every option of its TTTConfig: conv_q / conv_k
-- (depthwise causal convs over time on the query and key projections: a key can
-- then hold the tokens before its value's, so the fast weights can store "what
-- came next"), share_qk (one projection for both, then the two convs), use_gate
-- and pre_conv. mixers/ttt_mlp.lua is this layer with the MLP inner model.
--
--   [pre_conv: x += conv(rmsnorm(x) * pre_norm) on the residual stream, before the block's norm]
--   XQ, XK, XV = h Wq^T, h Wk^T, h Wv^T             [m, H*hd]   (share_qk: XK = XQ)
--   XQ, XK = conv_q(XQ), conv_k(XK)                  (when the model has them)
--   RoPE on XQ, XK (interleaved pairs) at position % mini_batch
--   eta_j = lr * m_j * sigmoid(h_j . lr_weight[h] + lr_bias[h]) / hd    (m_j: the schedule)
--   Z = TTT inner model (kernels/cpu/ttt_linear.h), per head; after each mini-batch the
--       fast weights keep `forget` of their change from the initial ones (1: no forgetting)
--   out = (post_norm(Z) [* gelu_tanh(h Wg^T)]) Wo^T  (post_norm: LayerNorm over all heads)
--
-- Weights (numpy shapes): wq, wk, wv [H*hd, d], wo [d, H*hd]; lr_weight [H, d];
-- lr_bias [H]; token_idx [B] (learnable_token_idx); ln_weight, ln_bias [H, hd]
-- (the inner LayerNorm); post_weight, post_bias [H*hd]; W1 [H, hd, hd] and b1
-- [H, hd], the initial fast weights (Z = x W1 + b1); optional conv_q, conv_k [K, H*hd]
-- and conv_q_bias, conv_k_bias [H*hd]; wk absent with share_qk (then the convs are
-- required); optional wg [H*hd, d] (use_gate); optional pre_norm [d], pre_conv [K, d] and
-- pre_conv_bias [d] (pre_conv; its RMSNorm has epsilon rms_eps).
-- State per session: weights and grads, [H, hd + 1, hd] f32 each (b as the last
-- row; see ttt_linear.h), and with convs the last K-1 projected queries and keys
-- (conv_q_history, conv_k_history [K-1, H*hd]) and with pre_conv the last K-1 normed
-- inputs (pre_conv_history [K-1, d]); independent of the context length.
-- On a GPU (self.device, set when the model is placed) the state, the token scales,
-- the initial weights and each call's positions and schedule multipliers live there.
local core = require "bitttt.core"
local S = require "bitttt.schedules"

local TTTLinear = {}
TTTLinear.__index = TTTLinear
TTTLinear.kind = "ttt_linear"
TTTLinear.weight_names = { "wq", "wk", "wv", "wo", "lr_weight", "lr_bias", "ln_weight", "ln_bias", "post_weight", "post_bias",
    "conv_q", "conv_k", "conv_q_bias", "conv_k_bias", "wg", "pre_norm", "pre_conv", "pre_conv_bias" }

--- nil when this layer's kernels exist on device (its head size, its weights' dtypes), else why not.
function TTTLinear:gpu_unsupported(device)
    if self.head_dim > 512 then return ("ttt_linear: head size %d (the CUDA kernels take up to 512)"):format(self.head_dim) end
    if self.wg then return "ttt_linear use_gate: the gelu gate runs on the CPU only (no CUDA kernel yet)" end
    if self.pre_conv then return "ttt_linear pre_conv: not yet checked on a GPU (runs on the CPU)" end
    for _, name in ipairs({ "wq", "wk", "wv", "wo" }) do
        local why = self[name] and core.linear_unsupported(self[name], self.act_quant, device)
        if why then return "ttt_linear " .. name .. ": " .. why end
    end
    local why = core.linear_unsupported(self.lr_weight, false, device)
    if why then return "ttt_linear lr_weight: " .. why end
    return nil
end

-- A copy of the CPU tensor t on the layer's device (t itself on the CPU).
local function on_device(t, device)
    if device == "cpu" then return t end
    local copy = core.empty(t:shape(), t:dtype(), device)
    copy:copy(t)
    return copy
end

-- The layer's own constant tensors on its device, made at the first call there.
function TTTLinear:constants()
    local device = self.device or "cpu"
    local c = self.on
    if not c or c.device ~= device then
        c = { device = device, token_scale = on_device(self.token_scale, device), initial = on_device(self.initial, device) }
        self.on = c
    end
    return c
end

--- TTTLinear.new{ wq=, wk=, wv=, wo=, lr_weight=, lr_bias=, token_idx=, ln_weight=, ln_bias=,
---   post_weight=, post_bias=, W1=, b1=, [conv_q=, conv_k=, conv_q_bias=, conv_k_bias=,]
---   [wg=,] [pre_norm=, pre_conv=, pre_conv_bias=, rms_eps=,]
---   n_head=, head_dim=, mini_batch=, base_lr=,
---   rope_theta=, ln_eps= (inner and post LayerNorm, default 1e-6), forget= (default 1),
---   act_quant= (BitLinear: per-token int8 activations into the four projections) }
-- class: the mixer class (TTTLinear; mixers/ttt_mlp.lua passes its own).
function TTTLinear.new(p, class)
    local self = setmetatable({}, class or TTTLinear)
    for k, v in pairs(p) do self[k] = v end
    local H, hd, B = p.n_head, p.head_dim, p.mini_batch
    self.width = H * hd
    self.ln_eps = p.ln_eps or 1e-6
    self.forget = p.forget or 1
    if not p.wk and not p.conv_q then error(self.kind .. ": without wk (share_qk) the conv_q / conv_k are required", 2) end
    -- s_i = max(0, 1/(i+1) + learnable_token_idx[i])
    self.token_scale = core.empty({ B }, "f32")
    for i = 1, B do self.token_scale[i] = math.max(0, 1 / i + p.token_idx[i]) end
    self.initial = self:initial_state(p)
    -- the conv histories of a session's state: name -> shape [K-1, width]
    self.histories = {}
    if p.conv_q and p.conv_q:shape()[1] > 1 then
        local shape = { p.conv_q:shape()[1] - 1, self.width }
        self.histories.conv_q_history, self.histories.conv_k_history = shape, shape
    end
    if p.pre_conv and p.pre_conv:shape()[1] > 1 then
        self.histories.pre_conv_history = { p.pre_conv:shape()[1] - 1, p.pre_conv:shape()[2] }
    end
    self.work = {}   -- see TTTLinear:workspace
    self.step_of = function(pos) return math.floor(pos / B) end   -- a token's inner step: its mini-batch
    return self
end

--- The initial fast weights: [W1; b1] per head, [H, hd + 1, hd].
function TTTLinear:initial_state(p)
    local H, hd = p.n_head, p.head_dim
    local initial = core.empty({ H, hd + 1, hd }, "f32")
    initial:narrow(2, 1, hd):copy(p.W1)
    initial:narrow(2, hd + 1, 1):copy(p.b1:reshape({ H, 1, hd }))
    return initial
end

--- Bytes of state one session needs (any context length).
function TTTLinear:state_bytes()
    local bytes = 2 * self.initial:nbytes()
    for _, shape in pairs(self.histories) do bytes = bytes + 4 * shape[1] * shape[2] end
    return bytes
end

function TTTLinear:new_state()
    local device = self.device or "cpu"
    local state = { weights = core.empty(self.initial:shape(), "f32", device),
                    grads = core.empty(self.initial:shape(), "f32", device) }
    for name, shape in pairs(self.histories) do state[name] = core.empty(shape, "f32", device) end
    self:reset_state(state)   -- device memory starts undefined
    return state
end

function TTTLinear:reset_state(state)
    state.weights:copy(self.initial)
    state.grads:fill(0)
    for name in pairs(self.histories) do state[name]:fill(0) end
end

function TTTLinear:scratch_widths()
    return { ttt_q = self.width, ttt_k = self.width, ttt_v = self.width, ttt_z = self.width, ttt_eta = self.n_head,
             ttt_g = self.wg and self.width or nil }
end

--- Floats of the inner kernels' CPU scratch for spans of up to `span` tokens.
function TTTLinear:scratch_floats(span)
    return core.ttt_linear_scratch_floats(span, self.n_head, self.head_dim)
end

--- pre_conv (the decoder calls it on the residual stream x [m, d] before the block's norm):
-- x += conv(rmsnorm(x) * pre_norm); buf.h serves as scratch.
function TTTLinear:pre_mix(state, x, buf)
    if not self.pre_conv then return end
    core.op_rmsnorm(buf.h, x, self.pre_norm, self.rms_eps)
    core.op_causal_conv(buf.h, state.pre_conv_history, self.pre_conv, self.pre_conv_bias)
    core.op_add(x, x, buf.h)
end

-- Buffers shared by every session of this layer (used within one call only), grown
-- to the largest call seen: RoPE positions, schedule multipliers (filled on the CPU,
-- with copies on the layer's device), the CPU kernels' scratch (a GPU ignores it).
-- Returns views of m rows (cached per m) and the scratch.
function TTTLinear:workspace(m)
    local w, device = self.work, self.device or "cpu"
    if not w.capacity or w.capacity < m or w.device ~= device then
        w.capacity, w.device = math.max(m, w.capacity or 0), device
        w.rope_pos = core.empty({ w.capacity }, "i32")
        w.mult = core.empty({ w.capacity }, "f32")
        w.rope_pos_here = device == "cpu" and w.rope_pos or core.empty({ w.capacity }, "i32", device)
        w.mult_here = device == "cpu" and w.mult or core.empty({ w.capacity }, "f32", device)
        local span = math.min(w.capacity, self.mini_batch)   -- the kernels never see more tokens at once
        w.scratch = core.empty({ self:scratch_floats(span) }, "f32")
        w.views = {}
    end
    local v = w.views[m]
    if not v then
        local on_cpu = w.device == "cpu"   -- then the "here" views are the CPU ones (no copy)
        v = { rope_pos = w.rope_pos:narrow(1, 1, m), mult = w.mult:narrow(1, 1, m), scratch = w.scratch }
        v.rope_pos_here = on_cpu and v.rope_pos or w.rope_pos_here:narrow(1, 1, m)
        v.mult_here = on_cpu and v.mult or w.mult_here:narrow(1, 1, m)
        w.views[m] = v
    end
    return v
end

-- XQ, XK, XV [m, H*hd] (after the convs and RoPE) and eta [m, H] of h [m, d] at positions
-- pos0 .., in buf; and the workspace of m rows.
function TTTLinear:inputs(state, h, buf, pos0, learning)
    local m = h:shape()[1]
    local aq, H, hd, B = self.act_quant, self.n_head, self.head_dim, self.mini_batch
    local ws = self:workspace(m)
    local xq, xk, xv, eta = buf.ttt_q, buf.ttt_k, buf.ttt_v, buf.ttt_eta
    if self.wk then
        core.op_linear_group({ xq, xk, xv }, { self.wq, self.wk, self.wv }, h, aq)
    else   -- share_qk: one projection, then each its own conv
        core.op_linear_group({ xq, xv }, { self.wq, self.wv }, h, aq)
        xk:copy(xq)
    end
    if self.conv_q then
        core.op_causal_conv(xq, state.conv_q_history, self.conv_q, self.conv_q_bias)
        core.op_causal_conv(xk, state.conv_k_history, self.conv_k, self.conv_k_bias)
    end
    for i = 1, m do ws.rope_pos[i] = (pos0 + i - 1) % B end
    if ws.rope_pos_here ~= ws.rope_pos then ws.rope_pos_here:copy(ws.rope_pos) end
    core.op_rope(xq, ws.rope_pos_here, H, hd, hd, self.rope_theta, "interleaved")
    core.op_rope(xk, ws.rope_pos_here, H, hd, hd, self.rope_theta, "interleaved")

    local mult
    if learning.schedule then
        S.fill(ws.mult, learning.schedule, m, pos0, self.layer_index, self.step_of)
        if ws.mult_here ~= ws.mult then ws.mult_here:copy(ws.mult) end
        mult = ws.mult_here
    end
    core.op_linear(eta, self.lr_weight, h)
    core.op_ttt_eta(eta, self.lr_bias, mult, (learning.lr or self.base_lr) / hd)
    return xq, xk, xv, eta, ws
end

-- z [m, H*hd] = the inner model's output (XQ + LN(f(XQ)) per head); updates the state.
function TTTLinear:inner(state, z, xq, xk, xv, eta, pos0, ws, learning)
    local c = self:constants()
    core.op_ttt_linear(z, state.weights, state.grads, xq, xk, xv, eta, c.token_scale,
        self.ln_weight, self.ln_bias, self.ln_eps, pos0, ws.scratch, learning.form or "auto",
        self.forget < 1 and c.initial or nil, self.forget)
end

--- out [m, d] = the layer over h [m, d] at positions pos0 .. pos0+m-1.
-- learning (the session's): lr (overrides base_lr), schedule, form ("auto"|"dual"|"primal").
function TTTLinear:forward(state, out, h, buf, _, pos0, learning)
    learning = learning or {}
    local xq, xk, xv, eta, ws = self:inputs(state, h, buf, pos0, learning)
    local z = buf.ttt_z
    self:inner(state, z, xq, xk, xv, eta, pos0, ws, learning)
    core.op_layernorm(z, z, self.post_weight, self.post_bias, self.ln_eps)
    if self.wg then
        core.op_linear(buf.ttt_g, self.wg, h, self.act_quant)
        core.op_gelu_gate(z, buf.ttt_g)
    end
    core.op_linear(out, self.wo, z, self.act_quant)
end

return TTTLinear
