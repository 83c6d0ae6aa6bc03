-- make-bitnet.lua - writes a synthetic BitNet b1.58 model (random ternary weights,
-- random F16 embedding) as GGUF, so every path runs without downloading weights.
-- The vocabulary is copied from a GGUF vocabulary file (default: the Llama 3 one,
-- ggml-vocab-llama-bpe.gguf, that BitNet b1.58 2B4T uses), or made up with
-- --vocab synthetic:N: a byte-level BPE vocabulary of N tokens (GPT-2's 256
-- byte symbols, then merged pairs and triples of them, then BOS and EOS), so
-- no vocabulary file is needed.
--
--   bitttt-lua make-bitnet.lua OUT.gguf [--shape tiny|2b4t|70b] [--type tq2_0|tq1_0|f16|f32] [--seed S]
--       [--vocab FILE|synthetic:N] [--dim D --layers L --heads H --kv-heads H --ff F] [--same-layers]
--
-- Shapes: 2b4t = BitNet b1.58 2B4T (d 2560, 30 layers, 20 heads / 5 kv heads, ff 6912,
-- vocab 128256); 70b = Llama-2/3-70B-like (d 8192, 80 layers, 64 heads / 8 kv heads,
-- ff 28672; about 18 GB in TQ2_0 with the Llama 3 vocabulary); tiny = d 256, 2 layers,
-- 4/2 heads, ff 512. Weights: 1/3 each of -1, 0, +1
-- times a per-tensor scale. --type f16/f32 writes the same ternary values as floats.
local bt = require "bitttt"
local cli = require "bitttt.cli"

local o, pos = cli.parse(arg, {
    { nil, "--shape", key = "shape", type = "string", default = "tiny", help = "tiny, 2b4t or 70b" },
    { nil, "--type", key = "type", type = "string", default = "tq2_0", help = "tq2_0, tq1_0, f16 or f32" },
    { nil, "--seed", key = "seed", type = "number", whole = true, default = 1, help = "random seed" },
    { nil, "--vocab", key = "vocab", type = "string", metavar = "FILE|synthetic:N",
      help = "GGUF whose vocabulary to copy (default: spec/data/tokenizers/ggml-vocab-llama-bpe.gguf), or synthetic:N for a made-up N-token byte-level vocabulary" },
    { nil, "--dim", key = "dim", type = "number", whole = true, min = 1, help = "embedding width" },
    { nil, "--layers", key = "layers", type = "number", whole = true, min = 1, help = "layers" },
    { nil, "--heads", key = "heads", type = "number", whole = true, min = 1, help = "attention heads" },
    { nil, "--kv-heads", key = "kv_heads", type = "number", whole = true, min = 1, help = "key/value heads" },
    { nil, "--ff", key = "ff", type = "number", whole = true, min = 1, help = "feed-forward width" },
    { nil, "--same-layers", key = "same_layers", type = "flag",
      help = "every layer holds the first one's weights (a big file in seconds, in the memory of one layer)" },
}, "usage: bitttt-lua make-bitnet.lua OUT.gguf [options]")
local out = pos[1] or cli.usage_error("no output file: give OUT.gguf (see --help)")

local shapes = {
    tiny = { dim = 256, layers = 2, heads = 4, kv_heads = 2, ff = 512 },
    ["2b4t"] = { dim = 2560, layers = 30, heads = 20, kv_heads = 5, ff = 6912 },
    ["70b"] = { dim = 8192, layers = 80, heads = 64, kv_heads = 8, ff = 28672 },
}
local shape = shapes[o.shape] or cli.usage_error("--shape must be tiny, 2b4t or 70b, got '" .. tostring(o.shape) .. "'")
for k, v in pairs(shape) do if o[k] == nil then o[k] = v end end

-- GPT-2's printable stand-in for every byte (its bytes_to_unicode), UTF-8 encoded.
local function byte_symbols()
    local function utf8(cp)
        if cp < 0x80 then return string.char(cp) end
        return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64)   -- every stand-in is below U+0800
    end
    local symbols, extra = {}, 0
    for b = 0, 255 do
        local printable = (b >= 33 and b <= 126) or (b >= 161 and b <= 172) or (b >= 174)
        if printable then symbols[b + 1] = utf8(b) else symbols[b + 1] = utf8(256 + extra) extra = extra + 1 end
    end
    return symbols
end

