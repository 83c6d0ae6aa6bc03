-- bench-threads.lua - where a second thread starts to pay: the decode time of one
-- layer's matrices (4 of d x d as the mixer's q, k, v, o; gate and up of 3d x d;
-- down of d x 3d; ternary TQ2_0, one token) at 1 and 2 threads, for growing d,
-- then generate.lua on the bundled model at -t 1, -t 2 and the default.
--
--   bitttt-lua bench-threads.lua [--reps 15] [--widths 128,256,...] [--no-e2e]
--
-- Runs at 1 and 2 threads alternate (the machine may be shared: its load
-- average is printed), and every figure is the median over --reps runs. The
-- crossover it prints (the smallest width where 2 threads are 10% faster, as
-- weights per layer) is what lua/bitttt/threads.lua's rule is set from.
local bt = require "bitttt"
local cli = require "bitttt.cli"

local o = cli.parse(arg, {
    { nil, "--reps", key = "reps", type = "number", whole = true, min = 1, default = 15, help = "runs per figure (medians)" },
    { nil, "--widths", key = "widths", type = "string", default = "256,512,768,1024,1280,1536,2048,2560",
      help = "model widths d to measure (multiples of 256)" },
    { nil, "--tokens", key = "tokens", type = "number", whole = true, min = 1, default = 20,
      help = "tokens (layer passes) per timed run" },
    { nil, "--no-e2e", key = "no_e2e", type = "flag", help = "skip generate.lua on the bundled model" },
    { nil, "--no-kernels", key = "no_kernels", type = "flag", help = "skip the per-width layer timings" },
}, "usage: bitttt-lua bench-threads.lua [options]")

local median = require("bitttt.stats").median

local function load_average()
    local f = io.open("/proc/loadavg")
    local s = f and f:read("*l") or "?"
    if f then f:close() end
    return s:match("^(%S+ %S+ %S+)") or s
end

-- One layer of width d: { w = ternary [n, k], x = [1, k], y = [1, n] } per matrix.
local function layer(d, seed)
    local mats = {}
    local function add(n, k)
        seed = seed + 1
        mats[#mats + 1] = { w = bt.ternary_random({ n, k }, "tq2_0", seed, 0.1), x = bt.zeros({ 1, k }):normal_(seed, 1),
            y = bt.zeros({ 1, n }) }
    end
    for _ = 1, 4 do add(d, d) end
    add(3 * d, d) add(3 * d, d) add(d, 3 * d)
    return mats
end

local function pass_time(mats, threads)
    bt.set_threads(threads)
    local t0 = bt.clock()
    for _ = 1, o.tokens do
        for _, m in ipairs(mats) do bt.op_linear(m.y, m.w, m.x) end
    end
    return (bt.clock() - t0) / o.tokens
end

print(("bench-threads: %s, simd %s, %d cores; load average before: %s"):format(bt.info().version, bt.info().simd,
    bt.get_threads(), load_average()))
-- Part 1: one layer of each width at 1 and 2 threads.
local function kernels()
    print("| d | weights per layer | 1 thread us/layer | 2 threads us/layer | 2 threads speed-up |")
    print("|---:|---:|---:|---:|---:|")
    local crossover
    for w in o.widths:gmatch("%d+") do
        local d = tonumber(w)
        local mats = layer(d, d)
        pass_time(mats, 1) pass_time(mats, 2)   -- warm-up: page in, build the kernels' layouts
        local t1, t2 = {}, {}
        for r = 1, o.reps do
            t1[r] = pass_time(mats, 1)
            t2[r] = pass_time(mats, 2)
        end
        local m1, m2 = median(t1), median(t2)
        local weights = 10 * d * d
        if not crossover and m1 / m2 >= 1.1 then crossover = weights end
        print(("| %d | %d | %.1f | %.1f | %.2fx |"):format(d, weights, m1 * 1e6, m2 * 1e6, m1 / m2))
    end
    print(("crossover (2 threads >= 1.1x faster) from %s weights per layer; load average after: %s"):format(
        crossover and tostring(crossover) or "none measured", load_average()))
end
if not o.no_kernels then kernels() end

if o.no_e2e then return end
local home = rawget(_G, "BITTTT_HOME") or "."
local function generate(threads)
    local cmd = ("%s/bin/bitttt-lua generate.lua -p %q -n 128 --temp 0 --ignore-eos %s 2>&1 >/dev/null"):format(
        home, "Once upon a time", threads and ("-t " .. threads) or "")
    local p = io.popen(cmd)
    local out = p:read("*a")
    p:close()
    local pp, tg = out:match("timings: prompt %d+ tok ([%d.]+) tok/s, generate %d+ tok ([%d.]+) tok/s")
    if not tg then error("generate.lua failed:\n" .. out, 0) end
    return tonumber(pp), tonumber(tg)
end
local runs = { { "-t 1", 1 }, { "-t 2", 2 }, { "default", nil } }
local tg = { {}, {}, {} }
for r = 1, o.reps do
    for i, run in ipairs(runs) do tg[i][r] = select(2, generate(run[2])) end
end
print(("\nbundled model, generate.lua -n 128 --temp 0 (median of %d, alternating); load average: %s"):format(o.reps,
    load_average()))
print("| threads | generate tok/s |")
print("|---|---:|")
for i, run in ipairs(runs) do print(("| %s | %.1f |"):format(run[1], median(tg[i]))) end
local best = math.max(median(tg[1]), median(tg[2]))
print(("default / faster of -t 1 and -t 2: %.1f%%"):format(100 * median(tg[3]) / best))
