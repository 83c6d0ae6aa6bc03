-- make-bitnet.lua - writes a synthetic BitNet b1.58 model (random ternary weights,
-- random F16 embedding) as GGUF, so every path runs without downloading weights.
-- The vocabulary is copied from a GGUF vocabulary file (default: the Llama 3 one,
-- ggml-vocab-llama-bpe.gguf, that BitNet b1.58 2B4T uses).
--
--   bitttt-lua make-bitnet.lua OUT.gguf [--shape tiny|2b4t] [--type tq2_0|tq1_0|f16|f32] [--seed S]
--       [--vocab FILE] [--dim D --layers L --heads H --kv-heads H --ff F]
--
-- Shapes: 2b4t = BitNet b1.58 2B4T (d 2560, 30 layers, 20 heads / 5 kv heads, ff 6912,
-- vocab 128256); tiny = d 256, 2 layers, 4/2 heads, ff 512. Weights: 1/3 each of -1, 0, +1
-- times a per-tensor scale. --type f16/f32 writes the same ternary values as floats.
local bt = require "bitttt"
local cli = require "bitttt.cli"

local o, pos = cli.parse(arg, {
    { nil, "--shape", key = "shape", type = "string", default = "tiny", help = "tiny or 2b4t" },
    { nil, "--type", key = "type", type = "string", default = "tq2_0", help = "tq2_0, tq1_0, f16 or f32" },
    { nil, "--seed", key = "seed", type = "number", default = 1, help = "random seed" },
    { nil, "--vocab", key = "vocab", type = "string", metavar = "FILE", help = "GGUF whose vocabulary to copy (default: ../shared/data/tokenizers/ggml-vocab-llama-bpe.gguf)" },
    { nil, "--dim", key = "dim", type = "number", help = "embedding width" },
    { nil, "--layers", key = "layers", type = "number", help = "layers" },
    { nil, "--heads", key = "heads", type = "number", help = "attention heads" },
    { nil, "--kv-heads", key = "kv_heads", type = "number", help = "key/value heads" },
    { nil, "--ff", key = "ff", type = "number", help = "feed-forward width" },
}, "usage: bitttt-lua make-bitnet.lua OUT.gguf [options]")
local out = pos[1] or error("usage: bitttt-lua make-bitnet.lua OUT.gguf (see --help)", 0)

local shapes = {
    tiny = { dim = 256, layers = 2, heads = 4, kv_heads = 2, ff = 512 },
    ["2b4t"] = { dim = 2560, layers = 30, heads = 20, kv_heads = 5, ff = 6912 },
}
local shape = shapes[o.shape] or error("--shape must be tiny or 2b4t", 0)
for k, v in pairs(shape) do if o[k] == nil then o[k] = v end end
local home = rawget(_G, "BITTTT_HOME") or "."
local vocab = o.vocab or os.getenv("BITTTT_DATA") and (os.getenv("BITTTT_DATA") .. "/tokenizers/ggml-vocab-llama-bpe.gguf")
    or (home .. "/../shared/data/tokenizers/ggml-vocab-llama-bpe.gguf")
local vocab_meta = bt.gguf_meta(vocab)
local n_vocab = #vocab_meta["tokenizer.ggml.tokens"]

local d, hd = o.dim, o.dim / o.heads
local arch = "bitnet-b1.58"
local meta = {
    { "general.architecture", "str", arch },
    { "general.name", "str", ("synthetic BitNet b1.58 %s (seed %d)"):format(o.shape, o.seed) },
    { arch .. ".vocab_size", "u32", n_vocab },
    { arch .. ".context_length", "u32", 4096 },
    { arch .. ".embedding_length", "u32", d },
    { arch .. ".block_count", "u32", o.layers },
    { arch .. ".feed_forward_length", "u32", o.ff },
    { arch .. ".attention.head_count", "u32", o.heads },
    { arch .. ".attention.head_count_kv", "u32", o.kv_heads },
    { arch .. ".attention.layer_norm_rms_epsilon", "f32", 1e-5 },
    { arch .. ".rope.freq_base", "f32", 500000 },
    { arch .. ".rope.dimension_count", "u32", hd },
    { arch .. ".hidden_activation", "str", "relu2" },
}
-- The vocabulary, copied key by key (the writer reads the big token and merge lists from the file).
for key, value in pairs(vocab_meta) do
    if key:match("^tokenizer%.") then meta[#meta + 1] = { key, "from", vocab } end
end
if not vocab_meta["tokenizer.chat_template"] and vocab_meta["tokenizer.ggml.pre"] == "llama-bpe" then
    -- BitNet b1.58 2B4T's instruct format, so chat.lua finds its template
    meta[#meta + 1] = { "tokenizer.chat_template", "str",
        "{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}<|eot_id|>{% endfor %}Assistant: " }
end
vocab_meta = nil
collectgarbage()

local seed = o.seed
local function next_seed() seed = seed + 1 return seed * 7919 end
-- A ternary [n, k] weight with scale in [0.08, 0.16) (as the reference fixture), in the requested type.
local function ternary(n, k)
    local scale = 0.08 + 0.08 * ((next_seed() % 1000) / 1000)
    if o.type == "tq2_0" or o.type == "tq1_0" then return bt.ternary_random({ n, k }, o.type, next_seed(), scale) end
    local packed = bt.ternary_random({ n, k }, "tq2_0", next_seed(), scale)
    local f = bt.ternary_dequantize(packed)
    return o.type == "f16" and f:to("f16") or f
end
local function norm(n) return bt.zeros({ n }):normal_(next_seed(), 0.1, 1) end

local tensors = {
    { "token_embd.weight", bt.zeros({ n_vocab, d }, "f16"):normal_(next_seed(), 0.1) },
    { "output_norm.weight", bt.zeros({ d }):normal_(next_seed(), 0.2, 2) },
}
for l = 0, o.layers - 1 do
    local p = "blk." .. l .. "."
    for _, w in ipairs({
        { "attn_norm.weight", norm(d) }, { "attn_q.weight", ternary(d, d) },
        { "attn_k.weight", ternary(o.kv_heads * hd, d) }, { "attn_v.weight", ternary(o.kv_heads * hd, d) },
        { "attn_output.weight", ternary(d, d) }, { "attn_sub_norm.weight", norm(d) },
        { "ffn_norm.weight", norm(d) }, { "ffn_gate.weight", ternary(o.ff, d) }, { "ffn_up.weight", ternary(o.ff, d) },
        { "ffn_down.weight", ternary(d, o.ff) }, { "ffn_sub_norm.weight", norm(o.ff) },
    }) do tensors[#tensors + 1] = { p .. w[1], w[2] } end
end
bt.gguf_write(out, meta, tensors)
io.stderr:write(("wrote %s: %s, %d layers, d=%d, ff=%d, vocab %d, weights %s\n"):format(
    out, arch, o.layers, d, o.ff, n_vocab, o.type))
