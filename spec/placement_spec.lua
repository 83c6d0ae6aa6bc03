-- placement_spec.lua - CPU/GPU placement (lua/bitttt/placement.lua over
-- runtime/placer.h) on a machine with or without a GPU: plans for a synthetic
-- BitNet (make-bitnet.lua --vocab synthetic:N) at simulated free-memory figures
-- (nothing, two layers, everything, all but the head, an explicit count), TTT-Linear
-- layers placed with their state and fastweight ones kept on the CPU with the reason,
-- hybrid sessions on a stand-in device (the CPU answering as "cuda:0": the CPU's
-- logits, copies only where the device changes; TTT-Linear layers there too), and --n-gpu-layers where there is no GPU: one note on stderr, the
-- CPU's tokens. Running on a real GPU is checked by scripts/gpu-check.sh.
local helper = require "helper"
local bt = require "bitttt"
local Model = require "bitttt.model"
local Placement = require "bitttt.placement"
local F = require "ttt_fixtures"

-- What the placer counts for an allocation: the pool's rounding, at most 1/8 more.
local function rounded(bytes) return bytes + math.ceil(bytes / 8) end

local function count(text, pattern)
    local n = 0
    for _ in text:gmatch(pattern) do n = n + 1 end
    return n
end

describe("placement", function()
    local dir, path
    setup(function()
        dir = helper.tmpdir()
        path = dir .. "/bitnet.gguf"
        local _, err, rc = helper.run_host("make-bitnet.lua", path, "--vocab", "synthetic:300", "--layers", "4", "--seed", "3")
        assert(rc == 0, err)
    end)
    teardown(function() helper.rmdir(dir) end)

    it("runs on a model from make-bitnet.lua --vocab synthetic:N (an N-token byte-level vocabulary)", function()
        local m = Model.load(path)
        local tok = m.tokenizer
        assert.equals(300, m.cfg.n_vocab)
        assert.equals(298, tok:bos())
        assert.equals(299, tok:eos())
        local text = "abacus, Hello world, \195\188n\195\175code and bytes \0\1\255\t\n"
        local ids = tok:encode(text, { bos = true })
        assert.equals(298, ids[1])
        assert.equals(text, tok:decode(ids))
        assert.is_true(#ids < #text, "merges make tokens of several bytes")
    end)

    it("plans at simulated free memory: nothing, two layers, all, all but the head, an explicit count", function()
        if not bt.info().cuda.compiled then pending("skipped: this build has no CUDA support") return end
        local m = Model.load(path)
        local function plan(free, n)
            return Placement.plan(m, { n_gpu_layers = n or "auto", free = free, reserve = 0, n_ctx = 128 })
        end
        local function devices(p)
            local t = {}
            for l = 1, #p.layers do t[l] = p.layers[l] end
            t.head, t.embd = p.head, p.embd
            return t
        end
        local G = "cuda:0"

        local f32 = Placement.plan(Model.load(path, { kv_type = "f32" }), { n_gpu_layers = "auto", free = 1e12, reserve = 0, n_ctx = 128 })
        assert.equals(2 * 2 * 128 * 64 * 4, f32.bytes[1].state)   -- the placer counts the model's KV type

        local nothing = plan(0)
        assert.same({ "cpu", "cpu", "cpu", "cpu", head = "cpu", embd = "cpu" }, devices(nothing))
        assert.truthy(nothing.reason:find("No layer on the GPU", 1, true), nothing.reason)

        local all = plan(1e12)
        assert.same({ G, G, G, G, head = G, embd = G }, devices(all))
        local per = {}
        local layers_total = 0
        for l = 1, 4 do
            local b = all.bytes[l]
            -- K and V, 2 kv heads x 128 positions x 64 dims, f16 (the default KV type)
            assert.is_true(b.weight > 0 and b.state == 2 * 2 * 128 * 64 * 2, "layer bytes")
            per[l] = rounded(b.weight) + rounded(b.state)
            layers_total = layers_total + per[l]
        end
        local scratch = all.gpu_bytes - layers_total - rounded(all.head_bytes)
        assert.is_true(scratch > 0, "scratch is counted")

        local two = plan(scratch + per[3] + per[4])
        assert.same({ "cpu", "cpu", G, G, head = "cpu", embd = "cpu" }, devices(two))
        assert.truthy(two.reason:find("2 of 4 layers on the GPU (2-3)", 1, true), two.reason)

        local no_head = plan(all.gpu_bytes - 1)
        assert.same({ G, G, G, G, head = "cpu", embd = "cpu" }, devices(no_head))
        assert.truthy(no_head.reason:find("output head", 1, true), no_head.reason)

        local one = plan(1e12, 1)
        assert.same({ "cpu", "cpu", "cpu", G, head = G, embd = "cpu" }, devices(one))
        local lines = table.concat(Placement.describe(m, one), "\n")
        assert.truthy(lines:find("layer  3 (blk.3, attention): cuda:0  weights", 1, true), lines)
        assert.truthy(lines:find("output head: cuda:0", 1, true), lines)
    end)

    it("places TTT-Linear layers with their state; keeps fastweight layers on the CPU and says why", function()
        local ttt = dir .. "/hybrid.gguf"
        F.write_random_bitttt { path = ttt, mixers = { "attention", "ttt_linear", "fastweight", "ttt_linear" }, d = 128 }
        local m = Model.load(ttt)
        local p = Placement.plan(m, { n_gpu_layers = "auto", free = 1e12, reserve = 0 })
        local why = bt.core.linear_unsupported(m.w.layers[2].mixer.wq, m.w.layers[2].mixer.act_quant, "cuda:0")
        local want = why and "cpu" or "cuda:0"   -- a build without CUDA plans nothing for it
        assert.equals(want, p.layers[2])
        assert.equals("cpu", p.layers[3])
        assert.equals(want, p.layers[4])
        if not why then
            assert.equals(m.w.layers[2].mixer:state_bytes(), p.bytes[2].state)
            assert.truthy(p.bytes[2].weight > 0)
        end
        assert.truthy(p.reason:find("Layer 2 stays on the CPU: fastweight: op_fastweight runs on the CPU only", 1, true), p.reason)
    end)

    it("caps the memory it plans for at gpu_mem (--gpu-mem)", function()
        if not bt.info().cuda.compiled then pending("skipped: this build has no CUDA support") return end
        local m = Model.load(path)
        local all = Placement.plan(m, { n_gpu_layers = "auto", free = 1e12, reserve = 0, n_ctx = 128 })
        local capped = Placement.plan(m, { n_gpu_layers = "auto", free = 1e12, reserve = 0, n_ctx = 128,
            gpu_mem = all.gpu_bytes - 1 })
        assert.equals("cpu", capped.head)
        assert.truthy(capped.reason:find("capped at", 1, true), capped.reason)
        local none = Placement.plan(m, { n_gpu_layers = "auto", free = 1e12, reserve = 0, n_ctx = 128, gpu_mem = 0 })
        for l = 1, #none.layers do assert.equals("cpu", none.layers[l]) end
        assert.has_error(function() Placement.plan(m, { n_gpu_layers = "auto", free = 0, gpu_mem = -1 }) end)
    end)

    it("reads --gpu-mem sizes and refuses bad ones, naming the option", function()
        local cli = require "bitttt.cli"
        assert.equals(8 * 2 ^ 30, cli.size("8GiB", "--gpu-mem"))
        assert.equals(512 * 2 ^ 20, cli.size("512M", "--gpu-mem"))
        assert.equals(1.5e9, cli.size("1.5GB", "--gpu-mem"))
        assert.equals(4096, cli.size("4096", "--gpu-mem"))
        local _, err, rc = helper.run_host("generate.lua", "-m", path, "-n", "2", "--gpu-mem", "8 parsecs")
        assert.equals(2, rc)
        assert.truthy(err:find("--gpu-mem needs a size such as 8GiB", 1, true), err)
    end)

    it("rejects a bad request", function()
        local m = Model.load(path)
        assert.has_error(function() Placement.plan(m, { n_gpu_layers = -1, free = 0 }) end)
        assert.has_error(function() Placement.plan(m, { n_gpu_layers = "most", free = 0 }) end)
        local _, err, rc = helper.run_host("generate.lua", "-m", path, "-n", "2", "--n-gpu-layers", "2.5")
        assert.is_not.equals(0, rc)
        assert.truthy(err:find("--n-gpu-layers needs a whole number", 1, true), err)
    end)

    -- A stand-in for a GPU that is really the CPU: core's device functions answer for "cuda:0"
    -- with CPU tensors, so the session's device logic (buffers per device, copies where the
    -- device changes, logits back to the CPU) runs here and must give the CPU's logits exactly.
    local function with_stand_in_gpu(fn)
        local core, G = bt.core, "cuda:0"
        local saved = {}
        local stubs = {
            device_info = function() return { available = true, name = "stand-in GPU", free = 1e12, total = 1e12 } end,
            empty = function(shape, dtype, device) return saved.empty(shape, dtype, device == G and "cpu" or device) end,
            place_weight = function(t) return saved.place_weight(t, "cpu") end,
            placed_bytes = function(t) return saved.placed_bytes(t, "cpu") end,
            linear_unsupported = function() return nil end,
            attention_unsupported = function() return nil end,
            op_scratch_bytes = function() return 0 end,
        }
        for name, f in pairs(stubs) do saved[name], core[name] = core[name], f end
        local ok, err = pcall(fn, G)
        for name, f in pairs(saved) do core[name] = f end
        assert(ok, err)
    end

    -- Copies made by one decode step of session s.
    local function copies_per_token(s, id)
        local methods = bt.core.tensor_methods
        local copy, n = methods.copy, 0
        methods.copy = function(...) n = n + 1 return copy(...) end
        local ok, err = pcall(s.forward, s, { id }, "last")
        methods.copy = copy
        assert(ok, err)
        return n
    end

    it("runs hybrid sessions: the CPU's logits, copies only where the device changes", function()
        local cpu = Model.load(path)
        local ref = cpu:new_session { n_ctx = 64 }
        local prompt = { 298, 40, 41, 42, 100, 7 }
        local want = { ref:forward(prompt, "last"):clone() }
        for i = 1, 3 do want[#want + 1] = ref:forward({ 50 + i }, "last"):clone() end
        with_stand_in_gpu(function(G)
            -- layers 3-4 and the head on the "GPU" (2 requested), then layers 1 and 3 only (a hand-made plan);
            -- each count has one more copy on the CPU: the last logits, kept until the forward succeeds
            local cases = {
                { request = 2, layers = { "cpu", "cpu", G, G }, head = G, embd = "cpu", copies = 1 + 3 },   -- positions, x up, logits down
                { request = "auto", layers = { G, G, G, G }, head = G, embd = G, copies = 1 + 3 },         -- positions, ids, logits
                { plan = { G, "cpu", G, "cpu" }, head = "cpu", embd = "cpu", copies = 1 + 5 },              -- positions, x 4 times
            }
            for _, c in ipairs(cases) do
                local m = Model.load(path)
                if c.request then
                    m:place { n_gpu_layers = c.request, n_ctx = 64 }
                else
                    m:fingerprint()
                    m.placement = Placement.apply(m, { layers = c.plan, head = c.head, embd = c.embd, device = G, bytes = {} })
                end
                local p = m.placement
                assert.same(c.layers or c.plan, p.layers)
                assert.equals(c.head, p.head)
                assert.equals(c.embd, p.embd)
                local s = m:new_session { n_ctx = 64 }
                local got = { s:forward(prompt, "last"):clone() }
                for i = 1, 2 do got[#got + 1] = s:forward({ 50 + i }, "last"):clone() end
                assert.equals(c.copies, copies_per_token(s, 53))
                got[#got + 1] = s:forward({ 54 }, "last")
                for i = 1, #got - 1 do
                    assert.equals(0, F.max_abs_diff(got[i], want[i]), "step " .. i)
                end
                local snap = s:snapshot()
                s:restore(snap)
                assert.equals(#prompt + 4, s.pos)
            end
        end)
    end)

    it("runs TTT-Linear layers on a device: the CPU's logits across mini-batches, with convs, forgetting and a schedule", function()
        local ttt = dir .. "/ttt-device.gguf"
        F.write_random_bitttt { path = ttt, mixers = { "ttt_linear", "attention", "ttt_linear" }, d = 64,
                                conv_kernel = 3, forget = 0.9, seed = 11 }
        local prompt = { 3, 70, 71, 72, 9, 100, 101 }   -- 7 tokens: mini-batches of 4 split inside the prompt
        local function run(m)
            local s = m:new_session { n_ctx = 64 }
            s:set_schedule("warmup:10")
            local out = { s:forward(prompt, "last"):clone() }
            for i = 1, 6 do out[#out + 1] = s:forward({ 40 + i }, "last"):clone() end
            local snap = s:snapshot()
            out[#out + 1] = s:forward({ 60 }, "last"):clone()
            s:restore(snap)
            out[#out + 1] = s:forward({ 60 }, "last"):clone()
            return out
        end
        local want = run(Model.load(ttt))
        with_stand_in_gpu(function(G)
            local m = Model.load(ttt)
            m:place { n_gpu_layers = "auto", n_ctx = 64 }
            assert.same({ G, G, G }, m.placement.layers)
            local got = run(m)
            for i = 1, #want do assert.equals(0, F.max_abs_diff(got[i], want[i]), "step " .. i) end
        end)
    end)

    it("without a GPU: says so once on stderr and gives the CPU's tokens", function()
        if bt.info().cuda.devices > 0 then pending("skipped: this machine has a GPU (gpu-check.sh covers it)") return end
        local args = { "generate.lua", "-m", path, "-p", "Hello there", "-n", "12", "--temp", "0", "-t", "1" }
        local cpu_out, cpu_err, rc = helper.run_host(unpack(args))
        assert.equals(0, rc, cpu_err)
        args[#args + 1] = "--n-gpu-layers"
        args[#args + 1] = "auto"
        args[#args + 1] = "--verbose"
        local out, err, rc2 = helper.run_host(unpack(args))
        assert.equals(0, rc2, err)
        assert.equals(cpu_out, out)
        assert.equals(1, count(err, "running on the CPU"), err)
        assert.truthy(err:find("placement: No GPU:", 1, true), err)
        assert.truthy(err:find("layer  3 (blk.3, attention): cpu", 1, true), err)

        -- two loads in one process: still one note
        local script = dir .. "/twice.lua"
        local f = assert(io.open(script, "wb"))
        f:write(('local Model = require "bitttt.model"\nfor i = 1, 2 do Model.load(%q, { n_gpu_layers = 2 }) end\n'):format(path))
        f:close()
        local _, err3, rc3 = helper.run_host(script)
        assert.equals(0, rc3, err3)
        assert.equals(1, count(err3, "running on the CPU"), err3)
    end)
end)
