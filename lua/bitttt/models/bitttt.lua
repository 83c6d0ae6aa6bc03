-- models/bitttt.lua - BitLlama, the model of the Bit-TTT design (GGUF
-- architecture `bitttt`): Llama blocks with BitLinear projections (ternary
-- weights, per-token int8 activations), RMSNorm, SwiGLU, and a mixer per layer
-- chosen by the metadata list `bitttt.mixers`: `attention` (RoPE, GQA, KV
-- cache), `ttt_linear` (TTT-Linear), `ttt_mlp` (TTT-MLP) or `fastweight` (Bit-TTT's rule). Every
-- metadata key and tensor name is documented in docs/bitttt-format.md.
--
-- opts.act_quant = false runs the projections on float activations (ternary
-- weights still quantize activations inside their kernels).
local core = require "bitttt.core"
local Decoder = require "bitttt.decoder"
local Attention = require "bitttt.mixers.attention"
local FastWeight = require "bitttt.mixers.fastweight"
local TTTLinear = require "bitttt.mixers.ttt_linear"
local TTTMLP = require "bitttt.mixers.ttt_mlp"
local llama = require "bitttt.models.llama"
local W = require "bitttt.weights"

local M = {}
local P = "bitttt."

local function attention_layer(file, hp, p)
    local d, hd = hp.n_embd, hp.head_dim
    return Attention.new {
        wq = W.tensor(file, p .. "attn_q.weight", { hp.n_head * hd, d }),
        wk = W.tensor(file, p .. "attn_k.weight", { hp.n_head_kv * hd, d }),
        wv = W.tensor(file, p .. "attn_v.weight", { hp.n_head_kv * hd, d }),
        wo = W.tensor(file, p .. "attn_output.weight", { d, hp.n_head * hd }),
        n_head = hp.n_head, n_head_kv = hp.n_head_kv, head_dim = hd, rope_dim = hp.rope_dim,
        rope_theta = hp.rope_theta, rope_style = "interleaved", eps = hp.rms_eps, act_quant = hp.act_quant,
    }
end

-- The fields TTT-Linear and TTT-MLP layers share (see docs/bitttt-format.md).
local function ttt_fields(file, hp, p)
    local d, H, hd, B, K = hp.n_embd, hp.ttt_n_head, hp.ttt_head_dim, hp.ttt_mini_batch, hp.ttt_conv_kernel
    local width, KP = H * hd, hp.ttt_pre_conv_kernel
    local conv = function(name, shape) return K > 0 and W.tensor(file, p .. name, shape) or nil end
    local pre = function(name, shape) return KP > 0 and W.tensor(file, p .. name, shape) or nil end
    return {
        wq = W.tensor(file, p .. "ttt_q.weight", { width, d }),
        wk = not hp.ttt_share_qk and W.tensor(file, p .. "ttt_k.weight", { width, d }) or nil,
        wv = W.tensor(file, p .. "ttt_v.weight", { width, d }),
        wo = W.tensor(file, p .. "ttt_output.weight", { d, width }),
        wg = hp.ttt_use_gate and W.tensor(file, p .. "ttt_gate.weight", { width, d }) or nil,
        lr_weight = W.tensor(file, p .. "ttt_lr.weight", { H, d }),
        lr_bias = W.tensor(file, p .. "ttt_lr.bias", { H }),
        token_idx = W.tensor(file, p .. "ttt_token_idx", { B }),
        ln_weight = W.tensor(file, p .. "ttt_norm.weight", { H, hd }),
        ln_bias = W.tensor(file, p .. "ttt_norm.bias", { H, hd }),
        post_weight = W.tensor(file, p .. "ttt_post_norm.weight", { width }),
        post_bias = W.tensor(file, p .. "ttt_post_norm.bias", { width }),
        conv_q = conv("ttt_q_conv.weight", { K, width }), conv_q_bias = conv("ttt_q_conv.bias", { width }),
        conv_k = conv("ttt_k_conv.weight", { K, width }), conv_k_bias = conv("ttt_k_conv.bias", { width }),
        pre_norm = pre("ttt_pre_conv_norm.weight", { d }),
        pre_conv = pre("ttt_pre_conv.weight", { KP, d }), pre_conv_bias = pre("ttt_pre_conv.bias", { d }),
        n_head = H, head_dim = hd, mini_batch = B, base_lr = hp.ttt_base_lr, rms_eps = hp.rms_eps,
        rope_theta = hp.ttt_rope_theta, ln_eps = hp.ttt_eps, act_quant = hp.act_quant,
    }
end

-- A layer's forgetting: its learned `ttt_forget` [1] when the file has one, else `ttt.forget`.
local function layer_forget(file, hp, p)
    local t = W.optional(file, p .. "ttt_forget", { 1 })
    if not t then return hp.ttt_forget end
    local v = t:to("f32"):get(1)
    if not (v >= 0 and v <= 1) then
        error(("%s: tensor '%sttt_forget' is %s; expected 0 to 1 (1: no forgetting)"):format(
            file:path(), p, tostring(v)), 0)
    end
    return v
end

local function ttt_linear_layer(file, hp, p)
    local f, H, hd = ttt_fields(file, hp, p), hp.ttt_n_head, hp.ttt_head_dim
    f.W1, f.b1 = W.tensor(file, p .. "ttt_w1", { H, hd, hd }), W.tensor(file, p .. "ttt_b1", { H, hd })
    f.forget = layer_forget(file, hp, p)
    return TTTLinear.new(f)
end

local function ttt_mlp_layer(file, hp, p)
    local f, H, hd, F = ttt_fields(file, hp, p), hp.ttt_n_head, hp.ttt_head_dim, hp.ttt_mlp_width
    if hp.ttt_forget ~= 1 then
        error(("%s: metadata '%sttt.forget' must be 1 for ttt_mlp layers (no forgetting)"):format(file:path(), P), 0)
    end
    f.W1, f.b1 = W.tensor(file, p .. "ttt_w1", { H, hd, F }), W.tensor(file, p .. "ttt_b1", { H, F })
    f.W2, f.b2 = W.tensor(file, p .. "ttt_w2", { H, F, hd }), W.tensor(file, p .. "ttt_b2", { H, hd })
    f.hidden = F
    return TTTMLP.new(f)
end

local function fastweight_layer(file, hp, p)
    local d, ds = hp.n_embd, hp.fw_dim
    return FastWeight.new {
        down = W.tensor(file, p .. "fw_down.weight", { ds, d }),
        up = W.tensor(file, p .. "fw_up.weight", { d, ds }),
        dim = ds, inner_lr = hp.fw_inner_lr, act_quant = hp.act_quant,
    }
end

local mixer_builders = { attention = attention_layer, ttt_linear = ttt_linear_layer, ttt_mlp = ttt_mlp_layer,
    fastweight = fastweight_layer }

-- A conv kernel size key: 0 (no conv) to the op's maximum.
local function conv_kernel(file, meta, key)
    local K = W.meta(file, meta, P .. key, 0)
    if type(K) ~= "number" or K ~= math.floor(K) or K < 0 or K > core.causal_conv_max_kernel then
        error(("%s: metadata '%s%s' is %s; expected an integer from 0 (no conv) to %d"):format(
            file:path(), P, key, tostring(K), core.causal_conv_max_kernel), 0)
    end
    return K
end

-- A bool key, false when absent.
local function flag(file, meta, key)
    local v = W.meta(file, meta, P .. key, false)
    if type(v) ~= "boolean" then
        error(("%s: metadata '%s%s' is %s; expected a bool"):format(file:path(), P, key, tostring(v)), 0)
    end
    return v
end

--- Hyperparameters: the Llama keys under "bitttt." plus the mixer list and their settings.
function M.hparams(file, meta, opts)
    local hp = llama.hparams(file, meta, P)
    local mixers = W.meta(file, meta, P .. "mixers")
    if type(mixers) ~= "table" or #mixers ~= hp.n_layer then
        error(("%s: metadata '%smixers' must list one mixer per layer (%d), got %s"):format(
            file:path(), P, hp.n_layer, type(mixers) == "table" and (#mixers .. " entries") or tostring(mixers)), 0)
    end
    for l, kind in ipairs(mixers) do
        if not mixer_builders[kind] then
            error(("%s: metadata '%smixers' entry %d is '%s'; expected attention, ttt_linear, ttt_mlp or fastweight"):format(
                file:path(), P, l, tostring(kind)), 0)
        end
    end
    hp.mixers = mixers
    hp.ffn_act = "silu"
    hp.act_quant = opts.act_quant ~= false and W.meta(file, meta, P .. "activation_quant", true) ~= false
    hp.ttt_n_head = W.meta_int(file, meta, P .. "ttt.head_count", hp.n_head)
    hp.ttt_head_dim = W.meta_int(file, meta, P .. "ttt.head_dim", hp.n_embd / hp.ttt_n_head)
    hp.ttt_mini_batch = W.meta_int(file, meta, P .. "ttt.mini_batch_size", 16)
    hp.ttt_base_lr = W.meta(file, meta, P .. "ttt.base_lr", 1.0)
    hp.ttt_eps = W.meta_positive(file, meta, P .. "ttt.layer_norm_epsilon", 1e-6)
    hp.ttt_rope_theta = W.meta_positive(file, meta, P .. "ttt.rope.freq_base", hp.rope_theta)
    hp.ttt_forget = W.meta(file, meta, P .. "ttt.forget", 1.0)
    if type(hp.ttt_forget) ~= "number" or not (hp.ttt_forget >= 0 and hp.ttt_forget <= 1) then
        error(("%s: metadata '%sttt.forget' is %s; expected 0 to 1 (1: no forgetting)"):format(
            file:path(), P, tostring(hp.ttt_forget)), 0)
    end
    hp.ttt_conv_kernel = conv_kernel(file, meta, "ttt.conv_kernel")
    hp.ttt_pre_conv_kernel = conv_kernel(file, meta, "ttt.pre_conv_kernel")
    hp.ttt_share_qk = flag(file, meta, "ttt.share_qk")
    hp.ttt_use_gate = flag(file, meta, "ttt.use_gate")
    if hp.ttt_share_qk and hp.ttt_conv_kernel == 0 then
        error(("%s: metadata '%sttt.share_qk' needs '%sttt.conv_kernel' > 0 (the q and k convs)"):format(
            file:path(), P, P), 0)
    end
    hp.ttt_mlp_width = W.meta_int(file, meta, P .. "ttt.mlp_width", 4 * hp.ttt_head_dim)
    hp.fw_dim = W.meta_int(file, meta, P .. "fastweight.dim", math.max(1, math.floor(hp.n_embd / 4)))
    hp.fw_inner_lr = W.meta(file, meta, P .. "fastweight.inner_lr", 0.1)
    return hp
end

function M.build(file, meta, opts)
    local hp = M.hparams(file, meta, opts)
    local d, n_ff = hp.n_embd, hp.n_ff
    local w = llama.io_weights(file, hp)
    w.layers = {}
    for l = 0, hp.n_layer - 1 do
        local p = "blk." .. l .. "."
        local layer = W.ffn(file, p, d, n_ff)
        layer.attn_norm = W.tensor(file, p .. "attn_norm.weight", { d })
        layer.mixer = mixer_builders[hp.mixers[l + 1]](file, hp, p)
        w.layers[l + 1] = layer
    end
    hp.max_batch = opts.max_batch
    return Decoder.new(hp, w)
end

return M
