-- models/bitnet.lua - BitNet b1.58: the Llama block with BitLinear projections
-- (ternary weights, per-token int8 activations), attn_sub_norm before the
-- output projection, ffn_sub_norm before the down projection, NeoX-style RoPE
-- and a tied embedding head.
--
-- GGUF architectures: `bitnet-b1.58` and `bitnet-25` (BitNet b1.58 2B4T as
-- bitnet.cpp names it: ReLU^2-gated FFN) and `bitnet` (llama.cpp's, for the
-- 1bitLLM reproductions: SiLU-gated unless `bitnet.hidden_activation` says relu2).
--
-- opts.act_quant = false runs the projections on float activations (a float
-- reference; ternary weights still use int8 activations inside their kernels).
local Decoder = require "bitttt.decoder"
local llama = require "bitttt.models.llama"
local W = require "bitttt.weights"

local M = {}

local default_activation = { ["bitnet-b1.58"] = "relu2", ["bitnet-25"] = "relu2", bitnet = "silu" }

function M.build(file, meta, opts)
    local arch = meta["general.architecture"]
    local prefix = arch .. "."
    local hp = llama.hparams(file, meta, prefix)
    local act = meta[prefix .. "hidden_activation"] or default_activation[arch]
    if act ~= "relu2" and act ~= "silu" then
        error(("%s: metadata '%shidden_activation' is '%s', expected relu2 or silu"):format(file:path(), prefix, tostring(act)), 0)
    end
    hp.ffn_act = act
    hp.act_quant = opts.act_quant ~= false
    hp.max_batch = opts.max_batch
    local w = llama.io_weights(file, hp)
    local q_dim = hp.n_head * hp.head_dim
    w.layers = llama.layers(file, hp, { rope_style = "neox", act_quant = hp.act_quant },
        function(p, layer, attn)
            attn.sub_norm = W.tensor(file, p .. "attn_sub_norm.weight", { q_dim })
            layer.ffn_sub_norm = W.tensor(file, p .. "ffn_sub_norm.weight", { hp.n_ff })
        end)
    return Decoder.new(hp, w)
end

return M
