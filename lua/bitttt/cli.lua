-- cli.lua - a small command-line option parser for the scripts.
--
--   local opts = cli.parse(arg, spec, usage)
-- spec: array of { "-m", "--model", key = "model", type = "string"|"number"|"flag"|"list", default = ..., help = "..." }
-- Unknown options, missing values and bad numbers raise an error that names the option.
-- `--help` prints the usage text built from the spec and exits 0; after `--` every argument is positional.
local cli = {}

local function format_help(spec, usage)
    local lines = { usage, "", "options:" }
    for _, o in ipairs(spec) do
        local names = o[1] and o[2] and (o[1] .. ", " .. o[2]) or (o[1] or o[2])
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
                error(("unknown option '%s' (see --help)"):format(a), 0)
            end
            positional[#positional + 1] = a
        elseif o.type == "flag" then
            opts[o.key] = true
        else
            local v = inline
            if v == nil then
                i = i + 1
                v = argv[i]
                if v == nil then error(("option %s needs a value"):format(a), 0) end
            end
            if o.type == "number" then
                local n = tonumber(v)
                if not n then error(("option %s needs a number, got '%s'"):format(name or a, v), 0) end
                v = n
            end
            if o.type == "list" then table.insert(opts[o.key], v) else opts[o.key] = v end
        end
        i = i + 1
    end
    return opts, positional
end

--- The option spec entry and parser for --n-gpu-layers, shared by the scripts.
cli.gpu_layers_option = { "-ngl", "--n-gpu-layers", key = "n_gpu_layers", type = "string", metavar = "N|auto",
    default = "0", help = "layers to place on the GPU: a count, or auto (as many as fit)" }

--- --head: quantize a float output head at load (model.lua's opts.head).
cli.head_option = { nil, "--head", key = "head", type = "string", metavar = "q8_0",
    help = "quantize a float (f16/bf16/f32) output head to q8_0 at load: about half the bytes read per token" }

--- "auto" or a whole number >= 0 from the option's text; errors name the option.
function cli.gpu_layers(text)
    if text == "auto" then return "auto" end
    local n = tonumber(text)
    if not n or n < 0 or n ~= math.floor(n) then
        error(("--n-gpu-layers needs a whole number >= 0 or auto, got '%s'"):format(tostring(text)), 0)
    end
    return n
end

return cli
