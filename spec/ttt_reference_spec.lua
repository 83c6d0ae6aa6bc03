-- ttt_reference_spec.lua - the TTT-Linear runtime against ttt-lm-pytorch's own
-- outputs on the reference checkpoint (spec/data/reference/ttt, see its
-- README): logits of the four runs (whole prompt; token by token; prefill 16 +
-- decode 13; prefill 12 + decode 17) within 1e-4, through logits.lua and
-- --prefill K; layer-0 intermediates step by step; and the same checkpoint
-- converted to a `bitttt` GGUF.
local helper = require "helper"
local F = require "ttt_fixtures"
local bt = require "bitttt"

local REF = "reference/ttt"
local TOL = 1e-4

local runs = {
    { prefill = 29, file = "logits_full.f32", what = "(a) the whole prompt in the dual form" },
    { prefill = 0, file = "logits_decode.f32", what = "(b) token by token (primal form)" },
    { prefill = 16, file = "logits_prefill16_decode13.f32", what = "(c) prefill 16, decode 13" },
    { prefill = 12, file = "logits_prefill12_decode17.f32", what = "(d) prefill 12 (8 dual + 4 into the gradient sums), decode 17" },
}

local function ref_path(name) return helper.data_file(REF .. "/" .. name) end

local function run_logits(model, prefill, extra)
    local out = os.tmpname()
    local args = { "logits.lua", "-m", model, "--ids", table.concat(F.read_ids(ref_path("input_ids.txt")), " "),
        "--prefill", tostring(prefill), "-o", out }
    for _, a in ipairs(extra or {}) do args[#args + 1] = a end
    local _, err, rc = helper.run_host(unpack(args))
    assert.equals(0, rc, err)
    local t = F.read_f32(out)
    os.remove(out)
    return t
end

describe("TTT-Linear on the ttt-lm-pytorch reference checkpoint", function()
    for _, r in ipairs(runs) do
        it("matches run " .. r.what .. " within 1e-4 (logits.lua --prefill " .. r.prefill .. ")", function()
            if helper.skip_without(pending, REF .. "/model.safetensors") then return end
            local got = run_logits(ref_path(""), r.prefill)
            local diff = F.max_abs_diff(got, F.read_f32(ref_path(r.file)))
            assert.is_true(diff <= TOL, ("max |delta logits| = %.3g"):format(diff))
        end)
    end

    it("learns: with --ttt-lr 0 (no update) the logits move far from the reference", function()
        if helper.skip_without(pending, REF .. "/model.safetensors") then return end
        local got = run_logits(ref_path(""), 29, { "--ttt-lr", "0" })
        assert.is_true(F.max_abs_diff(got, F.read_f32(ref_path("logits_full.f32"))) > 0.5)
    end)

    it("gives every layer-0 intermediate of run (a) and the decode output of run (b)", function()
        if helper.skip_without(pending, REF .. "/model.safetensors") then return end
        local model = require("bitttt.model").load(ref_path(""), { max_batch = 29 })
        local layer, cfg = model.w.layers[1], model.cfg
        local mix = layer.mixer
        local ids = F.read_ids(ref_path("input_ids.txt"))
        local n, d, H, hd = #ids, cfg.n_embd, mix.n_head, mix.head_dim
        local idt = bt.zeros({ n }, "i32")
        for i, id in ipairs(ids) do idt[i] = id end
        local x, h = bt.zeros({ n, d }), bt.zeros({ n, d })
        bt.op_get_rows(x, model.w.tok_embd, idt)
        bt.op_rmsnorm(h, x, layer.attn_norm, cfg.rms_eps)

        local function check(name, got, ref)
            local diff = F.max_abs_diff(got, ref)
            assert.is_true(diff <= 1e-5, ("%s: max |delta| = %.3g"):format(name, diff))
        end
        -- [heads, tokens, hd] reference layout -> ours [tokens, heads * hd]
        local function heads_first(t)
            local out = bt.zeros({ n, H * hd })
            local src = t:reshape({ H, n, hd })
            for hh = 1, H do
                for tok = 1, n do out[tok]:narrow(1, (hh - 1) * hd + 1, hd):copy(src[hh][tok]) end
            end
            return out
        end

        local xq, xk, xv = bt.zeros({ n, d }), bt.zeros({ n, d }), bt.zeros({ n, d })
        bt.op_linear(xq, mix.wq, h)
        bt.op_linear(xk, mix.wk, h)
        bt.op_linear(xv, mix.wv, h)
        check("xq_proj", xq, F.read_f32(ref_path("layer0_xq_proj_full.f32")))
        check("xk_proj", xk, F.read_f32(ref_path("layer0_xk_proj_full.f32")))
        check("xv_proj", xv, F.read_f32(ref_path("layer0_xv_proj_full.f32")))
        local pos = bt.zeros({ n }, "i32")
        for i = 1, n do pos[i] = (i - 1) % mix.mini_batch end
        bt.op_rope(xq, pos, H, hd, hd, mix.rope_theta, "interleaved")
        bt.op_rope(xk, pos, H, hd, hd, mix.rope_theta, "interleaved")
        check("xq_rope", xq, heads_first(F.read_f32(ref_path("layer0_xq_rope_full.f32"))))
        check("xk_rope", xk, heads_first(F.read_f32(ref_path("layer0_xk_rope_full.f32"))))

        local eta = bt.zeros({ n, H })
        bt.op_linear(eta, mix.lr_weight, h)
        bt.op_ttt_eta(eta, mix.lr_bias, nil, mix.base_lr / hd)
        check("ttt_lr_eta", eta:transpose(1, 2):clone(), F.read_f32(ref_path("layer0_ttt_lr_eta_full.f32")))

        local state = mix:new_state()
        local z = bt.zeros({ n, d })
        local scratch = bt.zeros({ bt.ttt_linear_scratch_floats(n, H, hd) })
        bt.op_ttt_linear(z, state.weights, state.grads, xq, xk, xv, eta, mix.token_scale, mix.ln_weight,
            mix.ln_bias, mix.ln_eps, 0, scratch)
        check("post_norm_in", z, F.read_f32(ref_path("layer0_post_norm_in_full.f32")))
        local out = bt.zeros({ n, d })
        bt.op_layernorm(z, z, mix.post_weight, mix.post_bias, mix.ln_eps)
        bt.op_linear(out, mix.wo, z)
        check("ttt_out (a)", out, F.read_f32(ref_path("layer0_ttt_out_full.f32")))

        -- (b): the layer's own forward, one token at a time, from a fresh state
        local session = model:new_session { n_ctx = n }
        local v = session:views_for(1)
        local decoded = bt.zeros({ n, d })
        state = mix:new_state()
        for i = 1, n do
            v.h:copy(h:narrow(1, i, 1))
            mix:forward(state, v.mix, v.h, v, nil, i - 1, session.learning)
            decoded[i]:copy(v.mix[1])
        end
        check("ttt_out (b)", decoded, F.read_f32(ref_path("layer0_ttt_out_decode.f32")))
    end)

    it("converted to a float bitttt GGUF gives the same logits (prefill 12, decode 17)", function()
        if helper.skip_without(pending, REF .. "/model.safetensors") then return end
        local path = os.tmpname() .. ".gguf"
        F.convert_reference_to_bitttt(ref_path(""), path)
        local got = run_logits(path, 12)
        os.remove(path)
        local diff = F.max_abs_diff(got, F.read_f32(ref_path("logits_prefill12_decode17.f32")))
        assert.is_true(diff <= TOL, ("max |delta logits| = %.3g"):format(diff))
    end)
end)
