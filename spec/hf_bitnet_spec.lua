-- hf_bitnet_spec.lua - Hugging Face BitNetForCausalLM safetensors folders
-- (models/hf_bitnet.lua), built at test time from the reference fixture in
-- spec/data/reference/bitnet: the F32 GGUF's ternary matrices packed the
-- way transformers' pack_weights does, its norms and embedding as they are.
-- The fixture's RoPE is NeoX on the stored rows, which is what transformers'
-- rotate_half does on q_proj/k_proj, so q and k are copied without permutation.
local bt = require "bitttt"
local Model = require "bitttt.model"
local helper = require "helper"

local fixture = require "bitnet_fixture"

local dir, tf_ids = fixture.dir, fixture.tf_ids
local read_logits, max_diff, write_file = fixture.read_logits, fixture.max_diff, helper.write_file

-- the fixture's GGUF names within a block -> transformers' names within model.layers.N
local hf_layer_names = {
    attn_norm = "input_layernorm", attn_q = "self_attn.q_proj", attn_k = "self_attn.k_proj",
    attn_v = "self_attn.v_proj", attn_output = "self_attn.o_proj", attn_sub_norm = "self_attn.attn_sub_norm",
    ffn_norm = "post_attention_layernorm", ffn_gate = "mlp.gate_proj", ffn_up = "mlp.up_proj",
    ffn_down = "mlp.down_proj", ffn_sub_norm = "mlp.ffn_sub_norm",
}

-- config.json of the fixture as transformers' BitNetConfig; linear_class "bitlinear" or "autobitlinear"
local function config_json(linear_class)
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
local function write_checkpoint(folder, src, form, drop)
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

describe("Hugging Face BitNetForCausalLM safetensors (reference fixture)", function()
    local tmp = helper.tmpdir()
    local src
    local function source()
        src = src or bt.model_open(fixture.f32_file())
        return src
    end
    -- folder name -> { projection form, linear_class in config.json }
    local function checkpoint(form, linear_class)
        local folder = ("%s/%s-%s"):format(tmp, form, linear_class)
        if not helper.exists(folder .. "/config.json") then
            write_checkpoint(folder, source(), form)
            write_file(folder .. "/config.json", config_json(linear_class))
        end
        return folder
    end
    teardown(function() helper.rmdir(tmp) fixture.cleanup() end)

    it("packed weights with BitLinear's weight_scale (divided by) match numpy actq8 within 1e-3 and the TQ2_0 GGUF", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local model = Model.load(checkpoint("bitlinear", "bitlinear"))
        assert.equals("bitnet-hf", model.arch)
        assert.equals(512, model.cfg.n_vocab)
        local rows = model:new_session {}:forward(tf_ids, "all")
        local worst = max_diff(rows, read_logits("numpy-f64-relu2-actq8-tf14.logits.f32"))
        assert.is_true(worst <= 1e-3, ("max |diff| to numpy actq8 %g"):format(worst))
        local gguf = Model.load(helper.data_file(dir .. "bitnet-s4321-tq2_0.gguf")):new_session {}:forward(tf_ids, "all")
        local ref = bt.zeros({ #gguf, 512 })
        for r = 1, #gguf do for j = 1, 512 do ref[{ r, j }] = gguf[r][j] end end
        worst = max_diff(rows, ref)
        assert.is_true(worst <= 1e-4, ("max |diff| to the TQ2_0 GGUF %g"):format(worst))
    end)

    it("applies weight_scale in the direction the config's linear class does; the other direction fails", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local ref = read_logits("numpy-f64-relu2-actq8-tf14.logits.f32")
        local auto = checkpoint("autobitlinear", "autobitlinear")
        local worst = max_diff(Model.load(auto):new_session {}:forward(tf_ids, "all"), ref)
        assert.is_true(worst <= 1e-3, ("AutoBitLinear (multiplied by): max |diff| %g"):format(worst))
        -- the same file read as BitLinear divides by s instead of multiplying: far off
        local wrong = tmp .. "/wrong-direction"
        os.execute(("mkdir -p %s && ln -sf %s %s"):format(helper.quote(wrong),
            helper.quote(auto .. "/model.safetensors"), helper.quote(wrong .. "/model.safetensors")))
        write_file(wrong .. "/config.json", config_json("bitlinear"))
        worst = max_diff(Model.load(wrong):new_session {}:forward(tf_ids, "all"), ref)
        assert.is_true(worst > 0.5, ("wrong direction: max |diff| only %g"):format(worst))
    end)

    it("float master weights (no weight_scale) are quantized with the absmean rule", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local model = Model.load(checkpoint("float", "bitlinear"))
        local worst = max_diff(model:new_session {}:forward(tf_ids, "all"), read_logits("numpy-f64-relu2-actq8-tf14.logits.f32"))
        assert.is_true(worst <= 1e-3, ("max |diff| %g"):format(worst))
    end)

    it("names the checkpoint's tensors in errors: a missing weight_scale, a shape config.json contradicts", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local no_scale = tmp .. "/no-scale"
        write_checkpoint(no_scale, source(), "bitlinear", "model.layers.1.self_attn.k_proj.weight_scale")
        write_file(no_scale .. "/config.json", config_json("bitlinear"))
        local ok, err = pcall(Model.load, no_scale)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("tensor 'model.layers.1.self_attn.k_proj.weight': a packed weight needs its "
            .. "'model.layers.1.self_attn.k_proj.weight_scale'", 1, true), err)
        write_file(no_scale .. "/config.json", (config_json("bitlinear"):gsub('"intermediate_size": 768', '"intermediate_size": 512')))
        ok, err = pcall(Model.load, no_scale)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("tensor 'model.layers.0.mlp.gate_proj.weight' has shape [768, 256], expected [512, 256]",
            1, true), err)
    end)
end)
