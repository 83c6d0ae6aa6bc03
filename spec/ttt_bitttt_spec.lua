-- ttt_bitttt_spec.lua - the `bitttt` GGUF architecture (models/bitttt.lua,
-- docs/bitttt-format.md): per-layer mixers from metadata, logits.lua batch vs
-- token by token, generate.lua with TTT options, state sizes, and clear errors
-- for bad metadata. Models are written on the fly with random ternary weights.
local helper = require "helper"
local F = require "ttt_fixtures"
local Model = require "bitttt.model"

describe("bitttt models", function()
    local dir, path
    setup(function()
        dir = helper.tmpdir()
        path = dir .. "/hybrid.gguf"
        F.write_random_bitttt { path = path, mixers = { "attention", "ttt_linear", "fastweight", "ttt_linear" },
            conv_kernel = 3, forget = 0.8 }
    end)
    teardown(function() helper.rmdir(dir) end)

    it("builds the mixers the metadata lists", function()
        local m = Model.load(path)
        local kinds = {}
        for i, layer in ipairs(m.w.layers) do kinds[i] = layer.mixer.kind end
        assert.same({ "attention", "ttt_linear", "fastweight", "ttt_linear" }, kinds)
        assert.is_true(m.cfg.act_quant)
        assert.equals(4, m.w.layers[2].mixer.mini_batch)
        assert.equals(8, m.w.layers[3].mixer.dim)
        assert.same({ 3, 32 }, m.w.layers[2].mixer.conv_q:shape())
        assert.near(0.8, m.w.layers[2].mixer.forget, 1e-7)
    end)

    it("gives the same logits for a prompt batch and token by token (logits.lua --prefill)", function()
        local ids = "1 72 101 108 108 111 32 84 84 84 33 10 87 104 121 63"
        local function logits(prefill, extra)
            local out = dir .. "/l" .. prefill .. ".f32"
            local args = { "logits.lua", "-m", path, "--ids", ids, "--prefill", tostring(prefill), "-o", out }
            for _, a in ipairs(extra or {}) do args[#args + 1] = a end
            local _, err, rc = helper.run_host(unpack(args))
            assert.equals(0, rc, err)
            return F.read_f32(out)
        end
        local whole = logits(16)
        for _, k in ipairs({ 0, 5, 9 }) do
            local d = F.max_abs_diff(whole, logits(k))
            assert.is_true(d <= 1e-4, ("--prefill %d: logits differ by %.3g"):format(k, d))
        end
        local sched = { "--ttt-schedule", "cosine:12,0.2", "--ttt-lr", "0.7" }
        local d = F.max_abs_diff(logits(16, sched), logits(3, sched))
        assert.is_true(d <= 1e-4, ("with a schedule: logits differ by %.3g"):format(d))
        assert.is_true(F.max_abs_diff(whole, logits(16, sched)) > 1e-4, "the schedule options changed nothing")
    end)

    it("forgets after each mini-batch: the same logits until the first one ends, then others", function()
        local keep_all = dir .. "/no_forget.gguf"
        F.write_random_bitttt { path = keep_all, mixers = { "attention", "ttt_linear", "fastweight", "ttt_linear" },
            conv_kernel = 3 }   -- the same seed and weights as `path`, without forgetting
        local ids = { 1, 72, 101, 108, 108, 111, 32, 84, 84, 84, 33, 10 }
        local a = Model.load(path):new_session():forward(ids, "all")
        local b = Model.load(keep_all):new_session():forward(ids, "all")
        -- mini-batch 4: tokens 1-4 use the initial weights; the first decay comes after token 4
        assert.equals(0, F.max_abs_diff(F.stack({ a[1], a[2], a[3], a[4] }), F.stack({ b[1], b[2], b[3], b[4] })))
        assert.is_true(F.max_abs_diff(a[12], b[12]) > 1e-3, "forgetting changed nothing")
    end)

    it("generates text with --ttt-lr and --ttt-schedule", function()
        local out, err, rc = helper.run_host("generate.lua", "-m", path, "-p", "Hello", "-n", "12", "--temp", "0",
            "--ttt-lr", "0.5", "--ttt-schedule", "warmup:8")
        assert.equals(0, rc, err)
        assert.equals("Hello", out:sub(1, 5))
        local _, err2, rc2 = helper.run_host("generate.lua", "-m", path, "-p", "Hi", "-n", "2", "--ttt-schedule", "bogus")
        assert.are_not.equal(0, rc2)
        assert.truthy(err2:find("--ttt-schedule: cannot read 'bogus'", 1, true), err2)
    end)

    it("keeps TTT state independent of the context; attention's grows with it", function()
        local tpath = dir .. "/ttt_only.gguf"
        F.write_random_bitttt { path = tpath, mixers = { "ttt_linear", "fastweight" } }
        local ttt, hybrid = Model.load(tpath), Model.load(path)
        assert.equals(ttt:state_bytes(256), ttt:state_bytes(32768))
        assert.equals(2 * 4 * 9 * 8 * 4 + 8 * 8 * 4, ttt:state_bytes(1))
        assert.is_true(hybrid:state_bytes(4096) > hybrid:state_bytes(256))
    end)

    it("runs TQ2_0 ternary projections and gives the logits of their float values", function()
        local bitnet = "reference/bitnet/bitnet-s4321-tq2_0.gguf"
        if helper.skip_without(pending, bitnet) then return end
        local tq, f32 = dir .. "/tq2_0.gguf", dir .. "/f32.gguf"
        F.write_bitttt_from_bitnet(helper.data_file(bitnet), tq, false)
        F.write_bitttt_from_bitnet(helper.data_file(bitnet), f32, true)
        local a, b = Model.load(tq), Model.load(f32)
        assert.equals("tq2_0", a.w.layers[1].mixer.wq:dtype())
        assert.equals("f32", b.w.layers[1].mixer.wq:dtype())
        local ids = { 1, 45, 300, 12, 7, 411, 96, 3, 250, 18, 77 }
        local la, lb = F.stack(a:new_session():forward(ids, "all")), F.stack(b:new_session():forward(ids, "all"))
        local d = F.max_abs_diff(la, lb)
        assert.is_true(d <= 1e-4, ("ternary vs float values: logits differ by %.3g"):format(d))
        local s = a:new_session()
        local rows = {}
        for i, id in ipairs(ids) do rows[i] = s:forward({ id }, "last"):clone() end
        d = F.max_abs_diff(la, F.stack(rows))
        assert.is_true(d <= 1e-4, ("ternary, batch vs token by token: logits differ by %.3g"):format(d))
    end)

    it("refuses bad mixer metadata with errors that name the key", function()
        local cases = {
            { mixers = { "attention", "mamba" }, want = "'bitttt.mixers' entry 2 is 'mamba'" },
            { mixers = { "ttt_linear" }, conv_kernel = 17,
              want = "'bitttt.ttt.conv_kernel' is 17; expected an integer from 0 (no conv) to 16" },
            { mixers = { "ttt_linear" }, forget = 1.5, want = "'bitttt.ttt.forget' is 1.5; expected 0 to 1" },
        }
        for i, c in ipairs(cases) do
            local p = ("%s/bad%d.gguf"):format(dir, i)
            F.write_random_bitttt { path = p, mixers = c.mixers, conv_kernel = c.conv_kernel, forget = c.forget }
            local ok, err = pcall(Model.load, p)
            assert.is_false(ok)
            assert.truthy(tostring(err):find(c.want, 1, true), tostring(err))
        end
    end)

    it("takes each layer's learned forgetting (blk.N.ttt_forget) over bitttt.ttt.forget", function()
        local function logits(name, o)
            o.path, o.mixers, o.conv_kernel, o.mini_batch = dir .. "/" .. name .. ".gguf", { "ttt_linear", "ttt_linear" }, 4, 4
            F.write_random_bitttt(o)
            local ids = {}
            for i = 1, 23 do ids[i] = 3 + (i * 37) % 250 end   -- several mini-batches, so forgetting acts
            return F.stack(Model.load(o.path):new_session():forward(ids, "all"))
        end
        local global = logits("global", { forget = 0.8 })
        local per_layer = logits("per_layer", { forget = 0.3, layer_forget = { 0.8, 0.8 } })
        local none = logits("none", {})
        assert.is_true(F.max_abs_diff(global, per_layer) <= 1e-6, "the tensors must override the metadata")
        assert.is_true(F.max_abs_diff(global, none) > 1e-4, "forgetting must change the logits")
        local bad = dir .. "/bad_forget.gguf"
        F.write_random_bitttt { path = bad, mixers = { "ttt_linear" }, layer_forget = { 1.5 } }
        local ok, err = pcall(Model.load, bad)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("tensor 'blk.0.ttt_forget' is 1.5; expected 0 to 1", 1, true), tostring(err))
    end)

    it("op_causal_conv refuses tensors of the wrong shape, naming the argument", function()
        local core = require "bitttt.core"
        local x, w = core.empty({ 5, 6 }, "f32"), core.empty({ 3, 6 }, "f32")
        local cases = {
            { core.empty({ 3, 6 }, "f32"), w, nil, "causal_conv: history must hold 12 values, got 18" },
            { core.empty({ 2, 6 }, "f32"), core.empty({ 3, 5 }, "f32"), nil, "causal_conv: conv weight must be [3, 6]" },
            { core.empty({ 2, 6 }, "f32"), w, core.empty({ 5 }, "f32"), "causal_conv: bias must hold 6 values, got 5" },
            { core.empty({ 2, 6 }, "f32"), core.empty({ 17, 6 }, "f32"), nil, "kernel size 17 is outside 1..16" },
        }
        core.op_causal_conv(x, core.empty({ 2, 6 }, "f32"), w, nil)   -- the right shapes
        for _, c in ipairs(cases) do
            local ok, err = pcall(core.op_causal_conv, x, c[1], c[2], c[3])
            assert.is_false(ok)
            assert.truthy(tostring(err):find(c[4], 1, true), tostring(err))
        end
    end)
end)
