-- head_q8_0_spec.lua - the Q8_0 head: core.quantize_q8_0 (llama.cpp's layout and
-- rounding) against a double-precision reference, Q8_0 matrices in op_linear, and
-- --head q8_0 / quantize.lua --head q8_0 on the BitNet reference fixture.
local bt = require "bitttt"
local Model = require "bitttt.model"
local helper = require "helper"
local fixture = require "bitnet_fixture"

-- one block of a Q8_0 row's bytes: d (as f32) and the 32 q
local function read_block(bytes, row_bytes, i, b)
    local at = (i - 1) * row_bytes + (b - 1) * 34
    local d = bt.from_bytes(bytes:sub(at + 1, at + 2), "f16", { 1 }):to("f32")[1]
    local q = {}
    for j = 1, 32 do
        local v = bytes:byte(at + 2 + j)
        q[j] = v >= 128 and v - 256 or v
    end
    return d, q
end

describe("Q8_0 quantization (ggml layout)", function()
    local seed = helper.seed_random()

    it("follows llama.cpp's rule: d = max|x| / 127 as f16, q = round(x * 127 / max|x|) (seed " .. seed .. ")", function()
        local n, k = math.random(3, 9), 32 * math.random(1, 5)
        local w = bt.zeros({ n, k }):normal_(math.random(1, 1e6), 1)
        for j = 1, 32 do w[{ 1, j }] = 0 end                          -- an all-zero block
        w[{ n, k }] = 1e3 * (math.random() - 0.5)                   -- one block dominated by a value
        for _, dtype in ipairs({ "f32", "f16", "bf16" }) do
            local src = w:to(dtype)
            local values = src:to("f32"):totable()
            local q8 = bt.quantize_q8_0(src)
            assert.equals("q8_0", q8:dtype())
            assert.are.same({ n, k }, q8:shape())
            local bytes, row_bytes = q8:tobytes(), k / 32 * 34
            assert.equals(n * row_bytes, #bytes)
            for i = 1, n do
                for b = 1, k / 32 do
                    local amax = 0
                    for j = 1, 32 do amax = math.max(amax, math.abs(values[i][(b - 1) * 32 + j])) end
                    local d, q = read_block(bytes, row_bytes, i, b)
                    if amax == 0 then
                        assert.equals(0, d)
                        for j = 1, 32 do assert.equals(0, q[j]) end
                    else
                        assert.is_true(math.abs(d - amax / 127) <= amax / 127 * 2 ^ -11 * 1.001, ("d %g for max %g"):format(d, amax))
                        for j = 1, 32 do
                            local exact = values[i][(b - 1) * 32 + j] * 127 / amax
                            assert.is_true(math.abs(q[j] - exact) <= 0.5 + 1e-4 and math.abs(q[j]) <= 127,
                                ("row %d block %d: q %d for %.6f"):format(i, b, q[j], exact))
                        end
                    end
                end
            end
        end
    end)

    it("a Q8_0 matrix multiplies as its stored values d * q (double reference)", function()
        local n, k, m = math.random(5, 40), 32 * math.random(2, 9), math.random(1, 5)
        local w = bt.zeros({ n, k }):normal_(math.random(1, 1e6), 0.3)
        local xs = bt.zeros({ m, k }):normal_(math.random(1, 1e6), 1)
        local q8 = bt.quantize_q8_0(w)
        local y = bt.zeros({ m, n })
        bt.op_linear(y, q8, xs)
        local bytes, row_bytes = q8:tobytes(), k / 32 * 34
        for i = 1, n do
            local dq = {}
            for b = 1, k / 32 do
                local d, q = read_block(bytes, row_bytes, i, b)
                for j = 1, 32 do dq[(b - 1) * 32 + j] = d * q[j] end
            end
            for t = 1, m do
                local ref, mag = 0, 0
                for j = 1, k do ref, mag = ref + dq[j] * xs[{ t, j }], mag + math.abs(dq[j] * xs[{ t, j }]) end
                assert.is_true(math.abs(y[{ t, i }] - ref) <= 1e-5 * mag + 1e-6, ("y[%d, %d] %g, reference %g"):format(t, i, y[{ t, i }], ref))
            end
        end
    end)

    it("refuses rows that are not whole blocks and non-float tensors", function()
        local ok, err = pcall(bt.quantize_q8_0, bt.zeros({ 2, 48 }))
        assert.is_false(ok)
        assert.truthy(tostring(err):find("rows of 48 values; q8_0 needs a multiple of 32", 1, true), err)
        ok, err = pcall(bt.quantize_q8_0, bt.zeros({ 2, 64 }, "i8"))
        assert.is_false(ok)
        assert.truthy(tostring(err):find("expected a contiguous 2-d f32, f16 or bf16 CPU tensor, got i8", 1, true), err)
    end)
end)

describe("--head q8_0 on the BitNet reference fixture", function()
    local dir, tf_ids = fixture.dir, fixture.tf_ids
    teardown(fixture.cleanup)

    -- largest |logit difference| between two models over the teacher-forced rows
    local function logit_diff(a, b)
        local ra, rb = a:new_session {}:forward(tf_ids, "all"), b:new_session {}:forward(tf_ids, "all")
        local worst = 0
        for r = 1, #ra do for j = 1, 512 do worst = math.max(worst, math.abs(ra[r][j] - rb[r][j])) end end
        return worst
    end

    it("keeps the strict greedy tokens of every ternary file (F16 head -> Q8_0)", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-tq2_0.gguf") then return end
        for _, f in ipairs({ "bitnet-s4321-tq2_0.gguf", "bitnet-s4321-tq1_0.gguf", "bitnet-s4321-i2_s.gguf" }) do
            local path = helper.data_file(dir .. f)
            local f16, q8 = Model.load(path, { kv_type = "f32" }), Model.load(path, { head = "q8_0", kv_type = "f32" })   -- the references use f32 caches
            assert.equals("f16", f16.w.output:dtype())
            assert.equals("q8_0", q8.w.output:dtype())
            assert.equals("f16", q8.w.tok_embd:dtype())   -- the input lookup keeps the file's embedding
            local worst = logit_diff(f16, q8)
            assert.is_true(worst > 0 and worst <= 0.1, ("%s: max |dlogit| %g"):format(f, worst))
            -- g0..g4 are strict for any int8 activation scheme (bitnet_spec.lua)
            assert.are.same({ 319, 187, 386, 15, 138 }, fixture.greedy(q8, { 1, 403, 407, 261, 378 }, 5))
        end
    end)

    it("keeps llama.cpp's 17 strict greedy tokens of the F32 file with float activations", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local q8 = Model.load(fixture.f32_file(), { act_quant = false, head = "q8_0", kv_type = "f32" })
        assert.are.same({ 319, 187, 386, 15, 138, 338, 82, 389, 88, 81, 176, 67, 14, 221, 495, 173, 429 },
            fixture.greedy(q8, { 1, 403, 407, 261, 378 }, 17))
    end)

    it("quantize.lua --head q8_0 writes the tied head as output.weight, as the load-time option computes it", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local out = os.tmpname()
        local _, err, rc = helper.run_host("quantize.lua", fixture.f32_file(), out, "tq2_0", "--head", "q8_0")
        assert.equals(0, rc, err)
        local src, q = bt.model_open(fixture.f32_file()), bt.model_open(out)
        assert.equals("q8_0", q:tensor("output.weight"):dtype())
        assert.equals("f32", q:tensor("token_embd.weight"):dtype())
        assert.equals(bt.quantize_q8_0(src:tensor("token_embd.weight")):tobytes(), q:tensor("output.weight"):tobytes())
        local from_file, at_load = Model.load(out), Model.load(out, { head = "q8_0" })
        assert.equals(0, logit_diff(from_file, at_load))
        _, err, rc = helper.run_host("quantize.lua", fixture.f32_file(), out, "--head", "q4_0")
        assert.are_not.equals(0, rc)
        assert.truthy(err:find("--head: expected q8_0, got 'q4_0'", 1, true), err)
        os.remove(out)
    end)

    it("writes the bytes llama.cpp's quantize tool writes, and runs on them as embedding and head", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
        local theirs = helper.read_file(helper.root .. "/spec/data/reference/bitnet/llamacpp-q8_0-token_embd.bin")
        local src = bt.model_open(fixture.f32_file())
        assert.equals(theirs, bt.quantize_q8_0(src:tensor("token_embd.weight")):tobytes())
        -- the fixture's TQ2_0 file with llama.cpp's Q8_0 table as its tied embedding and head
        local path, out = helper.data_file(dir .. "bitnet-s4321-tq2_0.gguf"), os.tmpname()
        local file, tensors = bt.model_open(path), {}
        for _, name in ipairs(file:tensor_names()) do
            tensors[#tensors + 1] = { name, name == "token_embd.weight" and bt.from_bytes(theirs, "q8_0", { 512, 256 }) or file:tensor(name) }
        end
        local meta = {}
        for key in pairs(bt.gguf_meta(path)) do meta[#meta + 1] = { key, "from", path } end
        bt.gguf_write(out, meta, tensors)
        -- f32 caches, as the references': step 1 is a near tie (319 over 489 by 0.005 here) that f16 caches flip
        local model = Model.load(out, { kv_type = "f32" })
        assert.equals("q8_0", model.w.output:dtype())
        assert.are.same({ 319, 187, 386, 15, 138 }, fixture.greedy(model, { 1, 403, 407, 261, 378 }, 5))
        os.remove(out)
    end)

    it("refuses a --head other than q8_0", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-tq2_0.gguf") then return end
        local path = helper.data_file(dir .. "bitnet-s4321-tq2_0.gguf")
        local ok, err = pcall(Model.load, path, { head = "q6_k" })
        assert.is_false(ok)
        assert.truthy(tostring(err):find("--head: expected q8_0, got 'q6_k'", 1, true), err)
    end)
end)
