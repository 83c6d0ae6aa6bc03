-- kinds_spec.lua - one list of names per kind of choice (base/kinds.h, core.activations,
-- core.rope_styles): an unknown activation, RoPE style, TTT form or forward `want` is
-- refused with an error naming it, at the op and where a graph is built, never run as
-- some default.
local bt = require "bitttt"
local core = bt.core
local Attention = require "bitttt.mixers.attention"
local Decoder = require "bitttt.decoder"
local F = require "ttt_fixtures"
local Kinds = require "bitttt.kinds"

local function message(fn)
    local ok, err = pcall(fn)
    assert.is_false(ok, "accepted")
    return tostring(err)
end

local function contains(text, part) assert.truthy(text:find(part, 1, true), text) end

describe("kinds", function()
    it("are listed by core as the C enums name them", function()
        assert.same({ "silu", "relu2" }, core.activations)
        assert.same({ "interleaved", "neox" }, core.rope_styles)
        assert.equals("neox", Kinds.check("x", "neox", Kinds.rope_styles))
    end)

    it("ops refuse an unknown activation or RoPE style by name", function()
        local a, b = bt.zeros({ 2, 4 }), bt.zeros({ 2, 4 })
        contains(message(function() core.op_gated(a, a, b, "gelu") end),
                 "op_gated: unknown activation 'gelu' (expected silu or relu2)")
        contains(message(function() core.op_activate(a, b, "SiLU") end), "op_activate: unknown activation 'SiLU'")
        local pos = core.empty({ 2 }, "i32")
        pos:fill(0)
        contains(message(function() core.op_rope(a, pos, 1, 4, 4, 10000, "yarn") end),
                 "op_rope: unknown RoPE style 'yarn' (expected interleaved or neox)")
    end)

    it("a graph with an unknown activation or RoPE style is refused when it is built", function()
        contains(message(function() Decoder.new({ ffn_act = "gelu" }, { layers = {} }) end),
                 "decoder: ffn_act is 'gelu'; expected silu or relu2")
        contains(message(function() Decoder.new({}, { layers = {} }) end), "decoder: ffn_act is 'nil'")
        local w = bt.zeros({ 8, 8 })
        local p = { wq = w, wk = w, wv = w, wo = w, n_head = 2, n_head_kv = 2, head_dim = 4, rope_dim = 4,
                    rope_theta = 10000, rope_style = "rotate" }
        contains(message(function() Attention.new(p) end), "attention: rope_style is 'rotate'; expected interleaved or neox")
        p.rope_style = nil
        contains(message(function() Attention.new(p) end), "attention: rope_style is 'nil'")
    end)

    it("a session refuses an unknown TTT form and an unknown forward want", function()
        local model = F.random_ttt_model { seed = 7 }
        local s = model:new_session { n_ctx = 32 }
        contains(message(function() s:forward({ 1, 2, 3 }, "first") end), "forward: want is 'first'; expected last, all or none")
        s.learning.form = "semi-dual"
        contains(message(function() s:forward({ 1, 2, 3 }) end),
                 "op_ttt_linear: unknown TTT form 'semi-dual' (expected auto, dual or primal)")
    end)
end)
