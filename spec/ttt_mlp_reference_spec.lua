-- ttt_mlp_reference_spec.lua - TTT-MLP and the TTTConfig options (pre_conv,
-- share_qk, use_gate, untied heads, mini-batches of 4 and 8, rope_theta, base lr)
-- against ttt-lm-pytorch's own outputs (spec/data/ttt_mlp, see its README). For
-- every configuration: logits within 1e-4 for the whole prompt (also fed in chunks
-- that cut mini-batches), token by token, and prefill-then-decode at the reference's
-- splits (3 and 1.5 mini-batches: not multiples of it; 2 mini-batches); the
-- residual stream after every layer and the final norm; the same model converted
-- to a `bitttt` GGUF. Settings we cannot run are refused by name.
local helper = require "helper"
local F = require "ttt_fixtures"
local bt = require "bitttt"
local Model = require "bitttt.model"

local DATA = helper.root .. "/spec/data/ttt_mlp/"
local TOL = 1e-4

local configs = {
    { name = "mlp", n = 29, mini_batch = 8 },
    { name = "mlp_pre_conv", n = 29, mini_batch = 8 },
    { name = "mlp_share_qk_gate", n = 23, mini_batch = 4 },
    { name = "mlp_all_options", n = 29, mini_batch = 8 },
    { name = "linear_all_options", n = 23, mini_batch = 4 },
    { name = "linear_share_qk", n = 29, mini_batch = 8 },
}

