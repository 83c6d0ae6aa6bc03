-- cli.lua - a small command-line option parser for the scripts.
--
--   local opts = cli.parse(arg, spec, usage)
-- spec: array of { "-m", "--model", key = "model", type = "string"|"number"|"flag"|"list", default = ..., help = "..." }
-- A number option may say whole = true, min = X, max = Y (inclusive), above = X, below = Y
-- (exclusive); NaN and infinities are always refused. aliases = { "--other-name" } adds names.
-- Unknown options, missing values and bad numbers raise a usage error (cli.usage_error) that
-- names the option. `--help` prints the usage text built from the spec and exits 0; after `--`
-- every argument is positional.
local cli = {}

-- Errors as the bitttt-lua host reports them: { message =, exit_code = }; tostring gives the message.
local error_object = { __tostring = function(e) return e.message end }

--- Raises an error the host reports as one line and exits with `exit_code` (default 1).
function cli.fail(message, exit_code)
    error(setmetatable({ message = message, exit_code = exit_code or 1 }, error_object), 0)
end

--- Raises a usage error: a bad or missing option or value (exit status 2).
function cli.usage_error(message) cli.fail(message, 2) end

-- The number an option's text gives, checked against the option's whole, min/max (inclusive)
-- and above/below (exclusive) bounds.
local function check_number(o, name, text)
    local n = tonumber(text)
    local bounds = {}
    if o.min then bounds[#bounds + 1] = ">= " .. o.min end
    if o.above then bounds[#bounds + 1] = "> " .. o.above end
    if o.max then bounds[#bounds + 1] = "<= " .. o.max end
    if o.below then bounds[#bounds + 1] = "< " .. o.below end
    local wants = (o.whole and "a whole number" or "a number") .. (#bounds > 0 and (" " .. table.concat(bounds, " and ")) or "")
    if not n or n ~= n or n == math.huge or n == -math.huge or (o.whole and n ~= math.floor(n))
        or (o.min and n < o.min) or (o.max and n > o.max) or (o.above and n <= o.above) or (o.below and n >= o.below) then
        cli.usage_error(("option %s needs %s, got '%s'"):format(name, wants, text))
    end
    return n
end

local function format_help(spec, usage)
    local lines = { usage, "", "options:" }
    for _, o in ipairs(spec) do
        local names = o[1] and o[2] and (o[1] .. ", " .. o[2]) or (o[1] or o[2])
        if o.aliases then names = names .. ", " .. table.concat(o.aliases, ", ") end
        local arg_name = o.type == "flag" and "" or (" " .. (o.metavar or o.type:upper()))
        local default = o.default ~= nil and o.type ~= "flag" and ("  (default: " .. tostring(o.default) .. ")") or ""
        lines[#lines + 1] = ("  %-28s %s%s"):format(names .. arg_name, o.help or "", default)
    end
    lines[#lines + 1] = ("  %-28s %s"):format("-h, --help", "show this help")
    return table.concat(lines, "\n")
end

function cli.parse(argv, spec, usage)
    local by_name, opts, positional = {}, {}, {}
    for _, o in ipairs(spec) do
        for i = 1, 2 do if o[i] then by_name[o[i]] = o end end
        for _, alias in ipairs(o.aliases or {}) do by_name[alias] = o end
        if o.type == "list" then opts[o.key] = {} else opts[o.key] = o.default end
    end
    local i = 1
    while i <= #argv do
        local a = argv[i]
        if a == "-h" or a == "--help" then
            io.write(format_help(spec, usage), "\n")
            os.exit(0)
        end
        local name, inline = a:match("^(%-%-[^=]+)=(.*)$")
        local o = by_name[name or a]
        if a == "--" then   -- the end of the options: the rest is positional, even "-x"
            for k = i + 1, #argv do positional[#positional + 1] = argv[k] end
            break
        elseif not o then
            if a:sub(1, 1) == "-" and #a > 1 and not tonumber(a) then
                cli.usage_error(("unknown option '%s' (see --help)"):format(a))
            end
            positional[#positional + 1] = a
        elseif o.type == "flag" then
            opts[o.key] = true
        else
            local v = inline
            if v == nil then
                i = i + 1
                v = argv[i]
                if v == nil then cli.usage_error(("option %s needs a value"):format(a)) end
            end
            if o.type == "number" then v = check_number(o, name or a, v) end
            if o.type == "list" then table.insert(opts[o.key], v) else opts[o.key] = v end
        end
        i = i + 1
    end
    return opts, positional
end

--- The option spec entry and parser for --n-gpu-layers, shared by the scripts.
cli.gpu_layers_option = { "-ngl", "--n-gpu-layers", key = "n_gpu_layers", type = "string", metavar = "N|auto",
    default = "0", help = "layers to place on the GPU: a count, or auto (as many as fit)" }

cli.gpu_mem_option = { nil, "--gpu-mem", key = "gpu_mem", type = "string", metavar = "SIZE",
    help = "the most GPU memory the placer may use, e.g. 8GiB or 512MiB (default: what is free)" }

local size_units = { [""] = 1, B = 1, K = 1024, KIB = 1024, M = 1024 ^ 2, MIB = 1024 ^ 2, G = 1024 ^ 3, GIB = 1024 ^ 3,
    KB = 1e3, MB = 1e6, GB = 1e9 }

--- Bytes from a size's text: a number and an optional unit (B, KiB/K, MiB/M, GiB/G: powers of
-- 1024; KB, MB, GB: of 1000); errors name the option.
function cli.size(text, option)
    local number, unit = tostring(text):match("^%s*([%d.]+)%s*(%a*)%s*$")
    local n, scale = tonumber(number), unit and size_units[unit:upper()]
    if not n or not scale then
        cli.usage_error(("%s needs a size such as 8GiB, 512MiB or 1000000 (bytes), got '%s'"):format(option, tostring(text)))
    end
    return math.floor(n * scale)
end

--- "auto" or a whole number >= 0 from the option's text; errors name the option.
function cli.gpu_layers(text)
    if text == "auto" then return "auto" end
    local n = tonumber(text)
    if not n or n < 0 or n ~= math.floor(n) then
        cli.usage_error(("--n-gpu-layers needs a whole number >= 0 or auto, got '%s'"):format(tostring(text)))
    end
    return n
end

---------------------------------------------------------------- shared by the model scripts

cli.threads_option = { "-t", "--threads", key = "threads", type = "number", whole = true, min = 1, max = 4096,
    help = "CPU threads (default: BITTTT_THREADS, else chosen from the model's layer sizes and the cores)" }
cli.tokenizer_option = { "-z", "--tokenizer", key = "tokenizer", type = "string", metavar = "FILE",
    help = "tokenizer: a llama2.c tokenizer.bin or a GGUF with a vocabulary" }
cli.ctx_option = { "-c", "--ctx-size", key = "ctx", type = "number", whole = true, min = 1,
    help = "context size (default: the file's, at most 4096, for models with attention; no limit without)" }
cli.ttt_lr_option = { nil, "--ttt-lr", key = "ttt_lr", type = "number", min = 0, metavar = "LR",
    help = "TTT inner base learning rate; 0 freezes the fast weights (default: the model's)" }
cli.ttt_schedule_option = { nil, "--ttt-schedule", key = "ttt_schedule", type = "string", metavar = "NAME|FILE.lua",
    help = "TTT learning-rate schedule: constant[:M], warmup:N, cosine:N[,MIN], inv_sqrt:N, piecewise:P=M,..., FILE.lua" }
--- --head: quantize a float output head at load (model.lua's opts.head).
cli.head_option = { nil, "--head", key = "head", type = "string", metavar = "q8_0|q6_k",
    help = "quantize a float (f16/bf16/f32) output head at load: q8_0 reads 53% of F16's bytes, q6_k 41%" }

--- -b/--batch-size (also spelled --batch) with the script's default.
function cli.batch_option(default)
    return { "-b", "--batch-size", key = "batch", type = "number", whole = true, min = 1, default = default,
        aliases = { "--batch" }, help = "prompt tokens per forward call" }
end

-- The script's name for messages (arg[0] without its folder).
local function script_name()
    local a = rawget(_G, "arg")
    return a and a[0] and tostring(a[0]):match("[^/]*$") or "bitttt"
end

--- A one-line warning on stderr: "bitttt-lua: <script>: warning: <text>".
function cli.warn(text)
    io.stdout:flush()
    io.stderr:write(("bitttt-lua: %s: warning: %s\n"):format(script_name(), text))
end

--- What can be checked before a model loads, from the options the scripts share:
-- threads set, the model and tokenizer files checked by their magic, the text file
-- (o.file) readable, --ttt-schedule read (o.schedule), --n-gpu-layers read (o.gpu_layers),
-- --gpu-mem read (o.gpu_mem_bytes).
function cli.prepare(o)
    local FileKind = require "bitttt.file_kind"
    if o.threads then require("bitttt").set_threads(o.threads) end
    if o.model then FileKind.check(o.model, "model") end
    if o.tokenizer then FileKind.check(o.tokenizer, "tokenizer") end
    if o.file then FileKind.check(o.file, "file") end
    if o.n_gpu_layers then o.gpu_layers = cli.gpu_layers(o.n_gpu_layers) end
    if o.gpu_mem then o.gpu_mem_bytes = cli.size(o.gpu_mem, "--gpu-mem") end
    if o.head then
        local bad = require("bitttt.model").check_head_type(o.head)
        if bad then cli.usage_error(bad) end
    end
    if o.ttt_schedule then
        local Schedules = require "bitttt.schedules"
        if o.ttt_schedule:match("%.lua$") then   -- the user's file: its own errors, with its positions
            o.schedule = Schedules.parse(o.ttt_schedule)
        else
            local ok, schedule = pcall(Schedules.parse, o.ttt_schedule)
            if not ok then cli.usage_error(tostring(schedule)) end
            o.schedule = schedule
        end
    end
end

--- Warns when TTT options were given for a model whose layers do not learn.
function cli.warn_unused_ttt(model, o)
    if o.ttt_lr == nil and o.ttt_schedule == nil then return end
    for _, layer in ipairs(model.w.layers) do
        if layer.mixer.kind ~= "attention" then return end
    end
    cli.warn(("%s has no effect: %s has no test-time-training layers"):format(
        o.ttt_lr ~= nil and "--ttt-lr" or "--ttt-schedule", model.path or "the model"))
end

--- The --kv-type option entry, shared by the scripts (what a KV cache holds; see Model.load).
cli.kv_type_option = { nil, "--kv-type", key = "kv_type", type = "string", metavar = "f16|f32|q8_0", default = "f16",
    help = "KV cache element type (f32: exact, as the reference logits; q8_0: half of f16's memory)" }

return cli
