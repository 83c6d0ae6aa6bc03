-- export.lua - writes the trainer's hand-off (model.safetensors from train.py:
-- tensors under their GGUF names, metadata "TYPE:VALUE" strings) as a GGUF of
-- architecture `bitttt` (docs/bitttt-format.md): BitLinear weights packed as
-- TQ2_0, the embedding as F16, everything else F32.
--
--   bitttt-lua scripts/train/export.lua RUN/model.safetensors OUT.gguf
local bt = require "bitttt"

local src, out = arg[1], arg[2]
if not src or not out then error("usage: bitttt-lua scripts/train/export.lua MODEL.safetensors OUT.gguf", 0) end

local tensors, meta, names = bt.safetensors_load(src)

-- The projections that are BitLinear layers (see train/handoff.py TERNARY_SUFFIXES).
local ternary_suffixes = { "_q.weight", "_k.weight", "_v.weight", "_output.weight", "ffn_gate.weight",
    "ffn_up.weight", "ffn_down.weight" }
local function is_ternary(name)
    for _, s in ipairs(ternary_suffixes) do
        if name:sub(-#s) == s then return true end
    end
    return false
end

local function lines(text)
    local out = {}
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = line end
    return out
end

local function numbers(text)
    local out = {}
    for i, s in ipairs(lines(text)) do out[i] = assert(tonumber(s), "not a number: " .. s) end
    return out
end

-- "TYPE:VALUE" -> a gguf_write entry
local function entry(key, typed)
    local ty, value = typed:match("^([^:]+):(.*)$")
    if not ty then error(("%s: metadata %s: expected TYPE:VALUE"):format(src, key), 0) end
    if ty == "str" then return { key, "str", value } end
    if ty == "bool" then return { key, "bool", value == "true" } end
    if ty == "u32" or ty == "i32" or ty == "f32" then return { key, ty, assert(tonumber(value), key) } end
    if ty == "[str]" then return { key, "[str]", lines(value) } end
    if ty == "[i32]" or ty == "[u32]" or ty == "[f32]" then return { key, ty, numbers(value) } end
    error(("%s: metadata %s: unknown type %s"):format(src, key, ty), 0)
end

local keys = {}
for k in pairs(meta) do
    if k:match("^general%.") or k:match("^bitttt%.") or k:match("^tokenizer%.") then keys[#keys + 1] = k end
end
table.sort(keys, function(a, b)
    if a == "general.architecture" or b == "general.architecture" then return a == "general.architecture" end
    return a < b
end)
local gguf_meta = {}
for _, k in ipairs(keys) do gguf_meta[#gguf_meta + 1] = entry(k, meta[k]) end

local gguf_tensors = {}
for _, name in ipairs(names) do
    local t = tensors[name]
    if is_ternary(name) then
        t = bt.ternary_pack(t, "tq2_0")
    elseif name == "token_embd.weight" then
        t = t:to("f16")
    end
    gguf_tensors[#gguf_tensors + 1] = { name, t }
end
bt.gguf_write(out, gguf_meta, gguf_tensors)
io.stderr:write(("export: wrote %s (%d tensors, %d metadata keys)\n"):format(out, #gguf_tensors, #gguf_meta))