-- The reference runs of a configuration: { prefill = tokens in the first call (then one by one), file }.
local function runs_of(c)
    local B = c.mini_batch
    local runs = { { prefill = c.n, file = "logits_full.f32" }, { prefill = 0, file = "logits_decode.f32" } }
    for _, p in ipairs({ B + B / 2, 2 * B, 3 }) do
        runs[#runs + 1] = { prefill = p, file = ("logits_prefill%d_decode%d.f32"):format(p, c.n - p) }
    end
    return runs
end

local function ref(c, file) return F.read_f32(DATA .. c.name .. "/" .. file) end

local function within(what, got, want)
    local diff = F.max_abs_diff(got, want)
    assert.is_true(diff <= TOL, ("%s: max |delta| = %.3g"):format(what, diff))
end

-- Logits [n, vocab] of feeding ids: the first `prefill` in one call, then one at a time.
-- hidden (optional): filled with the residual stream after each layer, [n, d] per layer.
local function run(model, ids, prefill, hidden)
    local s = model:new_session { n_ctx = #ids }
    local rows_of = {}
    if hidden then
        s.on_layer = function(l, x)
            rows_of[l] = rows_of[l] or {}
            for i = 1, x:shape()[1] do rows_of[l][#rows_of[l] + 1] = x[i]:clone() end
        end
    end
    local rows = {}
    local function feed(first, last)
        local chunk = {}
        for i = first, last do chunk[#chunk + 1] = ids[i] end
        for _, r in ipairs(s:forward(chunk, "all")) do rows[#rows + 1] = r end
    end
    if prefill > 0 then feed(1, prefill) end
    for i = prefill + 1, #ids do feed(i, i) end
    if hidden then
        for l, layer_rows in ipairs(rows_of) do hidden[l] = F.stack(layer_rows) end
    end
    return F.stack(rows)
end

for _, c in ipairs(configs) do
    describe("ttt-lm-pytorch fixture " .. c.name, function()
        local model, ids
        setup(function()
            model = Model.load(DATA .. c.name, {})
            ids = F.read_ids(DATA .. c.name .. "/input_ids.txt")
        end)

        for _, r in ipairs(runs_of(c)) do
            it(("matches %s within 1e-4 (first call %d tokens, then one at a time)"):format(r.file, r.prefill), function()
                within(r.file, run(model, ids, r.prefill), ref(c, r.file))
            end)
        end

        it("matches the whole prompt when chunks of 5 tokens cut its mini-batches", function()
            local chunked = Model.load(DATA .. c.name, { max_batch = 5 })
            within("logits_full.f32", run(chunked, ids, #ids), ref(c, "logits_full.f32"))
        end)

        it("gives the residual stream after every layer and the final norm (whole prompt, decode)", function()
            local hidden = {}
            run(model, ids, #ids, hidden)
            for l = 1, #hidden do within("after layer " .. (l - 1), hidden[l], ref(c, ("hidden_after_layer%d_full.f32"):format(l - 1))) end
            local last = hidden[#hidden]
            local normed = bt.zeros(last:shape())
            bt.op_rmsnorm(normed, last, model.w.output_norm, model.cfg.rms_eps)
            within("final norm", normed, ref(c, "hidden_final_norm_full.f32"))
            hidden = {}
            run(model, ids, 0, hidden)
            for l = 1, #hidden do within("decode, after layer " .. (l - 1), hidden[l], ref(c, ("hidden_after_layer%d_decode.f32"):format(l - 1))) end
        end)

        it("learns: without the inner update (lr 0) the logits move away from the reference", function()
            local s = model:new_session { n_ctx = #ids }
            s:set_ttt_lr(0)
            assert.is_true(F.max_abs_diff(F.stack(s:forward(ids, "all")), ref(c, "logits_full.f32")) > 0.05)
        end)

        it("converted to a float bitttt GGUF gives the same logits (prefill 3, then decode)", function()
            local path = os.tmpname() .. ".gguf"
            F.convert_reference_to_bitttt(DATA .. c.name, path)
            local ok, converted = pcall(Model.load, path, {})
            os.remove(path)
            assert(ok, converted)
            local r = runs_of(c)[5]
            within(r.file, run(converted, ids, r.prefill), ref(c, r.file))
        end)
    end)
end

describe("TTT-MLP through logits.lua", function()
    it("matches prefill 12 + decode 17 of the mlp fixture", function()
        local c = configs[1]
        local out = os.tmpname()
        local _, err, rc = helper.run_host("logits.lua", "-m", DATA .. c.name, "--ids",
            table.concat(F.read_ids(DATA .. c.name .. "/input_ids.txt"), " "), "--prefill", "12", "-o", out)
        assert.equals(0, rc, err)
        local got = F.read_f32(out)
        os.remove(out)
        within("logits_prefill12_decode17.f32", got, ref(c, "logits_prefill12_decode17.f32"))
    end)
end)

describe("models/ttt.lua refuses what it cannot run, by name", function()
    local dir
    setup(function() dir = helper.tmpdir() end)
    teardown(function() helper.rmdir(dir) end)

    -- A copy of the mlp fixture whose config.json has `key` set to the JSON text `value`.
    local function with_config(key, value)
        local text = helper.read_file(DATA .. "mlp/config.json")
        local changed, n = text:gsub('"' .. key .. '": [^,\n]+', '"' .. key .. '": ' .. value)
        assert.equals(1, n, key)
        F.write_file(dir .. "/config.json", changed)
        F.write_file(dir .. "/model.safetensors", helper.read_file(DATA .. "mlp/model.safetensors"))
        local ok, err = pcall(Model.load, dir, {})
        assert.is_false(ok)
        return tostring(err)
    end

    for _, case in ipairs({
        { "ttt_layer_type", '"transformer"', "'ttt_layer_type' is transformer" },
        { "hidden_act", '"gelu"', "'hidden_act' is gelu" },
        { "conv_kernel", "0", "'conv_kernel' is 0" },
        { "mini_batch_size", "0", "'mini_batch_size' is 0" },
        { "pre_conv", '"yes"', "'pre_conv' is yes" },
        { "ttt_base_lr", "-1", "'ttt_base_lr' is -1" },
    }) do
        it(case[1] .. " = " .. case[2], function()
            local err = with_config(case[1], case[2])
            assert.truthy(err:find(case[3], 1, true), err)
            assert.truthy(err:find("config.json", 1, true), err)
        end)
    end

    it("TTT-MLP weights under a linear config: the mismatched tensor is named", function()
        local err = with_config("ttt_layer_type", '"linear"')
        assert.truthy(err:find("model.layers.0.seq_modeling_block.W1' has shape [3, 16, 64], expected [3, 16, 16]", 1, true), err)
    end)
end)
