-- hybrid_check.lua - end-to-end checks of CPU/GPU placement for scripts/gpu-check.sh.
--
--   bitttt-lua scripts/cuda/hybrid_check.lua agree MODEL [--configs 0,half,all] [--prompt P] [--tokens N]
--   bitttt-lua scripts/cuda/hybrid_check.lua speed MODEL [--configs 0,all] [--prompt P] [--tokens N]
--
-- agree: loads MODEL once per config (layers on the GPU: a number, "half", "all"
-- or "auto"), feeds the same prompt as one batch and decodes greedily, and
-- compares every config's tokens with the first config's. Tokens must be equal;
-- a config may part ways only at a near-tie: where the reference's top two
-- logits are closer than twice the largest logit difference the two configs
-- show at that very step (both saw the same tokens up to there). Prints one line
-- per config and exits 1 on a disagreement or an error.
--
-- speed: per config, a warm-up (first launches, page faults), then the prompt
-- as one batch (prefill tokens/s) and N greedy tokens one at a time (decode
-- tokens/s), wall clock; then the speed-ups over the first config.
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Model = require "bitttt.model"

local o, pos = cli.parse(arg, {
    { nil, "--configs", key = "configs", type = "string", help = "comma-separated layer counts: N, half, all, auto" },
    { nil, "--prompt", key = "prompt", type = "number", default = 16, help = "prompt tokens (one batch)" },
    { nil, "--tokens", key = "tokens", type = "number", default = 24, help = "tokens to decode" },
    { "-c", "--ctx-size", key = "ctx", type = "number", default = 512, help = "context size" },
}, "usage: bitttt-lua hybrid_check.lua agree|speed MODEL [options]")
local mode, path = pos[1], pos[2]
if (mode ~= "agree" and mode ~= "speed") or not path then error("usage: hybrid_check.lua agree|speed MODEL (see --help)", 0) end
o.configs = o.configs or (mode == "agree" and "0,half,all" or "0,all")

local clock = bt.clock

