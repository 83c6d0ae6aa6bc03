-- ttt_mlp_state_spec.lua - TTT-MLP in a hybrid `bitttt` GGUF written on the fly
-- (ttt_mlp, attention and ttt_linear layers in one model, with the TTT options:
-- q/k convs with a shared projection, the gelu gate, pre_conv): prompt and decode
-- agree; the session state (fast weights of both TTT kinds, the conv histories)
-- round-trips through state files and snapshots bit for bit, is refused for
-- another model; the learning rate and schedules act on TTT-MLP layers; the
-- placer keeps them on the CPU and says why.
local helper = require "helper"
local F = require "ttt_fixtures"
local bt = require "bitttt"
local Model = require "bitttt.model"
local Placement = require "bitttt.placement"

local function hybrid_model(dir, seed, extra)
    local path = ("%s/hybrid_mlp%d.gguf"):format(dir, seed)
    local o = { path = path, mixers = { "ttt_mlp", "attention", "ttt_linear", "ttt_mlp" }, seed = seed,
        conv_kernel = 3, share_qk = true, use_gate = true, pre_conv_kernel = 2 }
    for k, v in pairs(extra or {}) do o[k] = v end
    F.write_random_bitttt(o)
    return Model.load(path, { max_batch = 16 })
end

local function run(session, ids) return F.stack(session:forward(ids, "all")) end

describe("TTT-MLP state and learning (hybrid bitttt model)", function()
    local dir, model
    setup(function()
        dir = helper.tmpdir()
        model = hybrid_model(dir, 1)
    end)
    teardown(function() helper.rmdir(dir) end)

    local prefix = { 72, 101, 108, 108, 111, 44, 32, 119, 111, 114 }   -- 10 tokens: 2.5 mini-batches of 4
    local rest = { 33, 32, 84, 84, 84, 32, 108, 101, 97, 114, 110, 115 }

    it("builds the three mixer kinds with their options", function()
        local kinds = {}
        for l, layer in ipairs(model.w.layers) do kinds[l] = layer.mixer.kind end
        assert.same({ "ttt_mlp", "attention", "ttt_linear", "ttt_mlp" }, kinds)
        local m = model.w.layers[1].mixer
        assert.is_nil(m.wk)
        assert.truthy(m.wg and m.conv_q and m.pre_conv)
        assert.equals(32, m.hidden)
        local s = model:new_session { n_ctx = 64 }
        assert.same({ 4, (8 + 1) * 32 + (32 + 1) * 8 }, s.states[1].weights:shape())
        assert.same({ 1, 32 }, s.states[1].pre_conv_history:shape())
        assert.same({ 2, 32 }, s.states[1].conv_q_history:shape())
    end)

    it("gives the same logits for the prompt at once (dual form) and token by token (primal form)", function()
        local ids = {}
        for i, id in ipairs(prefix) do ids[i] = id end
        for _, id in ipairs(rest) do ids[#ids + 1] = id end
        local whole = run(model:new_session { n_ctx = 64 }, ids)
        local s, rows = model:new_session { n_ctx = 64 }, {}
        for i, id in ipairs(ids) do rows[i] = s:forward({ id }, "last"):clone() end
        local diff = F.max_abs_diff(whole, F.stack(rows))
        assert.is_true(diff <= 1e-4, ("max |delta logits| = %.3g"):format(diff))
    end)

    it("saves and loads: a loaded state continues exactly as an uninterrupted session", function()
        local path = dir .. "/state.safetensors"
        local a = model:new_session { n_ctx = 64 }
        a:forward(prefix, "none")
        a:save_state(path)
        local saved = a:snapshot()
        local uninterrupted = run(a, rest)
        local b = model:new_session { n_ctx = 64 }
        b:forward({ 1, 2, 3 }, "none")   -- whatever it held is replaced
        b:load_state(path)
        assert.equals(#prefix, b.pos)
        assert.equals(0, F.max_abs_diff(uninterrupted, run(b, rest)))
        local tensors = bt.safetensors_load(path)
        for _, name in ipairs({ "weights", "grads", "pre_conv_history", "conv_q_history", "conv_k_history" }) do
            assert.truthy(tensors["layer.1." .. name], name)
            assert.equals(0, F.max_abs_diff(tensors["layer.1." .. name], saved.states[1][name]))
        end
        assert.is_true(F.max_abs_diff(tensors["layer.1.grads"], bt.zeros(tensors["layer.1.grads"]:shape())) > 0,
            "mid-mini-batch: the gradient sums are saved")
    end)

    it("refuses the state of another model", function()
        local path = dir .. "/other.safetensors"
        local other = hybrid_model(dir, 2)
        local o = other:new_session { n_ctx = 64 }
        o:forward(prefix, "none")
        o:save_state(path)
        local s = model:new_session { n_ctx = 64 }
        local ok, err = pcall(s.load_state, s, path)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("the state was saved from another model", 1, true), tostring(err))
        assert.equals(0, s.pos)
        -- the same mixers with other weights, and a model without the gate: both refused
        local plain = hybrid_model(dir, 3, { use_gate = false })
        ok, err = pcall(function() plain:new_session({ n_ctx = 64 }):load_state(path) end)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("another model", 1, true), tostring(err))
    end)

    it("snapshots, restores and forks bit for bit", function()
        local s = model:new_session { n_ctx = 64 }
        s:forward(prefix, "none")
        local snap = s:snapshot()
        local once = run(s, rest)
        s:restore(snap)
        assert.equals(0, F.max_abs_diff(once, run(s, rest)))
        s:restore(snap)
        local branch = s:fork()
        local from_branch = run(branch, rest)
        run(branch, prefix)
        assert.equals(0, F.max_abs_diff(from_branch, run(s, rest)))
    end)

    it("learning rate 0 freezes the TTT-MLP fast weights; a schedule of 1s changes nothing; others do", function()
        local frozen = model:new_session { n_ctx = 64 }
        frozen:set_ttt_lr(0)
        frozen:forward(prefix, "none")
        assert.equals(0, F.max_abs_diff(frozen.states[1].weights, model.w.layers[1].mixer.initial))
        local plain = model:new_session { n_ctx = 64 }
        plain:forward(prefix, "none")
        assert.is_true(F.max_abs_diff(plain.states[1].weights, model.w.layers[1].mixer.initial) > 1e-4)

        local base = run(model:new_session { n_ctx = 64 }, prefix)
        local ones = model:new_session { n_ctx = 64 }
        ones:set_schedule(function() return 1 end)
        assert.equals(0, F.max_abs_diff(base, run(ones, prefix)))
        local seen = {}
        local cos = model:new_session { n_ctx = 64 }
        cos:set_schedule(function(pos, layer, step)
            seen[layer] = true
            return 1 / (1 + step)
        end)
        assert.is_true(F.max_abs_diff(base, run(cos, prefix)) > 1e-4)
        assert.truthy(seen[1] and seen[4], "the schedule is asked for the TTT-MLP layers")
    end)

    it("keeps TTT-MLP layers on the CPU and says why", function()
        local p = Placement.plan(model, { n_gpu_layers = "auto", free = 1e12, reserve = 0 })
        assert.equals("cpu", p.layers[1])
        assert.equals("cpu", p.layers[4])
        assert.truthy(p.reason:find("ttt_mlp: no CUDA kernels for TTT-MLP yet", 1, true), p.reason)
    end)
end)
