-- models/hf_bitnet.lua - Hugging Face transformers' BitNetForCausalLM (BitNet
-- b1.58, e.g. microsoft/bitnet-b1.58-2B-4T) from a safetensors folder
-- (model.safetensors + config.json), run on the graph of models/bitnet.lua.
--
-- The checkpoint is shown to bitnet.lua as a file with GGUF tensor names
-- (model.layers.N.self_attn.q_proj.weight -> blk.N.attn_q.weight, ...) and
-- its config.json as GGUF-style metadata. The seven projections of a layer
-- become TQ2_0 at load; in_features must be a multiple of 256:
--   * uint8 [out/4, in] packed by transformers' pack_weights, with a
--     one-element `weight_scale`: transformers' BitLinear divides by it (a +1
--     weight is worth 1 / weight_scale); quantization_config.linear_class
--     "autobitlinear" multiplies instead. Converted row by row in C
--     (core.ternary_from_hf); the mmapped original is not read again.
--   * bf16/f16/f32 [out, in] master weights with no weight_scale (the -bf16
--     release, transformers' online quantization): quantized once with the
--     BitNet absmean rule (bt.ternary_quantize, as transformers' WeightQuant
--     does at each forward), then packed. This holds one f32 copy of that
--     matrix while it is converted.
-- TQ2_0 keeps a +1 weight's value as an f16 per block (relative rounding
-- <= 2^-11). Embedding, norms and lm_head are used as stored (lm_head, like
-- the embedding, is never quantized; tie_word_embeddings picks the embedding).
-- RoPE: transformers' rotate_half on q/k as stored = NeoX pairs (i, i + head_dim/2).
local core = require "bitttt.core"
local bitnet = require "bitttt.models.bitnet"

local M = {}

local arch = "bitnet-b1.58"   -- the GGUF architecture whose graph and keys are used

-- GGUF name within a block -> transformers' name within model.layers.N
local layer_names = {
    ["attn_norm.weight"] = "input_layernorm.weight",
    ["attn_q.weight"] = "self_attn.q_proj.weight",
    ["attn_k.weight"] = "self_attn.k_proj.weight",
    ["attn_v.weight"] = "self_attn.v_proj.weight",
    ["attn_output.weight"] = "self_attn.o_proj.weight",
    ["attn_sub_norm.weight"] = "self_attn.attn_sub_norm.weight",
    ["ffn_norm.weight"] = "post_attention_layernorm.weight",
    ["ffn_gate.weight"] = "mlp.gate_proj.weight",
    ["ffn_up.weight"] = "mlp.up_proj.weight",
    ["ffn_down.weight"] = "mlp.down_proj.weight",
    ["ffn_sub_norm.weight"] = "mlp.ffn_sub_norm.weight",
}
local projections = { q_proj = true, k_proj = true, v_proj = true, o_proj = true,
    gate_proj = true, up_proj = true, down_proj = true }

-- A config.json value; `default` when absent (nil default: required).
local function config(file, cfg, key, default)
    local v = cfg[key]
    if v == nil then v = default end
    if v == nil then error(("%s: config.json lacks '%s'"):format(file:path(), key), 0) end
    return v
end

local function unsupported(file, what)
    error(("%s: config.json: %s is not supported"):format(file:path(), what), 0)
end

