-- bench-ternary.lua - ternary matmul and end-to-end speed on the BitNet b1.58 2B4T shapes.
--
--   bitttt-lua bench-ternary.lua [--threads 1,2] [--reps 5] [--format tq2_0] [--no-e2e] [--model FILE]
--   bitttt-lua bench-ternary.lua --bandwidth-only [--threads 1,2] [--reps 5]   (the 1 GiB probe alone)
--
-- Part 1, kernels: every projection of all 30 layers (523.7 MB as TQ2_0, twice
-- this CPU's 260 MiB last-level cache) is multiplied in layer order, one token
-- (decode GEMV); each matrix is timed on its own and the times are summed per
-- shape, so no figure comes from a matrix that sits in cache. The output head
-- (128256 x 2560) likewise, as F16 (656 MB), Q8_0 (349 MB) and Q6_K (269 MB). GEMM (prompt batches of 64 and 512 tokens) in
-- GOP/s (2 ops per weight and token). Bandwidth: a read of a 1 GiB buffer with the
-- same threads and vector width, interleaved with the kernel runs.
-- Part 2, end to end: a synthetic 2B4T-shaped model (made by make-bitnet.lua into
-- build/, or --model), generate.lua with a 128-token prompt, at each thread count.
-- All figures are medians over --reps runs.
local bt = require "bitttt"
local cli = require "bitttt.cli"

local o = cli.parse(arg, {
    { nil, "--threads", key = "threads", type = "string", default = "1,2", help = "thread counts to measure" },
    { nil, "--reps", key = "reps", type = "number", default = 5, help = "repetitions (medians)" },
    { nil, "--format", key = "format", type = "string", default = "tq2_0", help = "tq2_0 or tq1_0" },
    { nil, "--no-e2e", key = "no_e2e", type = "flag", help = "skip the end-to-end part" },
    { nil, "--model", key = "model", type = "string", metavar = "FILE", help = "2B4T-shaped model for part 2" },
    { nil, "--bandwidth-only", key = "bandwidth_only", type = "flag", help = "print only the read bandwidth probe" },
    { nil, "--gen", key = "gen", type = "number", default = 32, help = "tokens to generate in part 2" },
}, "usage: bitttt-lua bench-ternary.lua [options]")

local median = require("bitttt.stats").median

local d, ff, kv, n_layer, vocab = 2560, 6912, 640, 30, 128256
local shapes = {
    { "q, o  2560x2560", d, d, 2 }, { "k, v  640x2560", kv, d, 2 },
    { "gate, up  6912x2560", ff, d, 2 }, { "down  2560x6912", d, ff, 1 },
}
local threads = {}
for t in o.threads:gmatch("%d+") do threads[#threads + 1] = tonumber(t) end

local function time(fn)
    local t0 = bt.clock()
    fn()
    return bt.clock() - t0
end

local probe = bt.zeros({ 1024 * 1024 * 256 }, "f32"):fill(1)     -- 1 GiB
local function read_bandwidth()   -- bytes/s of one read of the probe with the current threads
    return probe:nbytes() / time(function() bt.read_all(probe) end)
end

if o.bandwidth_only then
    for _, nt in ipairs(threads) do
        bt.set_threads(nt)
        read_bandwidth()   -- warm-up
        local bw = {}
        for r = 1, o.reps do bw[r] = read_bandwidth() end
        print(("threads %d: read bandwidth %.2f GB/s (median of %d, 1 GiB buffer)"):format(nt, median(bw) / 1e9, o.reps))
    end
    return
end

io.stderr:write("building 30 layers of random ternary weights ...\n")
local layers, total_bytes, shape_bytes, seed = {}, 0, { 0, 0, 0, 0 }, 1
for l = 1, n_layer do
    layers[l] = {}
    for si, s in ipairs(shapes) do
        for c = 1, s[4] do
            seed = seed + 1
            local w = bt.ternary_random({ s[2], s[3] }, o.format, seed, 0.1)
            layers[l][#layers[l] + 1] = { shape = si, w = w }
            total_bytes = total_bytes + w:nbytes()
            shape_bytes[si] = shape_bytes[si] + w:nbytes()
        end
    end
end
local head = bt.zeros({ vocab, d }, "f16"):normal_(7, 0.02)
-- the head as --head q8_0 / q6_k store it; Q6_K from the first 256 rows repeated (its rule's
-- search takes 2-13 s for the whole head on one thread; the bytes only need to be valid)
local heads = { { "f16", head }, { "q8_0", bt.quantize_q8_0(head) } }
do
    local q6 = bt.quantize_q6_k(head:narrow(1, 1, 256):clone()):tobytes()
    heads[3] = { "q6_k", bt.from_bytes(q6:rep(vocab / 256 + 1):sub(1, vocab * d / 256 * 210), "q6_k", { vocab, d }) }
end
local x = { [d] = bt.zeros({ 1, d }):normal_(3, 1), [ff] = bt.zeros({ 1, ff }):normal_(4, 1) }
local y = { [d] = bt.zeros({ 1, d }), [kv] = bt.zeros({ 1, kv }), [ff] = bt.zeros({ 1, ff }), [vocab] = bt.zeros({ 1, vocab }) }

local function rotation()   -- seconds per shape for one pass over all layers
    local per = { 0, 0, 0, 0 }
    for _, layer in ipairs(layers) do
        for _, m in ipairs(layer) do
            local s = shapes[m.shape]
            per[m.shape] = per[m.shape] + time(function() bt.op_linear(y[s[2]], m.w, x[s[3]]) end)
        end
    end
    return per
end

print(("bench-ternary: %s, %s weights (%.1f MB over %d layers), simd %s"):format(
    bt.info().version, o.format, total_bytes / 1e6, n_layer, bt.info().simd))
for _, nt in ipairs(threads) do
    bt.set_threads(nt)
    local first = time(rotation)   -- warm-up: page in, let the prepared layouts be built (TQ1_0: repacked)
    if nt == threads[1] then print(("first pass (layouts prepared%s): %.3f s"):format(o.format == "tq1_0" and ", repacked as tq2_0" or "", first)) end
    local bw, per, head_t = {}, { {}, {}, {}, {} }, { {}, {}, {} }
    for r = 1, o.reps do
        bw[r] = read_bandwidth()
        local p = rotation()
        for si = 1, 4 do per[si][r] = p[si] end
        for hi, h in ipairs(heads) do head_t[hi][r] = time(function() bt.op_linear(y[vocab], h[2], x[d]) end) end
    end
    local read_bw = median(bw)
    print(("\nthreads %d: read bandwidth %.2f GB/s (median of %d, 1 GiB buffer)"):format(nt, read_bw / 1e9, o.reps))
    print(("| %-22s | %9s | %8s | %9s |"):format("GEMV (decode, m=1)", "time/mat", "GB/s", "of read"))
    print("|" .. ("-"):rep(24) .. "|" .. ("-"):rep(11) .. "|" .. ("-"):rep(10) .. "|" .. ("-"):rep(11) .. "|")
    local all_t = 0
    for si, s in ipairs(shapes) do
        local t = median(per[si])
        all_t = all_t + t
        local bytes = shape_bytes[si]
        print(("| %-22s | %7.3f ms | %8.2f | %8.1f%% |"):format(s[1], t / (n_layer * s[4]) * 1e3, bytes / t / 1e9,
            100 * bytes / t / read_bw))
    end
    print(("| %-22s | %7.3f ms | %8.2f | %8.1f%% |"):format("all 210 (per token)", all_t * 1e3, total_bytes / all_t / 1e9,
        100 * total_bytes / all_t / read_bw))
    for hi, h in ipairs(heads) do
        local ht = median(head_t[hi])
        print(("| %-22s | %7.3f ms | %8.2f | %8.1f%% |"):format("head " .. h[1] .. " 128256x2560", ht * 1e3,
            h[2]:nbytes() / ht / 1e9, 100 * h[2]:nbytes() / ht / read_bw))
    end
    for _, m in ipairs({ 64, 512 }) do
        local xs, ys = bt.zeros({ m, d }):normal_(5, 1), bt.zeros({ m, ff })
        local ts = {}
        local w = layers[1][5].w   -- gate 6912x2560
        bt.op_linear(ys, w, xs)
        for r = 1, o.reps do ts[r] = time(function() bt.op_linear(ys, w, xs) end) end
        local t = median(ts)
        print(("GEMM m=%d 6912x2560: %.2f ms, %.1f GOP/s"):format(m, t * 1e3, 2 * m * ff * d / t / 1e9))
    end
end

if o.no_e2e then return end
local home = rawget(_G, "BITTTT_HOME") or "."
local model = o.model or (home .. "/build/bench-2b4t-" .. o.format .. ".gguf")
local f = io.open(model, "rb")
if f then f:close() else
    io.stderr:write("writing " .. model .. " (synthetic 2B4T shape) ...\n")
    assert(os.execute(("%s/bin/bitttt-lua make-bitnet.lua %s --shape 2b4t --type %s"):format(home, model, o.format)) == 0)
end
local prompt = ("The quick brown fox jumps over the lazy dog. "):rep(13)
print(("\nend to end: %s"):format(model))
print("| threads | prompt tok/s (128 tok) | generate tok/s | peak RSS |")
print("|---------|------------------------|----------------|----------|")
for _, nt in ipairs(threads) do
    local pp, tg, rss = {}, {}, 0
    for r = 1, math.max(1, math.floor(o.reps / 2)) do
        local cmd = ("%s/bin/bitttt-lua generate.lua -m %s -p %q -n %d --temp 0 -t %d -b 128 2>&1 >/dev/null"):format(
            home, model, prompt, o.gen, nt)
        local p = io.popen(cmd)
        local out = p:read("*a")
        p:close()
        local np, ps, ng, gs, mib = out:match("timings: prompt (%d+) tok ([%d.]+) tok/s, generate (%d+) tok ([%d.]+) tok/s, load [%d.]+ s, rss (%d+) MiB")
        if not np then error("generate.lua failed:\n" .. out) end
        pp[r], tg[r], rss = tonumber(ps), tonumber(gs), math.max(rss, tonumber(mib))
    end
    print(("| %7d | %22.2f | %14.2f | %5d MiB |"):format(nt, median(pp), median(tg), rss))
end
