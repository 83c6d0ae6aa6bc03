-- hf_bitnet_fixture.lua - Hugging Face BitNetForCausalLM safetensors folders
-- written from the BitNet reference fixture's F32 GGUF (spec/bitnet_fixture.lua),
-- shared by hf_bitnet_spec.lua and capi_parity_spec.lua.
local bt = require "bitttt"
local helper = require "helper"

local M = {}

-- the fixture's GGUF names within a block -> transformers' names within model.layers.N
local hf_layer_names = {
    attn_norm = "input_layernorm", attn_q = "self_attn.q_proj", attn_k = "self_attn.k_proj",
    attn_v = "self_attn.v_proj", attn_output = "self_attn.o_proj", attn_sub_norm = "self_attn.attn_sub_norm",
    ffn_norm = "post_attention_layernorm", ffn_gate = "mlp.gate_proj", ffn_up = "mlp.up_proj",
    ffn_down = "mlp.down_proj", ffn_sub_norm = "mlp.ffn_sub_norm",
}

-- config.json of the fixture as transformers' BitNetConfig; linear_class "bitlinear" or "autobitlinear"
function M.config_json(linear_class)
    return ([[{"architectures": ["BitNetForCausalLM"], "model_type": "bitnet",
  "hidden_size": 256, "intermediate_size": 768, "num_hidden_layers": 3,
  "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512,
  "max_position_embeddings": 256, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
  "hidden_act": "relu2", "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "bos_token_id": 1, "eos_token_id": 2,
  "quantization_config": {"quant_method": "bitnet", "linear_class": "%s", "quantization_mode": "offline"}}
]]):format(linear_class)
end

-- How a projection W (ternary, +1 worth s) is stored: a list of {name suffix, tensor}.
local projection_forms = {
    -- transformers' BitLinear: packed codes, and it divides by weight_scale
    bitlinear = function(w)
        local packed, s = bt.ternary_to_hf(w)
        return { { "weight", packed }, { "weight_scale", bt.tensor({ 1 / s }) } }
    end,
    -- AutoBitLinear: the same codes, and it multiplies by weight_scale
    autobitlinear = function(w)
        local packed, s = bt.ternary_to_hf(w)
        return { { "weight", packed }, { "weight_scale", bt.tensor({ s }) } }
    end,
    -- float master weights, no weight_scale: W * s / mean|W|, whose absmean quantization
    -- (mean = s, W / mean = +-1/frac_nonzero rounds and clamps to +-1) gives back the codes and s
    float = function(w)
        local _, s = bt.ternary_to_hf(w)
        local _, mean = bt.ternary_quantize(w)
        local master = bt.zeros(w:shape())
        bt.op_scale(master, w, s / mean)
        return { { "weight", master } }
    end,
}

-- Writes folder/model.safetensors from the F32 fixture with projections in `form`
-- (leaving out the tensor named `drop`, if given).
function M.write_checkpoint(folder, src, form, drop)
    local entries = {}
    for _, name in ipairs(src:tensor_names()) do
        local l, short = name:match("^blk%.(%d+)%.([%w_]+)%.weight$")
        local t = src:tensor(name)
        if not l then
            local hf = ({ ["token_embd.weight"] = "model.embed_tokens.weight", ["output_norm.weight"] = "model.norm.weight" })[name]
            entries[#entries + 1] = { assert(hf, name), t }
        elseif short:match("norm$") then
            entries[#entries + 1] = { "model.layers." .. l .. "." .. hf_layer_names[short] .. ".weight", t }
        else
            for _, e in ipairs(projection_forms[form](t)) do
                entries[#entries + 1] = { "model.layers." .. l .. "." .. hf_layer_names[short] .. "." .. e[1], e[2] }
            end
        end
    end
    for i = #entries, 1, -1 do
        if entries[i][1] == drop then table.remove(entries, i) end
    end
    os.execute("mkdir -p " .. helper.quote(folder))
    bt.safetensors_save(folder .. "/model.safetensors", entries, { format = "pt" })
end

--- A folder (created under `dir`) with model.safetensors in `form` and its config.json.
function M.folder(dir, src, form, linear_class)
    local folder = ("%s/%s-%s"):format(dir, form, linear_class)
    if not helper.exists(folder .. "/config.json") then
        M.write_checkpoint(folder, src, form)
        helper.write_file(folder .. "/config.json", M.config_json(linear_class))
    end
    return folder
end

return M