--- GGUF-style metadata (under "bitnet-b1.58.") from a BitNetConfig, and how
-- weight_scale is applied ("divides" or "multiplies").
function M.metadata(file, cfg)
    local quant = cfg.quantization_config or {}
    if quant.use_rms_norm then unsupported(file, "quantization_config.use_rms_norm = true") end
    if cfg.rope_scaling ~= nil then unsupported(file, "rope_scaling") end
    if cfg.attention_bias then unsupported(file, "attention_bias = true") end
    local act = config(file, cfg, "hidden_act", "relu2")
    if act ~= "relu2" and act ~= "silu" then unsupported(file, ("hidden_act '%s' (relu2 or silu expected)"):format(act)) end
    local d, heads = config(file, cfg, "hidden_size"), config(file, cfg, "num_attention_heads")
    if cfg.head_dim ~= nil and cfg.head_dim * heads ~= d then
        unsupported(file, ("head_dim %d with hidden_size %d and %d heads"):format(cfg.head_dim, d, heads))
    end
    local p = arch .. "."
    local meta = {
        ["general.architecture"] = arch,
        [p .. "embedding_length"] = d,
        [p .. "block_count"] = config(file, cfg, "num_hidden_layers"),
        [p .. "attention.head_count"] = heads,
        [p .. "attention.head_count_kv"] = config(file, cfg, "num_key_value_heads", heads),
        [p .. "feed_forward_length"] = config(file, cfg, "intermediate_size"),
        [p .. "context_length"] = config(file, cfg, "max_position_embeddings", 2048),
        [p .. "attention.layer_norm_rms_epsilon"] = config(file, cfg, "rms_norm_eps", 1e-5),
        [p .. "rope.freq_base"] = config(file, cfg, "rope_theta", 500000),
        [p .. "hidden_activation"] = act,
    }
    return meta, quant.linear_class == "autobitlinear" and "multiplies" or "divides"
end

-- The checkpoint seen under GGUF names: path(), has_tensor(name), tensor(name).
local View = {}
View.__index = View

function View:hf_name(name)
    local l, rest = name:match("^blk%.(%d+)%.(.+)$")
    if l then return layer_names[rest] and ("model.layers." .. l .. "." .. layer_names[rest]) end
    if name == "output.weight" then return not self.tied and "lm_head.weight" or nil end
    return ({ ["token_embd.weight"] = "model.embed_tokens.weight", ["output_norm.weight"] = "model.norm.weight" })[name]
end

function View:path() return self.file:path() end

function View:has_tensor(name)
    local hf = self:hf_name(name)
    return hf ~= nil and self.file:has_tensor(hf)
end

-- A projection as TQ2_0 from its packed or float form (see the header).
function View:ternary(name)
    local file = self.file
    local w = file:tensor(name)
    local scale_name = name:gsub("weight$", "weight_scale")
    local out
    if w:dtype() == "u8" then
        if not file:has_tensor(scale_name) then error("a packed weight needs its '" .. scale_name .. "'", 0) end
        out = core.ternary_from_hf(w, file:tensor(scale_name), self.scale_use)
    elseif file:has_tensor(scale_name) then
        error(("a %s weight with a weight_scale (expected uint8 packed, or no weight_scale)"):format(w:dtype()), 0)
    else
        local f32 = w:to("f32")
        local values = core.ternary_quantize(f32)
        f32:free()
        out = core.ternary_pack(values, "tq2_0")
        values:free()
    end
    w:free()
    return out
end

function View:tensor(name)
    local hf = self:hf_name(name)
    if not hf then error(("%s: no checkpoint tensor for '%s'"):format(self.file:path(), name), 0) end
    if not projections[hf:match("%.([%w_]+)%.weight$") or ""] then return self.file:tensor(hf) end
    local ok, out = pcall(self.ternary, self, hf)
    if not ok then error(("%s: tensor '%s': %s"):format(self.file:path(), hf, tostring(out)), 0) end
    return out
end

function M.build(file, meta, opts)
    local gguf_meta, scale_use = M.metadata(file, meta)
    local view = setmetatable({ file = file, scale_use = scale_use,
        tied = config(file, meta, "tie_word_embeddings", false) }, View)
    if not view.tied and not file:has_tensor("lm_head.weight") then
        error(("%s: missing tensor 'lm_head.weight' (config.json tie_word_embeddings is false)"):format(file:path()), 0)
    end
    local ok, model = pcall(bitnet.build, view, gguf_meta, opts)
    if not ok then   -- name tensors as the checkpoint does
        error((tostring(model):gsub("'([%w_.]+%.weight)'", function(n) return "'" .. (view:hf_name(n) or n) .. "'" end)), 0)
    end
    return model
end

return M
