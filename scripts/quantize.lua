-- quantize.lua - turns the projection weights of a float GGUF (F32/F16/BF16) into
-- ternary with the BitNet b1.58 rule and writes a new GGUF:
--   per-tensor scale = mean|W|, W_q = clamp(round(W / scale), -1, 1), W ~ W_q * scale.
-- Projections are the 2-d weights blk.N.{attn_q,attn_k,attn_v,attn_output,
-- ffn_gate,ffn_up,ffn_down}.weight; everything else (embedding, norms, head) and
-- all metadata are copied as they are. --head q8_0 (or q6_k) also writes the output
-- head as Q8_0 (Q6_K), llama.cpp's layout and rule: output.weight if the file has one,
-- else a new output.weight quantized from the tied token_embd (which stays as it is).
--
--   bitttt-lua quantize.lua IN.gguf OUT.gguf [tq2_0|tq1_0] [--head q8_0|q6_k]
local bt = require "bitttt"
local cli = require "bitttt.cli"

local usage = "usage: bitttt-lua quantize.lua IN.gguf OUT.gguf [tq2_0|tq1_0] [--head q8_0|q6_k]"
local o, pos = cli.parse(arg, { { nil, "--head", key = "head", type = "string", metavar = "q8_0|q6_k",
    help = "also write the output head as q8_0 or q6_k (output.weight; from token_embd when the head is tied)" } }, usage)
local src, dst, format = pos[1], pos[2], pos[3] or "tq2_0"
if not (src and dst) or #pos > 3 then cli.usage_error("expected IN.gguf OUT.gguf [tq2_0|tq1_0] (see --help)") end
local file_type = ({ tq2_0 = 37, tq1_0 = 36 })[format] or cli.usage_error("format must be tq2_0 or tq1_0, got " .. format)
local Model = require "bitttt.model"
local head = o.head
if head and Model.check_head_type(head) then cli.usage_error(Model.check_head_type(head)) end

require("bitttt.file_kind").check(src, "model")
local file = bt.model_open(src)
if file:format() ~= "gguf" then error(src .. ": not a GGUF file", 0) end
local projections = { attn_q = true, attn_k = true, attn_v = true, attn_output = true,
    ffn_gate = true, ffn_up = true, ffn_down = true }

local meta = {}
for key in pairs(bt.gguf_meta(src)) do
    if key ~= "general.file_type" then meta[#meta + 1] = { key, "from", src } end
end
table.sort(meta, function(a, b) return a[1] < b[1] end)
table.insert(meta, { "general.file_type", "u32", file_type })

local tensors, n_quantized = {}, 0
for _, name in ipairs(file:tensor_names()) do
    local t = file:tensor(name)
    local kind = name:match("^blk%.%d+%.([%w_]+)%.weight$")
    if kind and projections[kind] then
        if t:dim() ~= 2 or not (t:dtype() == "f32" or t:dtype() == "f16" or t:dtype() == "bf16") then
            error(("%s: tensor '%s' is %s %s; expected a 2-d float matrix"):format(src, name, t:dtype(),
                "[" .. table.concat(t:shape(), ", ") .. "]"), 0)
        end
        if t:size(2) % 256 ~= 0 then
            error(("%s: tensor '%s' has rows of %d values; %s needs a multiple of 256"):format(src, name, t:size(2), format), 0)
        end
        local wq = bt.ternary_quantize(t:to("f32"))
        t = bt.ternary_pack(wq, format)
        n_quantized = n_quantized + 1
    end
    tensors[#tensors + 1] = { name, t }
end

local function float_head(name, t)
    if t:dim() ~= 2 or not (t:dtype() == "f32" or t:dtype() == "f16" or t:dtype() == "bf16") then
        error(("%s: --head %s: tensor '%s' is %s; expected a 2-d float matrix"):format(src, head, name, t:dtype()), 0)
    end
    return Model.head_types[head](t)
end
if head then
    local index
    for n, entry in ipairs(tensors) do if entry[1] == "output.weight" then index = n end end
    if index then
        tensors[index][2] = float_head("output.weight", tensors[index][2])
    else
        tensors[#tensors + 1] = { "output.weight", float_head("token_embd.weight", file:tensor("token_embd.weight")) }
    end
end
bt.gguf_write(dst, meta, tensors)
io.stderr:write(("wrote %s: %d of %d tensors as %s%s\n"):format(dst, n_quantized, #tensors, format,
    head and ", the head as " .. head or ""))
