-- mixers/ttt_mlp.lua - TTT-MLP (Sun et al. 2024), ttt-lm-pytorch's TTTMLP layer:
-- TTT-Linear's layer (mixers/ttt_linear.lua: projections, convs, RoPE, learning
-- rates, post-norm, gate, pre_conv, schedules) around an inner model that is a
-- two-layer MLP per head, f(x) = gelu(x W1 + b1) W2 + b2 (kernels/cpu/ttt_mlp.h).
--
-- Weights: those of TTTLinear.new, with W1 [H, hd, F], b1 [H, F], W2 [H, F, hd] and
-- b2 [H, hd] (F = 4 hd in ttt-lm-pytorch) instead of TTT-Linear's W1 and b1.
-- State per session: weights and grads, [H, (hd + 1) F + (F + 1) hd] f32 each (per
-- head [W1; b1] then [W2; b2]), and the conv histories; independent of the context.
-- CPU only: the CUDA kernels are not written yet (the placer keeps these layers on the CPU).
local core = require "bitttt.core"
local TTTLinear = require "bitttt.mixers.ttt_linear"

local TTTMLP = setmetatable({}, { __index = TTTLinear })
TTTMLP.__index = TTTMLP
TTTMLP.kind = "ttt_mlp"

function TTTMLP.gpu_unsupported()
    return "ttt_mlp: no CUDA kernels for TTT-MLP yet (its layers run on the CPU)"
end

--- TTTMLP.new{ the fields of TTTLinear.new, with W1=, b1=, W2=, b2= of the MLP, hidden= (F) }
function TTTMLP.new(p)
    if p.forget and p.forget ~= 1 then error("ttt_mlp: forgetting (forget < 1) is not supported", 2) end
    return TTTLinear.new(p, TTTMLP)
end

--- The initial fast weights: per head [W1; b1] then [W2; b2], [H, (hd + 1) F + (F + 1) hd].
function TTTMLP:initial_state(p)
    local H, hd, F = p.n_head, p.head_dim, p.hidden
    local initial = core.empty({ H, (hd + 1) * F + (F + 1) * hd }, "f32")
    local at = 1
    for _, part in ipairs({ { p.W1, hd * F }, { p.b1, F }, { p.W2, F * hd }, { p.b2, hd } }) do
        initial:narrow(2, at, part[2]):copy(part[1]:reshape({ H, part[2] }))
        at = at + part[2]
    end
    return initial
end

function TTTMLP:scratch_floats(span)
    return core.ttt_mlp_scratch_floats(span, self.n_head, self.head_dim, self.hidden)
end

function TTTMLP:inner(state, z, xq, xk, xv, eta, pos0, ws, learning)
    core.op_ttt_mlp(z, state.weights, state.grads, xq, xk, xv, eta, self:constants().token_scale,
        self.ln_weight, self.ln_bias, self.ln_eps, pos0, self.hidden, ws.scratch, learning.form or "auto")
end

return TTTMLP
