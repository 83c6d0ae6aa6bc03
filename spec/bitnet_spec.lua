-- bitnet_spec.lua - the BitNet b1.58 graph against the reference fixture in
-- ../shared/data/reference/bitnet (llama.cpp's and bitnet.cpp's quantizers, numpy
-- float64 logits), every ternary format, and synthetic models from make-bitnet.lua.
local bt = require "bitttt"
local Model = require "bitttt.model"
local helper = require "helper"

local fixture = require "bitnet_fixture"

local dir, tf_ids = fixture.dir, fixture.tf_ids
local read_logits, max_diff, f32_file = fixture.read_logits, fixture.max_diff, fixture.f32_file
local f32_greedy = { 319, 187, 386, 15, 138, 338, 82, 389, 88, 81, 176, 67, 14, 221, 495, 173, 429 }  -- g0..g16
local quantized_files = { "bitnet-s4321-tq2_0.gguf", "bitnet-s4321-tq1_0.gguf", "bitnet-s4321-i2_s.gguf",
    "bitnet-s4321-tq2_0-arch-bitnet-b1.58.gguf" }

local greedy = fixture.greedy

describe("BitNet b1.58 reference fixture", function()
    teardown(fixture.cleanup)

    it("float activations: F32 file matches numpy float64 within 1e-4 and llama.cpp's 17 strict greedy tokens", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local model = Model.load(f32_file(), { act_quant = false })
        local rows = model:new_session {}:forward(tf_ids, "all")
        assert.is_true(max_diff(rows, read_logits("numpy-f64-relu2-tf14.logits.f32")) <= 1e-4)
        assert.are.same(f32_greedy, greedy(model, { 1, 403, 407, 261, 378 }, 17))
    end)

    it("per-token int8 activations: F32 file and every ternary format match numpy actq8 within 1e-3", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-tq2_0.gguf") then return end
        local ref = read_logits("numpy-f64-relu2-actq8-tf14.logits.f32")
        local paths = { f32_file() }
        for _, f in ipairs(quantized_files) do paths[#paths + 1] = helper.data_file(dir .. f) end
        for _, path in ipairs(paths) do
            local model = Model.load(path)
            local worst = max_diff(model:new_session {}:forward(tf_ids, "all"), ref)
            assert.is_true(worst <= 1e-3, ("%s: max |diff| %g"):format(path, worst))
            -- g0..g4 are strict for any int8 scheme; BitNet's per-token rounding then picks 456 at g5
            assert.are.same({ 319, 187, 386, 15, 138, 456 }, greedy(model, { 1, 403, 407, 261, 378 }, 6))
        end
    end)

    it("quantize.lua applies the BitNet rule (scale mean|W|, round, clamp) and keeps the rest", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local out = os.tmpname()
        local _, err, rc = helper.run_host("quantize.lua", f32_file(), out, "tq1_0")
        assert.equals(0, rc, err)
        local src, q = bt.model_open(f32_file()), bt.model_open(out)
        local w, packed = src:tensor("blk.0.attn_k.weight"), q:tensor("blk.0.attn_k.weight")
        assert.equals("tq1_0", packed:dtype())
        assert.equals("f32", q:tensor("blk.0.attn_norm.weight"):dtype())
        assert.are.same(src:tensor("token_embd.weight"):totable()[7], q:tensor("token_embd.weight"):totable()[7])
        local values = bt.ternary_dequantize(packed)
        local sum = 0
        for i = 1, w:size(1) do for j = 1, w:size(2) do sum = sum + math.abs(w[{ i, j }]) end end
        local scale = sum / w:numel()
        local f16_scale = bt.tensor({ scale }):to("f16"):to("f32")[1]   -- TQ1_0 stores d as f16
        for i = 1, w:size(1) do
            for j = 1, w:size(2) do
                local code = math.max(-1, math.min(1, math.floor(w[{ i, j }] / scale + 0.5)))
                assert.equals(code * f16_scale, values[{ i, j }])
            end
        end
        assert.equals(16, bt.gguf_meta(out)["general.file_type"] - 20)   -- 36 = TQ1_0
        os.remove(out)
    end)

    it("refuses a file whose tensor does not fit the graph, naming file and tensor", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-tq2_0.gguf") then return end
        local meta = bt.gguf_meta(helper.data_file(dir .. "bitnet-s4321-tq2_0.gguf"))
        meta["bitnet.feed_forward_length"] = 512   -- the weights say 768
        local file = bt.model_open(helper.data_file(dir .. "bitnet-s4321-tq2_0.gguf"))
        local ok, err = pcall(require("bitttt.models.bitnet").build, file, meta, {})
        assert.is_false(ok)
        assert.truthy(tostring(err):find("bitnet-s4321-tq2_0.gguf: tensor 'blk.0.ffn_gate.weight' has shape [768, 256], expected [512, 256]", 1, true), err)
    end)
end)

describe("synthetic BitNet models (make-bitnet.lua)", function()
    local tmp = helper.tmpdir()
    teardown(function() helper.rmdir(tmp) end)

    it("F32 (ternary-valued), TQ2_0 and TQ1_0 files give the same greedy tokens", function()
        if helper.skip_without(pending, "tokenizers/ggml-vocab-llama-bpe.gguf") then return end
        local tokens = {}
        for _, t in ipairs({ "f32", "tq2_0", "tq1_0" }) do
            local path = tmp .. "/syn-" .. t .. ".gguf"
            local _, err, rc = helper.run_host("make-bitnet.lua", path, "--type", t, "--seed", "5",
                "--vocab", helper.data_file("tokenizers/ggml-vocab-llama-bpe.gguf"))
            assert.equals(0, rc, err)
            local model = Model.load(path)
            assert.equals(128256, model.cfg.n_vocab)
            tokens[t] = greedy(model, model.tokenizer:encode("The quick brown fox"), 12)
        end
        assert.are.same(tokens.f32, tokens.tq2_0)
        assert.are.same(tokens.f32, tokens.tq1_0)
    end)

    it("chats over two turns, feeding only each turn's new tokens (the KV cache is kept)", function()
        local path = tmp .. "/syn-tq2_0.gguf"
        if not helper.exists(path) then pending("needs the synthetic model of the previous test") return end
        local out, err, rc = helper.run(("printf 'Hello there\\nAnd again\\n' | %s chat.lua -m %s -n 8 --seed 1 --verbose")
            :format(helper.quote(helper.host), helper.quote(path)))
        assert.equals(0, rc, err)
        local turns = {}
        for fed, gen, ctx in err:gmatch("turn: fed (%d+) tokens, generated (%d+) %(%a+%), context (%d+)/") do
            turns[#turns + 1] = { tonumber(fed), tonumber(gen), tonumber(ctx) }
        end
        assert.equals(2, #turns, err)
        -- the context holds each turn's fed tokens and all sampled tokens but the last of each turn
        -- (that one opens the next turn's input): nothing is fed twice
        assert.equals(turns[1][1] + turns[1][2] - 1 + turns[2][1] + turns[2][2] - 1, turns[2][3])
        assert.is_true(turns[2][1] < turns[2][3] - turns[2][2])
        assert.equals(2, select(2, out:gsub("\n", "\n")))
    end)
end)
