-- convert-llama2c.lua - writes a llama2.c checkpoint and its tokenizer.bin as one
-- GGUF file in llama.cpp's conventions (architecture `llama`, SentencePiece
-- vocabulary with U+2581 for spaces and <0xXX> byte tokens, tensors named
-- token_embd / blk.N.* / output_norm / output, F32).
--
--   bitttt-lua convert-llama2c.lua CHECKPOINT.bin TOKENIZER.bin OUT.gguf
local bt = require "bitttt"
local Model = require "bitttt.model"
local cli = require "bitttt.cli"
local FileKind = require "bitttt.file_kind"

local _, pos = cli.parse(arg, {}, "usage: bitttt-lua convert-llama2c.lua CHECKPOINT.bin TOKENIZER.bin OUT.gguf")
local ckpt, tok_path, out = pos[1], pos[2], pos[3]
if not (ckpt and tok_path and out) or #pos > 3 then
    cli.usage_error("expected CHECKPOINT.bin TOKENIZER.bin OUT.gguf (see --help)")
end
FileKind.check(ckpt, "model")
FileKind.check(tok_path, "tokenizer")
local file = bt.model_open(ckpt)
if file:format() ~= "llama2c" then error(ckpt .. ": not a llama2.c checkpoint", 0) end
local cfg = file:llama2c_config()
local tok = bt.tokenizer_open(tok_path, cfg.vocab_size)

-- Vocabulary: llama2.c stores pieces with plain spaces; GGUF `llama` vocabularies use U+2581.
local tokens, scores, types = {}, {}, {}
local type_ids = { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 }
for id = 0, cfg.vocab_size - 1 do
    local text, kind = tok:text(id), tok:type(id)
    if kind == "normal" then text = text:gsub(" ", "\226\150\129") end
    tokens[id + 1] = text
    scores[id + 1] = tok:score(id)
    types[id + 1] = type_ids[kind] or 1
end

local meta = {}
local llama_meta = Model.llama2c_meta(cfg)
local keys = {}
for k in pairs(llama_meta) do keys[#keys + 1] = k end
table.sort(keys)
meta[1] = { "general.architecture", "str", "llama" }
meta[2] = { "general.name", "str", (ckpt:match("([^/]+)%.bin$") or ckpt) }
for _, k in ipairs(keys) do
    local v = llama_meta[k]
    if k ~= "general.architecture" then
        meta[#meta + 1] = { k, math.floor(v) == v and "u32" or "f32", v }
    end
end
for _, e in ipairs({
    { "tokenizer.ggml.model", "str", "llama" },
    { "tokenizer.ggml.tokens", "[str]", tokens },
    { "tokenizer.ggml.scores", "[f32]", scores },
    { "tokenizer.ggml.token_type", "[i32]", types },
    { "tokenizer.ggml.unknown_token_id", "u32", 0 },
    { "tokenizer.ggml.bos_token_id", "u32", 1 },
    { "tokenizer.ggml.eos_token_id", "u32", 2 },
}) do meta[#meta + 1] = e end
-- rms epsilon is a float even though 1e-5 is not an integer; rope base 10000 is one: keep it f32.
for _, e in ipairs(meta) do
    if e[1]:match("epsilon$") or e[1]:match("freq_base$") then e[2] = "f32" end
end

local tensors = {}
for _, name in ipairs(file:tensor_names()) do tensors[#tensors + 1] = { name, file:tensor(name) } end
bt.gguf_write(out, meta, tensors)
io.stderr:write(("wrote %s: %d tensors, vocabulary of %d\n"):format(out, #tensors, cfg.vocab_size))