-- Layer counts for the configs, knowing the model's layer count.
local function parse_configs(n_layers)
    local list = {}
    for word in o.configs:gmatch("[^,]+") do
        local n = word == "half" and math.floor(n_layers / 2) or word == "all" and n_layers or
            word == "auto" and "auto" or tonumber(word)
        if not n then error("--configs: '" .. word .. "' is not a layer count, half, all or auto", 0) end
        list[#list + 1] = { name = word, n_gpu_layers = n }
    end
    return list
end

local function argmax(logits)
    local p, best, id = logits:ptr(), -math.huge, 0
    for i = 0, logits:numel() - 1 do
        if p[i] > best then best, id = p[i], i end
    end
    return id, best
end

-- The gap between the largest logit and the runner-up.
local function top2_margin(logits)
    local p, a, b = logits:ptr(), -math.huge, -math.huge
    for i = 0, logits:numel() - 1 do
        local v = p[i]
        if v > a then a, b = v, a elseif v > b then b = v end
    end
    return a - b
end

local function max_abs_diff(x, y)
    local p, q, worst = x:ptr(), y:ptr(), 0
    for i = 0, x:numel() - 1 do worst = math.max(worst, math.abs(p[i] - q[i])) end
    return worst
end

local function max_abs(x)
    local p, m = x:ptr(), 0
    for i = 0, x:numel() - 1 do m = math.max(m, math.abs(p[i])) end
    return m
end

-- A fixed prompt: BOS, then ids spread over the vocabulary.
local function make_prompt(model, n)
    local ids, v = { model.tokenizer and model.tokenizer:bos() or 1 }, 12345
    for i = 2, n do
        v = (v * 1103515245 + 12345) % 2147483648
        ids[i] = v % model.cfg.n_vocab
    end
    return ids
end

local function placed_summary(model)
    local p = model.placement
    local on = 0
    for _, d in ipairs(p.layers) do if d ~= "cpu" then on = on + 1 end end
    return ("%d/%d layers on the GPU, head %s, embedding %s"):format(on, #p.layers, p.head, p.embd)
end

local function load(config)
    collectgarbage()   -- the previous config's weights and buffers go back to the pools first
    local model = Model.load(path, { n_gpu_layers = config.n_gpu_layers, n_ctx = o.ctx, max_batch = math.max(o.prompt, 1) })
    if config.n_gpu_layers ~= 0 and model.placement.device == "cpu" then
        error("config " .. config.name .. ": nothing was placed on a GPU: " .. model.placement.reason, 0)
    end
    return model, model:new_session { n_ctx = o.ctx }
end

---------------------------------------------------------------- agree

local function greedy(config)
    local model, s = load(config)
    local steps, tokens = {}, {}
    local logits = s:forward(make_prompt(model, o.prompt), "last")
    for i = 1, o.tokens do
        steps[i] = logits:clone()
        tokens[i] = argmax(steps[i])
        if i < o.tokens then logits = s:forward({ tokens[i] }, "last") end
    end
    return { tokens = tokens, steps = steps, summary = placed_summary(model) }
end

local function agree()
    local first = Model.load(path)
    local configs = parse_configs(#first.w.layers)
    first = nil
    local ref, failed = nil, false
    for _, config in ipairs(configs) do
        local ok, run = pcall(greedy, config)
        if not ok then
            print(("agree %-5s ERROR: %s"):format(config.name, tostring(run)))
            failed = true
        elseif not ref then
            ref = run
            print(("agree %-5s reference (%s): %s"):format(config.name, run.summary, table.concat(run.tokens, " ")))
        else
            local worst, scale, parted = 0, 0, nil
            for i = 1, o.tokens do
                local d = max_abs_diff(run.steps[i], ref.steps[i])
                worst, scale = math.max(worst, d), math.max(scale, max_abs(ref.steps[i]))
                if run.tokens[i] ~= ref.tokens[i] then
                    parted = { step = i, margin = top2_margin(ref.steps[i]), diff = d }
                    break
                end
            end
            local same = ("max |logit difference| %.3g (logits up to %.3g)"):format(worst, scale)
            if not parted then
                print(("agree %-5s ok: %d/%d tokens identical, %s; %s"):format(config.name, o.tokens, o.tokens, same, run.summary))
            elseif parted.margin <= 2 * parted.diff then
                print(("agree %-5s ok: identical up to step %d, then a near-tie (reference top-2 gap %.3g <= 2 x difference %.3g); %s; %s"):format(
                    config.name, parted.step, parted.margin, parted.diff, same, run.summary))
            else
                failed = true
                print(("agree %-5s FAIL: token %d is %d, reference %d (reference top-2 gap %.3g, difference %.3g); %s; %s"):format(
                    config.name, parted.step, run.tokens[parted.step], ref.tokens[parted.step], parted.margin, parted.diff,
                    same, run.summary))
            end
        end
    end
    print(failed and "agree: FAIL" or "agree: PASS")
    os.exit(failed and 1 or 0)
end

---------------------------------------------------------------- speed

local function timed(config)
    local t0 = clock()
    local model, s = load(config)
    local t_load = clock() - t0
    local prompt = make_prompt(model, o.prompt)
    local logits = s:forward({ prompt[1], prompt[2], prompt[3] }, "last")   -- warm-up
    s:forward({ argmax(logits) }, "last")
    s:reset()
    t0 = clock()
    logits = s:forward(prompt, "last")
    local t_prefill = clock() - t0
    local tokens = {}
    t0 = clock()
    for i = 1, o.tokens do
        tokens[i] = argmax(logits)
        logits = s:forward({ tokens[i] }, "last")
    end
    local t_decode = clock() - t0
    return { load = t_load, prefill = o.prompt / t_prefill, decode = o.tokens / t_decode, tokens = tokens,
        summary = placed_summary(model) }
end

local function speed()
    local first = Model.load(path)
    local configs = parse_configs(#first.w.layers)
    first = nil
    local results, failed = {}, false
    print(("speed: %s, prompt %d tokens as one batch, %d greedy tokens, %d CPU threads"):format(
        path:match("[^/]+$"), o.prompt, o.tokens, bt.get_threads()))
    for i, config in ipairs(configs) do
        local ok, r = pcall(timed, config)
        if ok then
            results[i] = r
            local agree = ""
            if i > 1 and results[1] then
                local same = 0
                while same < #r.tokens and r.tokens[same + 1] == results[1].tokens[same + 1] do same = same + 1 end
                agree = (", tokens as config %s: %d/%d"):format(configs[1].name, same, #r.tokens)
            end
            print(("speed %-5s prefill %8.2f tok/s  decode %8.2f tok/s  load %6.2f s  (%s%s)"):format(
                config.name, r.prefill, r.decode, r.load, r.summary, agree))
        else
            failed = true
            print(("speed %-5s ERROR: %s"):format(config.name, tostring(r)))
        end
    end
    for i = 2, #configs do
        if results[1] and results[i] then
            print(("speed %-5s vs %s: prefill %.1fx, decode %.1fx"):format(configs[i].name, configs[1].name,
                results[i].prefill / results[1].prefill, results[i].decode / results[1].decode))
        end
    end
    os.exit(failed and 1 or 0)
end

if mode == "agree" then agree() else speed() end
