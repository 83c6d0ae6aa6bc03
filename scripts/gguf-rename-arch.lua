-- gguf-rename-arch.lua - a copy of a GGUF under another architecture name:
-- general.architecture = NEW and every key "OLD.x" renamed "NEW.x" (type and value
-- unchanged); all other keys and all tensor data as they are. For runtimes that know
-- a model family under another name (llama.cpp at some commits reads BitNet b1.58
-- only as "bitnet", not "bitnet-b1.58").
--
--   bitttt-lua gguf-rename-arch.lua IN.gguf OUT.gguf NEW_NAME
local bt = require "bitttt"

local src, dst, new = arg[1], arg[2], arg[3]
if not (src and dst and new) then
    io.stderr:write("usage: bitttt-lua gguf-rename-arch.lua IN.gguf OUT.gguf NEW_NAME\n")
    os.exit(2)
end
local file = bt.model_open(src)
if file:format() ~= "gguf" then error(src .. ": not a GGUF file", 0) end
local old = bt.gguf_meta(src)["general.architecture"]
if type(old) ~= "string" then error(src .. ": no general.architecture", 0) end

local meta = {}
for key in pairs(bt.gguf_meta(src)) do
    if key ~= "general.architecture" then
        local rest = key:sub(1, #old + 1) == old .. "." and key:sub(#old + 2)
        meta[#meta + 1] = rest and { new .. "." .. rest, "from", src, key } or { key, "from", src }
    end
end
table.sort(meta, function(a, b) return a[1] < b[1] end)
table.insert(meta, 1, { "general.architecture", "str", new })
local tensors = {}
for _, name in ipairs(file:tensor_names()) do tensors[#tensors + 1] = { name, file:tensor(name) } end
bt.gguf_write(dst, meta, tensors)
io.stderr:write(("wrote %s: architecture %s (was %s), %d tensors unchanged\n"):format(dst, new, old, #tensors))
