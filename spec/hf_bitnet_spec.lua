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
local hf = require "hf_bitnet_fixture"

local dir, tf_ids = fixture.dir, fixture.tf_ids
local read_logits, max_diff, write_file = fixture.read_logits, fixture.max_diff, helper.write_file
local F32_CACHE = { kv_type = "f32" }   -- the reference logits were computed with f32 KV caches

local config_json, write_checkpoint = hf.config_json, hf.write_checkpoint

describe("Hugging Face BitNetForCausalLM safetensors (reference fixture)", function()
    local tmp = helper.tmpdir()
    local src
    local function source()
        src = src or bt.model_open(fixture.f32_file())
        return src
    end
    -- folder name -> { projection form, linear_class in config.json }
    local function checkpoint(form, linear_class) return hf.folder(tmp, source(), form, linear_class) end
    teardown(function() helper.rmdir(tmp) fixture.cleanup() end)

    it("packed weights with BitLinear's weight_scale (divided by) match numpy actq8 within 1e-3 and the TQ2_0 GGUF", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local model = Model.load(checkpoint("bitlinear", "bitlinear"), F32_CACHE)
        assert.equals("bitnet-hf", model.arch)
        assert.equals(512, model.cfg.n_vocab)
        local rows = model:new_session {}:forward(tf_ids, "all")
        local worst = max_diff(rows, read_logits("numpy-f64-relu2-actq8-tf14.logits.f32"))
        assert.is_true(worst <= 1e-3, ("max |diff| to numpy actq8 %g"):format(worst))
        local gguf = Model.load(helper.data_file(dir .. "bitnet-s4321-tq2_0.gguf"), F32_CACHE):new_session {}:forward(tf_ids, "all")
        local ref = bt.zeros({ #gguf, 512 })
        for r = 1, #gguf do for j = 1, 512 do ref[{ r, j }] = gguf[r][j] end end
        worst = max_diff(rows, ref)
        assert.is_true(worst <= 1e-4, ("max |diff| to the TQ2_0 GGUF %g"):format(worst))
    end)

    it("applies weight_scale in the direction the config's linear class does; the other direction fails", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local ref = read_logits("numpy-f64-relu2-actq8-tf14.logits.f32")
        local auto = checkpoint("autobitlinear", "autobitlinear")
        local worst = max_diff(Model.load(auto, F32_CACHE):new_session {}:forward(tf_ids, "all"), ref)
        assert.is_true(worst <= 1e-3, ("AutoBitLinear (multiplied by): max |diff| %g"):format(worst))
        -- the same file read as BitLinear divides by s instead of multiplying: far off
        local wrong = tmp .. "/wrong-direction"
        os.execute(("mkdir -p %s && ln -sf %s %s"):format(helper.quote(wrong),
            helper.quote(auto .. "/model.safetensors"), helper.quote(wrong .. "/model.safetensors")))
        write_file(wrong .. "/config.json", config_json("bitlinear"))
        worst = max_diff(Model.load(wrong, F32_CACHE):new_session {}:forward(tf_ids, "all"), ref)
        assert.is_true(worst > 0.5, ("wrong direction: max |diff| only %g"):format(worst))
    end)

    it("float master weights (no weight_scale) are quantized with the absmean rule", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local model = Model.load(checkpoint("float", "bitlinear"), F32_CACHE)
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
