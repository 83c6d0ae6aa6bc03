-- head_quant_spec.lua - quantized output heads, Q8_0 and Q6_K: core.quantize_q8_0 and
-- quantize_q6_k (llama.cpp's layouts and rules) against double-precision references and
-- the bytes of llama.cpp's own quantize tool, such matrices in op_linear / op_get_rows,
-- and --head / quantize.lua --head on the BitNet reference fixture.
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

-- y[t, i] = sum_j w[j] * xs[t, j] for every token t, against a double-precision sum
local function assert_row_matches(y, xs, i, w)
    for t = 1, xs:size(1) do
        local ref, mag = 0, 0
        for j = 1, #w do ref, mag = ref + w[j] * xs[{ t, j }], mag + math.abs(w[j] * xs[{ t, j }]) end
        assert.is_true(math.abs(y[{ t, i }] - ref) <= 1e-5 * mag + 1e-6, ("y[%d, %d] %g, reference %g"):format(t, i, y[{ t, i }], ref))
    end
end

-- Random [n, k] weights with an all-zero first block and a last block dominated by one
-- value, in each source type: fn(dtype, values (f32, as a Lua table of rows), q (the
-- quantization by `quantize`, checked for its type, shape and size), its bytes, row_bytes).
local function for_each_source_type(n, k, block, block_bytes, quantize, qtype, fn)
    local w = bt.zeros({ n, k }):normal_(math.random(1, 1e6), 1)
    for j = 1, block do w[{ 1, j }] = 0 end
    w[{ n, k }] = 1e3 * (math.random() - 0.5)
    for _, dtype in ipairs({ "f32", "f16", "bf16" }) do
        local src = w:to(dtype)
        local q = quantize(src)
        assert.equals(qtype, q:dtype())
        assert.are.same({ n, k }, q:shape())
        local bytes, row_bytes = q:tobytes(), k / block * block_bytes
        assert.equals(n * row_bytes, #bytes)
        fn(dtype, src:to("f32"):totable(), q, bytes, row_bytes)
    end
end

describe("Q8_0 quantization (ggml layout)", function()
    local seed = helper.seed_random()

    it("follows llama.cpp's rule: d = max|x| / 127 as f16, q = round(x * 127 / max|x|) (seed " .. seed .. ")", function()
        local n, k = math.random(3, 9), 32 * math.random(1, 5)
        for_each_source_type(n, k, 32, 34, bt.quantize_q8_0, "q8_0", function(_, values, _, bytes, row_bytes)
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
        end)
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
            assert_row_matches(y, xs, i, dq)
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

-- The 256 values of the Q6_K block at byte `at` (0-based) of bytes, decoded bit by bit
-- from ggml's layout: d * scale[c / 16] * (code - 32), in double precision.
local function q6_k_values(bytes, at)
    local d = bt.from_bytes(bytes:sub(at + 209, at + 210), "f16", { 1 }):to("f32")[1]
    local v = {}
    for c = 0, 255 do
        local half, quarter, l = math.floor(c / 128), math.floor(c % 128 / 32), c % 32
        local low_byte = bytes:byte(at + 64 * half + 32 * (quarter % 2) + l + 1)
        local low = quarter < 2 and low_byte % 16 or math.floor(low_byte / 16)
        local high = math.floor(bytes:byte(at + 128 + 32 * half + l + 1) / 4 ^ quarter) % 4
        local sc = bytes:byte(at + 192 + math.floor(c / 16) + 1)
        v[c + 1] = d * (sc >= 128 and sc - 256 or sc) * (low + 16 * high - 32)
    end
    return v
end

-- n rows of k / 256 random Q6_K blocks (random codes and scales, a finite d of either sign) and their values
local function random_q6_k(n, k)
    local parts, values = {}, {}
    for i = 1, n do
        values[i] = {}
        for b = 0, k / 256 - 1 do
            local body = {}
            for j = 1, 208 do body[j] = string.char(math.random(0, 255)) end
            local d = bt.zeros({ 1 }):fill((math.random() - 0.5) * 0.004):to("f16"):tobytes()
            local block = table.concat(body) .. d
            parts[#parts + 1] = block
            for c, v in ipairs(q6_k_values(block, 0)) do values[i][256 * b + c] = v end
        end
    end
    return bt.from_bytes(table.concat(parts), "q6_k", { n, k }), values
end

describe("Q6_K (ggml layout)", function()
    local seed = helper.seed_random()

    it("reads its blocks as ggml lays them out: op_get_rows and op_linear against doubles (seed " .. seed .. ")", function()
        local n, k, m = math.random(3, 12), 256 * math.random(1, 4), math.random(1, 5)
        local w, values = random_q6_k(n, k)
        local rows = bt.zeros({ n, k })
        local ids = bt.zeros({ n }, "i32")
        for i = 1, n do ids[i] = i - 1 end
        bt.op_get_rows(rows, w, ids)
        for i = 1, n do
            for j = 1, k do   -- one f32 rounding of d * scale * code
                assert.is_true(math.abs(rows[{ i, j }] - values[i][j]) <= math.abs(values[i][j]) * 2 ^ -23,
                    ("row %d column %d: %g, expected %g"):format(i, j, rows[{ i, j }], values[i][j]))
            end
        end
        local xs = bt.zeros({ m, k }):normal_(math.random(1, 1e6), 1)
        local y = bt.zeros({ m, n })
        bt.op_linear(y, w, xs)
        for i = 1, n do assert_row_matches(y, xs, i, values[i]) end
    end)

    it("quantizes every value to within half its step, codes clamped to -32..31 (seed " .. seed .. ")", function()
        local n, k = math.random(2, 6), 256 * math.random(1, 3)
        for_each_source_type(n, k, 256, 210, bt.quantize_q6_k, "q6_k", function(dtype, x, _, bytes, row_bytes)
            assert.equals(("\0"):rep(210), bytes:sub(1, 210))
            for i = 1, n do
                for b = 0, k / 256 - 1 do
                    local at = (i - 1) * row_bytes + b * 210
                    local v = q6_k_values(bytes, at)
                    local d = bt.from_bytes(bytes:sub(at + 209, at + 210), "f16", { 1 }):to("f32")[1]
                    for c = 1, 256 do
                        local sc = bytes:byte(at + 192 + math.floor((c - 1) / 16) + 1)
                        local step = math.abs(d * (sc >= 128 and sc - 256 or sc))
                        local xv = x[i][256 * b + c]
                        local clamped = math.abs(xv) > 31 * step   -- beyond the codes' range
                        assert.is_true(step == 0 or clamped or math.abs(xv - v[c]) <= 0.5 * step * 1.001,
                            ("%s row %d column %d: %g stored as %g (step %g)"):format(dtype, i, 256 * b + c, xv, v[c], step))
                    end
                end
            end
        end)
    end)

    it("refuses rows that are not whole super-blocks", function()
        local ok, err = pcall(bt.quantize_q6_k, bt.zeros({ 2, 128 }))
        assert.is_false(ok)
        assert.truthy(tostring(err):find("rows of 128 values; q6_k needs a multiple of 256", 1, true), err)
    end)
end)

-- What each head type keeps on the fixture: the largest |logit difference| from the F16 head
-- over the teacher-forced rows (measured 0.065 and 0.227), how many of llama.cpp's F32
-- greedy tokens stay with float activations (the strict 17: step 18 is a near tie, 0.04,
-- that Q6_K flips; Q8_0 keeps all 32), and llama.cpp's tool's bytes of the fixture's embedding.
local heads = {
    { kind = "q8_0", max_dlogit = 0.1, f32_tokens = 17, theirs = "llamacpp-q8_0-token_embd.bin", row_bytes = 8 * 34 },
    { kind = "q6_k", max_dlogit = 0.35, f32_tokens = 17, theirs = "llamacpp-q6_k-token_embd.bin", row_bytes = 210 },
}

describe("--head on the BitNet reference fixture", function()
    local dir, tf_ids = fixture.dir, fixture.tf_ids
    teardown(fixture.cleanup)
    local f32_greedy = { 319, 187, 386, 15, 138, 338, 82, 389, 88, 81, 176, 67, 14, 221, 495, 173, 429 }

    -- largest |logit difference| between two models over the teacher-forced rows
    local function logit_diff(a, b)
        local ra, rb = a:new_session {}:forward(tf_ids, "all"), b:new_session {}:forward(tf_ids, "all")
        local worst = 0
        for r = 1, #ra do for j = 1, 512 do worst = math.max(worst, math.abs(ra[r][j] - rb[r][j])) end end
        return worst
    end

    for _, h in ipairs(heads) do
        it("keeps the strict greedy tokens of every ternary file (F16 head -> " .. h.kind .. ")", function()
            if helper.skip_without(pending, dir .. "bitnet-s4321-tq2_0.gguf") then return end
            for _, f in ipairs({ "bitnet-s4321-tq2_0.gguf", "bitnet-s4321-tq1_0.gguf", "bitnet-s4321-i2_s.gguf" }) do
                local path = helper.data_file(dir .. f)
                local f16, q = Model.load(path, { kv_type = "f32" }), Model.load(path, { head = h.kind, kv_type = "f32" })   -- the references use f32 caches
                assert.equals("f16", f16.w.output:dtype())
                assert.equals(h.kind, q.w.output:dtype())
                assert.equals("f16", q.w.tok_embd:dtype())   -- the input lookup keeps the file's embedding
                local worst = logit_diff(f16, q)
                assert.is_true(worst > 0 and worst <= h.max_dlogit, ("%s: max |dlogit| %g"):format(f, worst))
                -- g0..g4 are strict for any int8 activation scheme (bitnet_spec.lua)
                assert.are.same({ 319, 187, 386, 15, 138 }, fixture.greedy(q, { 1, 403, 407, 261, 378 }, 5))
            end
        end)

        it("keeps llama.cpp's 17 strict greedy tokens of the F32 file with float activations (" .. h.kind .. ")", function()
            if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
            local q = Model.load(fixture.f32_file(), { act_quant = false, head = h.kind, kv_type = "f32" })
            assert.are.same(f32_greedy, fixture.greedy(q, { 1, 403, 407, 261, 378 }, h.f32_tokens))
        end)

        it("quantize.lua --head " .. h.kind .. " writes the tied head as output.weight, as the load-time option computes it", function()
            if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
            local out = os.tmpname()
            local _, err, rc = helper.run_host("quantize.lua", fixture.f32_file(), out, "tq2_0", "--head", h.kind)
            assert.equals(0, rc, err)
            local src, q = bt.model_open(fixture.f32_file()), bt.model_open(out)
            assert.equals(h.kind, q:tensor("output.weight"):dtype())
            assert.equals("f32", q:tensor("token_embd.weight"):dtype())
            assert.equals(Model.head_types[h.kind](src:tensor("token_embd.weight")):tobytes(), q:tensor("output.weight"):tobytes())
            local from_file, at_load = Model.load(out), Model.load(out, { head = h.kind })
            assert.equals(0, logit_diff(from_file, at_load))
            os.remove(out)
        end)

        it("writes the bytes llama.cpp's quantize tool writes for " .. h.kind .. ", and runs on them as embedding and head", function()
            if helper.skip_without(pending, dir .. "bitnet-s4321-f32.gguf.gz") then return end
            local theirs = helper.read_file(helper.root .. "/spec/data/reference/bitnet/" .. h.theirs)
            assert.equals(512 * h.row_bytes, #theirs)
            local src = bt.model_open(fixture.f32_file())
            assert.equals(theirs, Model.head_types[h.kind](src:tensor("token_embd.weight")):tobytes())
            -- the fixture's TQ2_0 file with llama.cpp's table as its tied embedding and head
            local path, out = helper.data_file(dir .. "bitnet-s4321-tq2_0.gguf"), os.tmpname()
            local file, tensors = bt.model_open(path), {}
            for _, name in ipairs(file:tensor_names()) do
                tensors[#tensors + 1] = { name, name == "token_embd.weight" and bt.from_bytes(theirs, h.kind, { 512, 256 }) or file:tensor(name) }
            end
            local meta = {}
            for key in pairs(bt.gguf_meta(path)) do meta[#meta + 1] = { key, "from", path } end
            bt.gguf_write(out, meta, tensors)
            -- f32 caches, as the references': step 1 is a near tie (319 over 489 by 0.005 here) that f16 caches flip
            local model = Model.load(out, { kv_type = "f32" })
            assert.equals(h.kind, model.w.output:dtype())
            assert.are.same({ 319, 187, 386, 15, 138 }, fixture.greedy(model, { 1, 403, 407, 261, 378 }, 5))
            os.remove(out)
        end)
    end

    it("refuses a --head other than q8_0 and q6_k, at load and in quantize.lua", function()
        if helper.skip_without(pending, dir .. "bitnet-s4321-tq2_0.gguf") then return end
        local path = helper.data_file(dir .. "bitnet-s4321-tq2_0.gguf")
        local ok, err = pcall(Model.load, path, { head = "q4_0" })
        assert.is_false(ok)
        assert.truthy(tostring(err):find("--head: expected q8_0 or q6_k, got 'q4_0'", 1, true), err)
        local out = os.tmpname()
        local _, qerr, rc = helper.run_host("quantize.lua", path, out, "--head", "q5_k")
        assert.are_not.equals(0, rc)
        assert.truthy(qerr:find("--head: expected q8_0 or q6_k, got 'q5_k'", 1, true), qerr)
        os.remove(out)
    end)
end)
