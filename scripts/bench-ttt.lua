-- bench-ttt.lua - decode cost per token of a TTT-Linear model and of an attention
-- model of the same width, at several context lengths, and the state each session
-- holds. Synthetic random weights (made here; the numbers do not depend on them).
--
--   bitttt-lua bench-ttt.lua [--quick] [--dim D] [--layers L] [--contexts 256,4096,32768]
--
-- Both models share embedding, FFN and head; only the mixers differ (attention:
-- n_head heads of 64 with a KV cache; TTT-Linear: the same heads, mini-batch 16).
-- For context N the session is placed at position N (the cost of a decode step
-- does not depend on the cached values, so the prompt is not computed) and
-- decodes `reps` tokens; the table shows the median per token. A last line
-- compares TTT prefill throughput in the dual and the primal form.
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Decoder = require "bitttt.decoder"
local Attention = require "bitttt.mixers.attention"
local TTTLinear = require "bitttt.mixers.ttt_linear"
local Rng = require "bitttt.rng"

local o = cli.parse(arg, {
    { nil, "--quick", key = "quick", type = "flag", help = "fewer repetitions" },
    { nil, "--dim", key = "dim", type = "number", default = 512, help = "model width" },
    { nil, "--layers", key = "layers", type = "number", default = 2, help = "layers" },
    { nil, "--contexts", key = "contexts", type = "string", default = "256,4096,32768", help = "context lengths" },
    { "-t", "--threads", key = "threads", type = "number", help = "CPU threads" },
}, "usage: bitttt-lua bench-ttt.lua [--quick] [options]")
if o.threads then bt.set_threads(o.threads) end

local reps = o.quick and 12 or 64
local d, n_layer, hd, B, n_vocab = o.dim, o.layers, 64, 16, 256
local H, n_ff = d / hd, 2 * d
local contexts = {}
for n in o.contexts:gmatch("%d+") do contexts[#contexts + 1] = tonumber(n) end

local rng = Rng.new(1)
local function random(shape, scale)
    local t = bt.zeros(shape)
    local p = t:ptr()
    for i = 0, t:numel() - 1 do p[i] = (2 * rng:next() - 1) * scale end
    return t
end
local s = 1 / math.sqrt(d)

local function ttt_mixer()
    return TTTLinear.new {
        wq = random({ d, d }, s), wk = random({ d, d }, s), wv = random({ d, d }, s), wo = random({ d, d }, s),
        lr_weight = random({ H, d }, 0.1), lr_bias = bt.zeros({ H }), token_idx = bt.zeros({ B }),
        ln_weight = bt.full({ H, hd }, 1), ln_bias = bt.zeros({ H, hd }),
        post_weight = bt.full({ d }, 1), post_bias = bt.zeros({ d }),
        W1 = random({ H, hd, hd }, 0.02), b1 = bt.zeros({ H, hd }),
        n_head = H, head_dim = hd, mini_batch = B, base_lr = 1.0, rope_theta = 10000,
    }
end

local function attention_mixer()
    return Attention.new {
        wq = random({ d, d }, s), wk = random({ d, d }, s), wv = random({ d, d }, s), wo = random({ d, d }, s),
        n_head = H, n_head_kv = H, head_dim = hd, rope_dim = hd, rope_theta = 10000, rope_style = "interleaved",
    }
end

local shared = { tok_embd = random({ n_vocab, d }, 1), output_norm = bt.full({ d }, 1) }
shared.output = shared.tok_embd
local ffn = {}
for l = 1, n_layer do
    ffn[l] = { attn_norm = bt.full({ d }, 1), ffn_norm = bt.full({ d }, 1), ffn_gate = random({ n_ff, d }, s),
        ffn_up = random({ n_ff, d }, s), ffn_down = random({ d, n_ff }, 1 / math.sqrt(n_ff)) }
end

local function model(make_mixer)
    local w = { tok_embd = shared.tok_embd, output_norm = shared.output_norm, output = shared.output, layers = {} }
    for l = 1, n_layer do
        local layer = { mixer = make_mixer() }
        for k, v in pairs(ffn[l]) do layer[k] = v end
        w.layers[l] = layer
    end
    return Decoder.new({ n_embd = d, n_vocab = n_vocab, n_ctx_train = 2048, rms_eps = 1e-6, ffn_act = "silu",
        n_ff = n_ff, max_batch = 512 }, w)
end

local models = { attention = model(attention_mixer), ttt = model(ttt_mixer) }

local median = require("bitttt.stats").median

-- median seconds per decoded token with the session at position n_ctx
local function decode_cost(m, n_ctx)
    local session = m:new_session { n_ctx = n_ctx + reps + 2 }
    session.pos = n_ctx
    session:forward({ 1 }, "last")   -- warm-up
    local times = {}
    for i = 1, reps do
        local t0 = bt.clock()
        session:forward({ (i * 7) % n_vocab }, "last")
        times[i] = bt.clock() - t0
    end
    session = nil
    collectgarbage()
    return median(times)
end

local function mib(bytes) return bytes / 1048576 end

io.write(("decode cost per token, d=%d, %d layers, %d heads of %d, TTT mini-batch %d, %d threads, %d reps (median)\n"):format(
    d, n_layer, H, hd, B, bt.get_threads(), reps))
io.write("| context | attention ms/token | TTT-Linear ms/token | attention state / session | TTT state / session |\n")
io.write("|---:|---:|---:|---:|---:|\n")
for _, n in ipairs(contexts) do
    local ta, tt = decode_cost(models.attention, n), decode_cost(models.ttt, n)
    io.write(("| %d | %.3f | %.3f | %.1f MiB | %.2f MiB |\n"):format(n, ta * 1e3, tt * 1e3,
        mib(models.attention:state_bytes(n)), mib(models.ttt:state_bytes(n))))
    io.flush()
end

-- TTT prefill: the dual form (matrix products per mini-batch) vs the primal form
local n_prefill = o.quick and 128 or 512
local ids = {}
for i = 1, n_prefill do ids[i] = (i * 13) % n_vocab end
local rates = {}
for _, form in ipairs({ "dual", "primal" }) do
    local session = models.ttt:new_session { n_ctx = n_prefill }
    session.learning.form = form
    local t0 = bt.clock()
    session:forward(ids, "none")
    rates[form] = n_prefill / (bt.clock() - t0)
end
io.write(("TTT prefill of %d tokens: dual form %.0f tok/s, primal form %.0f tok/s\n"):format(
    n_prefill, rates.dual, rates.primal))