-- The tokenizer keys of a byte-level BPE vocabulary of n tokens: the 256 byte symbols
-- (token id = byte), merged pairs of them, then triples (a pair and a byte), then BOS and
-- EOS (control tokens). Merges take lowercase letters, space, uppercase and digits first,
-- so that even a small vocabulary merges some text.
local function synthetic_vocab(n)
    if n < 260 then error("--vocab synthetic:N needs N >= 260", 0) end
    local sym = byte_symbols()
    local order, seen = {}, {}
    for _, range in ipairs({ { 97, 122 }, { 32, 32 }, { 65, 90 }, { 48, 57 }, { 0, 255 } }) do
        for b = range[1], range[2] do
            if not seen[b] then seen[b] = true order[#order + 1] = sym[b + 1] end
        end
    end
    local tokens, types, merges = {}, {}, {}
    for b = 1, 256 do tokens[b], types[b] = sym[b], 1 end
    local want = n - 2
    local function add(left, right)
        tokens[#tokens + 1], types[#tokens + 1] = left .. right, 1
        merges[#merges + 1] = left .. " " .. right
    end
    for _, a in ipairs(order) do
        for _, b in ipairs(order) do
            if #tokens == want then break end
            add(a, b)
        end
    end
    for p = 257, 256 + 65536 do
        for _, c in ipairs(order) do
            if #tokens == want then break end
            add(tokens[p], c)
        end
    end
    if #tokens < want then error(("--vocab synthetic:N supports N up to %d"):format(#tokens + 2), 0) end
    tokens[n - 1], types[n - 1] = "<|begin_of_text|>", 3
    tokens[n], types[n] = "<|end_of_text|>", 3
    return {
        { "tokenizer.ggml.model", "str", "gpt2" }, { "tokenizer.ggml.pre", "str", "default" },
        { "tokenizer.ggml.tokens", "[str]", tokens }, { "tokenizer.ggml.token_type", "[i32]", types },
        { "tokenizer.ggml.merges", "[str]", merges }, { "tokenizer.ggml.bos_token_id", "u32", n - 2 },
        { "tokenizer.ggml.eos_token_id", "u32", n - 1 }, { "tokenizer.ggml.add_bos_token", "bool", true },
    }
end

local home = rawget(_G, "BITTTT_HOME") or "."
local vocab = o.vocab or os.getenv("BITTTT_DATA") and (os.getenv("BITTTT_DATA") .. "/tokenizers/ggml-vocab-llama-bpe.gguf")
    or (home .. "/spec/data/tokenizers/ggml-vocab-llama-bpe.gguf")
local synthetic_n = vocab:match("^synthetic:(%d+)$")
local vocab_meta, vocab_keys
if synthetic_n then
    vocab_keys = synthetic_vocab(tonumber(synthetic_n))
    vocab_meta = { ["tokenizer.ggml.tokens"] = vocab_keys[3][3] }
else
    vocab_meta = bt.gguf_meta(vocab)
end
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
-- The vocabulary, made up or copied key by key (the writer reads the big token and merge lists from the file).
for _, entry in ipairs(vocab_keys or {}) do meta[#meta + 1] = entry end
for key in pairs(vocab_keys and {} or vocab_meta) do
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
local function layer_weights()
    return {
        { "attn_norm.weight", norm(d) }, { "attn_q.weight", ternary(d, d) },
        { "attn_k.weight", ternary(o.kv_heads * hd, d) }, { "attn_v.weight", ternary(o.kv_heads * hd, d) },
        { "attn_output.weight", ternary(d, d) }, { "attn_sub_norm.weight", norm(d) },
        { "ffn_norm.weight", norm(d) }, { "ffn_gate.weight", ternary(o.ff, d) }, { "ffn_up.weight", ternary(o.ff, d) },
        { "ffn_down.weight", ternary(d, o.ff) }, { "ffn_sub_norm.weight", norm(o.ff) },
    }
end
local first = layer_weights()
for l = 0, o.layers - 1 do
    for _, w in ipairs((l == 0 or o.same_layers) and first or layer_weights()) do
        tensors[#tensors + 1] = { "blk." .. l .. "." .. w[1], w[2] }
    end
end
bt.gguf_write(out, meta, tensors)
io.stderr:write(("wrote %s: %s, %d layers, d=%d, ff=%d, vocab %d, weights %s\n"):format(
    out, arch, o.layers, d, o.ff, n_vocab, o.type))
