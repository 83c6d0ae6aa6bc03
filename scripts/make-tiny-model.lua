-- make-tiny-model.lua - writes a tiny random-weight Llama GGUF with a byte-level
-- SentencePiece vocabulary (259 tokens: <unk> <s> </s> and the 256 bytes).
-- It exercises every step of loading and generation without downloading
-- anything; its text is noise. (The trained default model replaces it in models/.)
--
--   bitttt-lua make-tiny-model.lua OUT.gguf [--seed S] [--dim D] [--layers L]
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Rng = require "bitttt.rng"

local o, pos = cli.parse(arg, {
    { nil, "--seed", key = "seed", type = "number", default = 1, help = "random seed" },
    { nil, "--dim", key = "dim", type = "number", default = 64, help = "embedding width" },
    { nil, "--layers", key = "layers", type = "number", default = 2, help = "layers" },
}, "usage: bitttt-lua make-tiny-model.lua OUT.gguf [options]")
local out = pos[1] or error("usage: bitttt-lua make-tiny-model.lua OUT.gguf (see --help)", 0)

local rng = Rng.new(o.seed)
local function gaussian() -- Box-Muller
    return math.sqrt(-2 * math.log(1 - rng:next())) * math.cos(2 * math.pi * rng:next())
end
local function random_tensor(shape, std)
    local t = bt.zeros(shape)
    local flat = t:reshape(-1)
    for i = 1, flat:numel() do flat[i] = gaussian() * std end
    return t
end

local d, n_layer, n_head = o.dim, o.layers, 4
local n_ff, n_vocab = 3 * d, 259
local tokens, scores, types = { "<unk>", "<s>", "</s>" }, { 0, 0, 0 }, { 2, 3, 3 }
for b = 0, 255 do
    tokens[#tokens + 1] = ("<0x%02X>"):format(b)
    scores[#scores + 1] = 0
    types[#types + 1] = 6
end

local meta = {
    { "general.architecture", "str", "llama" },
    { "general.name", "str", "bitttt tiny random model" },
    { "llama.context_length", "u32", 256 },
    { "llama.embedding_length", "u32", d },
    { "llama.block_count", "u32", n_layer },
    { "llama.feed_forward_length", "u32", n_ff },
    { "llama.attention.head_count", "u32", n_head },
    { "llama.attention.head_count_kv", "u32", n_head },
    { "llama.attention.layer_norm_rms_epsilon", "f32", 1e-5 },
    { "llama.rope.freq_base", "f32", 10000 },
    { "tokenizer.ggml.model", "str", "llama" },
    { "tokenizer.ggml.tokens", "[str]", tokens },
    { "tokenizer.ggml.scores", "[f32]", scores },
    { "tokenizer.ggml.token_type", "[i32]", types },
    { "tokenizer.ggml.bos_token_id", "u32", 1 },
    { "tokenizer.ggml.eos_token_id", "u32", 2 },
    { "tokenizer.ggml.unknown_token_id", "u32", 0 },
}
local std = 1 / math.sqrt(d)
local tensors = {
    { "token_embd.weight", random_tensor({ n_vocab, d }, 1) },
    { "output_norm.weight", bt.full({ d }, 1) },
}
for l = 0, n_layer - 1 do
    local p = "blk." .. l .. "."
    for _, w in ipairs({
        { "attn_norm.weight", bt.full({ d }, 1) }, { "attn_q.weight", random_tensor({ d, d }, std) },
        { "attn_k.weight", random_tensor({ d, d }, std) }, { "attn_v.weight", random_tensor({ d, d }, std) },
        { "attn_output.weight", random_tensor({ d, d }, std) }, { "ffn_norm.weight", bt.full({ d }, 1) },
        { "ffn_gate.weight", random_tensor({ n_ff, d }, std) }, { "ffn_up.weight", random_tensor({ n_ff, d }, std) },
        { "ffn_down.weight", random_tensor({ d, n_ff }, 1 / math.sqrt(n_ff)) },
    }) do
        tensors[#tensors + 1] = { p .. w[1], w[2] }
    end
end
bt.gguf_write(out, meta, tensors)
io.stderr:write(("wrote %s: %d layers, d=%d, vocab %d\n"):format(out, n_layer, d, n_vocab))
