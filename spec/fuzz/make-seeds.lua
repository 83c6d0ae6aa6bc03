-- make-seeds.lua - writes the fuzzers' seed corpora, spec/fuzz/corpus/<target>/, small
-- valid inputs the fuzzers mutate: tiny models of every format (made here, or shrunk
-- from the spec/data fixtures), their tokenizers, session states and chat inputs.
-- Run from the repository root: bin/bitttt-lua spec/fuzz/make-seeds.lua
local bt = require "bitttt"
local core = require "bitttt.core"
local Model = require "bitttt.model"

local root = "spec/fuzz/corpus"
local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp) == 0)

package.path = "spec/fuzz/targets/?.lua;" .. package.path
local common = require "fuzz_common"
local read, write = common.read, common.write
local function seed(target, name, bytes)
    assert(os.execute("mkdir -p " .. root .. "/" .. target) == 0)
    write(root .. "/" .. target .. "/" .. name, bytes)
end
local function run(cmd) assert(os.execute(cmd) == 0, cmd) end

-- GGUF: a tiny Llama (byte-level SentencePiece vocabulary) and a small TQ2_0 BitNet (d 256: the block size)
local host = "bin/bitttt-lua"
run(("%s scripts/make-tiny-model.lua %s/llama.gguf --dim 8 --layers 1 >/dev/null 2>&1"):format(host, tmp))
run(("%s scripts/make-bitnet.lua %s/bitnet-tq2.gguf --type tq2_0 --dim 256 --layers 1 --heads 2 --kv-heads 1 --ff 256 --vocab synthetic:260 >/dev/null"):format(host, tmp))
for _, name in ipairs({ "llama", "bitnet-tq2" }) do
    local bytes = read(tmp .. "/" .. name .. ".gguf")
    seed("gguf", name .. ".gguf", bytes)
    seed("model_gguf", name .. ".gguf", bytes)
end

-- safetensors + config.json: the TTT fixture shrunk (d 192 -> 16, 6 heads of 32 -> 2 of 8,
-- ff 512 -> 32, vocab 256 -> 32, mini-batch 8 -> 4, 3 layers -> 1), random values
local shrink = { [192] = 16, [512] = 32, [256] = 32, [6] = 2, [32] = 8, [8] = 4 }
local ref = "spec/data/reference/ttt/"
local tensors, _, names = core.safetensors_load(ref .. "model.safetensors")
local entries, state = {}, 12345
for _, n in ipairs(names) do
    if not n:find("layers%.[12]%.") then
        local shape = {}
        for i, d in ipairs(tensors[n]:shape()) do shape[i] = shrink[d] or d end
        local t = bt.zeros(shape)
        local flat = t:reshape(-1)
        for i = 1, flat:numel() do
            state = (state * 1103515245 + 12345) % 2147483648
            flat[i] = n:find("norm") and 1 or (state / 2147483648 - 0.5) * 0.2
        end
        entries[#entries + 1] = { n, t }
    end
end
local config = read(ref .. "config.json")
for key, value in pairs({ vocab_size = 32, hidden_size = 16, intermediate_size = 32, num_hidden_layers = 1,
                          num_attention_heads = 2, mini_batch_size = 4, max_position_embeddings = 64 }) do
    config = config:gsub('("' .. key .. '": )%d+', "%1" .. value)
end
core.safetensors_save(tmp .. "/model.safetensors", entries, { format = "pt" })
local weights = read(tmp .. "/model.safetensors")
seed("safetensors", "ttt-tiny", config .. "\n--\n" .. weights)
seed("model_safetensors", "ttt-tiny", config .. "\n--\n" .. weights)
seed("safetensors", "config-only", config)

-- llama2.c: a checkpoint of dim 8, hidden 16, 1 layer, 2/1 heads, vocab 512 (shared
-- classifier), seq_len 16, then tok512.bin
local dim, hidden, n_layers, n_heads, n_kv, vocab, seq = 8, 16, 1, 2, 1, 512, 16
local kv_dim, head_size = dim * n_kv / n_heads, dim / n_heads
-- llama2.c's order: embedding, per layer rms_att wq wk wv wo rms_ffn w1 w2 w3, final norm, freq_cis
local floats = vocab * dim + n_layers * (2 * dim + 2 * dim * dim + 2 * dim * kv_dim + 3 * dim * hidden)
    + dim + seq * head_size
local function i32(v) return string.char(v % 256, math.floor(v / 256) % 256, 0, 0) end
local ffi = require "ffi"
local buf = ffi.new("float[?]", floats)
for i = 0, floats - 1 do buf[i] = ((i * 7919) % 1000) / 10000 end
local ckpt_bytes = i32(dim) .. i32(hidden) .. i32(n_layers) .. i32(n_heads) .. i32(n_kv) .. i32(vocab) .. i32(seq)
    .. ffi.string(buf, floats * 4)
local tok512 = read("spec/data/models/tok512.bin")
seed("llama2c", "tiny+tok512", ckpt_bytes .. "\n--\n" .. tok512)
seed("model_llama2c", "tiny+tok512", ckpt_bytes .. "\n--\n" .. tok512)
seed("llama2c", "tok512-only", "\n--\n" .. tok512)

-- tokenizer: the first byte picks the vocabulary (fuzz_tokenizer.c's order), then text
local texts = { read("spec/data/text/tinystories_sample.txt"):sub(1, 400),
                "Hello world! <|eot_id|><s></s> \xe2\x82\xac\xf0\x9f\x99\x82 \xff\xfe 1234567",
                read("spec/data/tokenizers/ggml-vocab-llama-bpe.gguf.inp"):sub(1, 600) }
for v = 0, 5 do
    for i, text in ipairs(texts) do seed("tokenizer", ("v%d-%d"):format(v, i), string.char(v) .. text) end
end

-- state files: sessions of the models the state target loads (the seeds above), after a few tokens
local function state_of(model_path, name)
    local s = Model.load(model_path):new_session { n_ctx = 8 }
    s:forward({ 1, 2, 3 }, "last")
    s:save_state(tmp .. "/" .. name)
    seed("state", name, read(tmp .. "/" .. name))
end
state_of(tmp .. "/llama.gguf", "llama")
write(tmp .. "/config.json", config)
state_of(tmp .. "/model.safetensors", "ttt-tiny")

-- chat: template text, NUL, system prompt, NUL, user message
seed("chat", "llama3", "{% ... <|start_header_id|> ... %}\0You are helpful.\0Hi! \xe2\x82\xac <|eot_id|>")
seed("chat", "chatml", "<|im_start|>{{ message }}<|im_end|>\0\0What is 2+2?")
seed("chat", "bitnet", "Assistant: {{ x }}<|eot_id|>\0System text\0User text")
seed("chat", "none", "\1\1\0\0plain")

run("rm -rf " .. tmp)
print("seeds written under " .. root)
