-- mixers/fastweight.lua - the original Bit-TTT engine's `fastweight` layer, kept
-- for compatibility with its models (see kernels/cpu/ttt_fastweight.h):
--
--   k_j = normalize(h_j Wdown^T)       [m, ds]   ds = d / 4 in Bit-TTT models
--   p_j = W k_j; W <- W - eta_j (p_j - k_j) k_j^T, one token at a time
--   out = p Wup^T                       [m, d]
--
-- eta_j = inner_lr * m_j (m_j: the schedule; step = the token's position). Its
-- inner loss reconstructs k from k itself: it is not an associative memory.
-- Weights: down [ds, d], up [d, ds]. State per session: W [ds, ds] f32, zero at the start.
local core = require "bitttt.core"
local S = require "bitttt.schedules"

local FastWeight = {}
FastWeight.__index = FastWeight
FastWeight.kind = "fastweight"
FastWeight.weight_names = { "down", "up" }

--- Runs on the CPU until op_fastweight (runtime/ops_ttt.c) dispatches to a CUDA kernel.
function FastWeight.gpu_unsupported()
    return "fastweight: op_fastweight runs on the CPU only (no CUDA dispatch yet)"
end

--- FastWeight.new{ down=, up=, dim=, inner_lr=, act_quant= }
function FastWeight.new(p)
    local self = setmetatable({}, FastWeight)
    for k, v in pairs(p) do self[k] = v end
    self.work = {}   -- the eta buffer, grown on demand
    return self
end

function FastWeight:state_bytes()
    return self.dim * self.dim * 4
end

function FastWeight:new_state()
    return { W = core.empty({ self.dim, self.dim }, "f32") }
end

function FastWeight:reset_state(state)
    state.W:fill(0)
end

function FastWeight:scratch_widths()
    return { fw_k = self.dim, fw_p = self.dim }
end

local function position(pos) return pos end

--- out [m, d] over h [m, d] at positions pos0 ..; learning: the session's lr / schedule.
function FastWeight:forward(state, out, h, buf, _, pos0, learning)
    local m = h:shape()[1]
    local w = self.work
    if not w.eta or w.eta:shape()[1] < m then
        w.eta, w.views = core.empty({ m }, "f32"), {}
    end
    local eta = w.views[m]
    if not eta then
        eta = w.eta:narrow(1, 1, m)
        w.views[m] = eta
    end
    learning = learning or {}
    local lr = learning.lr or self.inner_lr
    if learning.schedule then
        S.fill(eta, learning.schedule, m, pos0, self.layer_index, position)
        core.op_scale(eta, eta, lr)
    else
        eta:fill(lr)
    end
    core.op_linear(buf.fw_k, self.down, h, self.act_quant)
    core.op_fastweight(buf.fw_p, state.W, buf.fw_k, eta)
    core.op_linear(out, self.up, buf.fw_p, self.act_quant)
end

return FastWeight
