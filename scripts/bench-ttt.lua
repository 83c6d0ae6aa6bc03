-- bench-ttt.lua - decode cost per token of TTT-Linear, TTT-MLP and attention
-- models of the same width, at several context lengths, and the state each session
-- holds. Synthetic random weights (made here; the numbers do not depend on them).
--
--   bitttt-lua bench-ttt.lua [--quick] [--dim D] [--layers L] [--contexts 256,4096,32768]
--
-- The models share embedding, FFN and head; only the mixers differ (attention:
-- n_head heads of 64 with a KV cache; TTT-Linear and TTT-MLP: the same heads,
-- mini-batch 16; TTT-MLP's inner MLP 4 x 64 wide).
-- For context N a session is placed at position N (the cost of a decode step
-- does not depend on the cached values, so the prompt is not computed); all
-- sessions take turns in a shuffled order, `reps` rounds, each turn an untimed token
-- then a timed one (so every session is measured alike whatever ran before it); the
-- table shows the median per token (and TTT-MLP's ratio to its cost at the first context). The last lines compare TTT prefill throughput
-- in the dual and the primal form, for each TTT kind.
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Decoder = require "bitttt.decoder"
local Attention = require "bitttt.mixers.attention"
local TTTLinear = require "bitttt.mixers.ttt_linear"
local TTTMLP = require "bitttt.mixers.ttt_mlp"
local Rng = require "bitttt.rng"

local o = cli.parse(arg, {
    { nil, "--quick", key = "quick", type = "flag", help = "fewer repetitions" },
    { nil, "--dim", key = "dim", type = "number", default = 512, help = "model width" },
    { nil, "--layers", key = "layers", type = "number", default = 2, help = "layers" },
    { nil, "--contexts", key = "contexts", type = "string", default = "256,4096,32768", help = "context lengths" },
    { "-t", "--threads", key = "threads", type = "number", help = "CPU threads" },
    { nil, "--cpu-time", key = "cpu_time", type = "flag",
      help = "time decode steps in process CPU time (with -t 1: steady on a loaded machine)" },
}, "usage: bitttt-lua bench-ttt.lua [--quick] [options]")
if o.threads then bt.set_threads(o.threads) end

local reps = o.quick and 12 or 64
-- wall-clock seconds, or the process's CPU seconds (all its threads) with --cpu-time (decode and prefill)
local clock = o.cpu_time and os.clock or bt.clock
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

-- The fields both TTT kinds share.
local function ttt_fields()
    return {
        wq = random({ d, d }, s), wk = random({ d, d }, s), wv = random({ d, d }, s), wo = random({ d, d }, s),
        lr_weight = random({ H, d }, 0.1), lr_bias = bt.zeros({ H }), token_idx = bt.zeros({ B }),
        ln_weight = bt.full({ H, hd }, 1), ln_bias = bt.zeros({ H, hd }),
        post_weight = bt.full({ d }, 1), post_bias = bt.zeros({ d }),
        n_head = H, head_dim = hd, mini_batch = B, base_lr = 1.0, rope_theta = 10000,
    }
end

local function ttt_mixer()
    local f = ttt_fields()
    f.W1, f.b1 = random({ H, hd, hd }, 0.02), bt.zeros({ H, hd })
    return TTTLinear.new(f)
end

local function ttt_mlp_mixer()
    local f, F = ttt_fields(), 4 * hd
    f.W1, f.b1, f.W2, f.b2 = random({ H, hd, F }, 0.02), bt.zeros({ H, F }), random({ H, F, hd }, 0.02), bt.zeros({ H, hd })
    f.hidden = F
    return TTTMLP.new(f)
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

local models = { attention = model(attention_mixer), ttt = model(ttt_mixer), ttt_mlp = model(ttt_mlp_mixer) }

local median = require("bitttt.stats").median

-- Median seconds per decoded token of every model at every context (see the header),
-- so that load from elsewhere on the machine falls on all of them alike. cost[name][n].
local function decode_costs(names)
    local sessions, times = {}, {}
    for _, name in ipairs(names) do
        sessions[name], times[name] = {}, {}
        for _, n in ipairs(contexts) do
            local session = models[name]:new_session { n_ctx = n + 2 * reps + 2 }
            session.pos = n
            session:forward({ 1 }, "last")   -- warm-up
            sessions[name][n], times[name][n] = session, {}
        end
    end
    local visits = {}
    for _, name in ipairs(names) do
        for _, n in ipairs(contexts) do visits[#visits + 1] = { name, n } end
    end
    for i = 1, reps do
        for k = #visits, 2, -1 do   -- a new order every round
            local j = 1 + math.floor(rng:next() * k)
            visits[k], visits[j] = visits[j], visits[k]
        end
        for _, v in ipairs(visits) do
            local session = sessions[v[1]][v[2]]
            session:forward({ (i * 5) % n_vocab }, "last")   -- untimed: the session's data back in cache
            local t0 = clock()
            session:forward({ (i * 7) % n_vocab }, "last")
            table.insert(times[v[1]][v[2]], clock() - t0)
        end
    end
    local cost = {}
    for _, name in ipairs(names) do
        cost[name] = {}
        for _, n in ipairs(contexts) do cost[name][n] = median(times[name][n]) end
    end
    sessions = nil
    collectgarbage()
    return cost
end

local function mib(bytes) return bytes / 1048576 end

io.write(("decode cost per token (%s), d=%d, %d layers, %d heads of %d, TTT mini-batch %d, %d threads, %d reps (median)\n"):format(
    o.cpu_time and "process CPU time" or "wall clock", d, n_layer, H, hd, B, bt.get_threads(), reps))
io.write("| context | attention ms/token | TTT-Linear ms/token | TTT-MLP ms/token | TTT-MLP vs first context "
    .. "| attention state / session | TTT-Linear state | TTT-MLP state |\n")
io.write("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
local cost = decode_costs({ "attention", "ttt", "ttt_mlp" })
for _, n in ipairs(contexts) do
    local ta, tt, tm = cost.attention[n], cost.ttt[n], cost.ttt_mlp[n]
    io.write(("| %d | %.3f | %.3f | %.3f | %.2fx | %.1f MiB | %.2f MiB | %.2f MiB |\n"):format(n, ta * 1e3, tt * 1e3,
        tm * 1e3, tm / cost.ttt_mlp[contexts[1]], mib(models.attention:state_bytes(n)), mib(models.ttt:state_bytes(n)),
        mib(models.ttt_mlp:state_bytes(n))))
end

-- TTT prefill: the dual form (matrix products per mini-batch) vs the primal form
local n_prefill = o.quick and 128 or 512
local ids = {}
for i = 1, n_prefill do ids[i] = (i * 13) % n_vocab end
for _, kind in ipairs({ { "ttt", "TTT-Linear" }, { "ttt_mlp", "TTT-MLP" } }) do
    local rates = {}
    for _, form in ipairs({ "dual", "primal" }) do
        local session = models[kind[1]]:new_session { n_ctx = n_prefill }
        session.learning.form = form
        local t0 = clock()
        session:forward(ids, "none")
        rates[form] = n_prefill / (clock() - t0)
    end
    io.write(("%s prefill of %d tokens: dual form %.0f tok/s, primal form %.0f tok/s\n"):format(
        kind[2], n_prefill, rates.dual, rates.primal))
end
