-- model.lua - opens a model file of any supported format, picks the graph for
-- its architecture (lua/bitttt/models/<arch>.lua) and its tokenizer.
--
--   local model = require("bitttt.model").load(path, { tokenizer = path?, max_batch = 64,
--                                                     n_gpu_layers = N|"auto", n_ctx = 512 })
--   local session = model:new_session{ n_ctx = 512 }
local core = require "bitttt"   -- the package (it installs the Lua-side tensor methods)
local FileKind = require "bitttt.file_kind"
local Threads = require "bitttt.threads"

local M = {}

-- GGUF general.architecture -> graph module
M.architectures = {
    llama = "bitttt.models.llama",
    bitnet = "bitttt.models.bitnet",
    ["bitnet-b1.58"] = "bitttt.models.bitnet",
    ["bitnet-25"] = "bitttt.models.bitnet",
    bitttt = "bitttt.models.bitttt",
    ttt = "bitttt.models.ttt",
    ["bitnet-hf"] = "bitttt.models.hf_bitnet",   -- transformers' BitNetForCausalLM (safetensors)
}

-- Hugging Face config.json `architectures` (safetensors folders) -> architecture above;
-- hf_model_types: the same from `model_type`, for configs without `architectures`
M.hf_architectures = { TTTForCausalLM = "ttt", BitNetForCausalLM = "bitnet-hf" }
M.hf_model_types = { ttt = "ttt", bitnet = "bitnet-hf" }

--- Metadata of a safetensors model: its config.json, plus general.architecture
-- from the config's `architectures` list (or model_type).
function M.hf_meta(file, path)
    local cfg = file:config()
    if not cfg then error(path .. ": a safetensors model needs its config.json beside it", 0) end
    local arch
    for _, name in ipairs(cfg.architectures or {}) do arch = arch or M.hf_architectures[name] end
    arch = arch or M.hf_model_types[cfg.model_type or ""]
    if not arch then
        error(("%s: unsupported architecture %s (config.json model_type '%s')"):format(path,
            table.concat(cfg.architectures or { "?" }, ", "), tostring(cfg.model_type)), 0)
    end
    local meta = { ["general.architecture"] = arch }
    for k, v in pairs(cfg) do meta[k] = v end
    return meta
end

-- llama.cpp's metadata keys for a llama2.c checkpoint (what our converter writes too).
function M.llama2c_meta(cfg)
    return {
        ["general.architecture"] = "llama",
        ["llama.embedding_length"] = cfg.dim,
        ["llama.feed_forward_length"] = cfg.hidden_dim,
        ["llama.block_count"] = cfg.n_layers,
        ["llama.attention.head_count"] = cfg.n_heads,
        ["llama.attention.head_count_kv"] = cfg.n_kv_heads,
        ["llama.context_length"] = cfg.seq_len,
        ["llama.attention.layer_norm_rms_epsilon"] = 1e-5,
        ["llama.rope.freq_base"] = 10000,
        ["llama.vocab_size"] = cfg.vocab_size,
    }
end

--- The types a KV cache may hold (opts.kv_type, --kv-type); f16 is the default.
M.kv_types = { f16 = true, f32 = true, q8_0 = true }

--- The types a float output head can be quantized to (opts.head, --head): each the
-- core function that writes it with llama.cpp's layout and rule. Q8_0: 34 bytes per 32
-- weights (53% of F16); Q6_K: 210 bytes per 256 (41% of F16; rows a multiple of 256).
M.head_types = { q8_0 = core.quantize_q8_0, q6_k = core.quantize_q6_k }

--- nil if kind names a head type, else the message for it.
function M.check_head_type(kind)
    if M.head_types[kind] then return nil end
    return ("--head: expected q8_0 or q6_k, got '%s'"):format(tostring(kind))
end

--- Replaces a float head by its quantized copy. A tied head keeps the float embedding
-- for the lookup of input tokens; its head pages are then no longer read and can leave
-- the page cache.
local function quantize_head(model, kind, path)
    local bad = M.check_head_type(kind)
    if bad then error(bad, 0) end
    local dtype = model.w.output:dtype()
    if dtype == kind then return end
    if dtype ~= "f16" and dtype ~= "bf16" and dtype ~= "f32" then
        error(("%s: --head %s: the output head is %s; only a float head (f16, bf16, f32) is quantized"):format(
            path, kind, dtype), 0)
    end
    local ok, q = pcall(M.head_types[kind], model.w.output)
    if not ok then error(("%s: --head %s: %s"):format(path, kind, tostring(q)), 0) end
    model.w.output = q
end

--- Loads a model. opts.tokenizer: a tokenizer file for formats without a vocabulary
-- (llama2.c: its tokenizer.bin). opts.n_gpu_layers (N or "auto"; default 0) puts
-- layers on the GPU (Decoder:place, with opts.n_ctx: the context to plan KV caches
-- for, opts.device, opts.gpu_reserve: bytes to leave free, opts.gpu_mem: the most bytes
-- of GPU memory to plan for); opts.kv_type: what KV caches
-- hold ("f16" default, "f32", "q8_0"; sessions may override); without a GPU it says so
-- once on stderr and runs on the CPU. Returns the graph object with .meta, .file,
-- .tokenizer, .arch, .placement and .stop_at_bos (llama2.c stops at BOS, as its run.c does).
-- opts.head = "q8_0" or "q6_k" quantizes a float output head in memory (see quantize_head).
function M.load(path, opts)
    opts = opts or {}
    if type(path) ~= "string" then error("load: model path expected", 2) end
    if opts.kv_type ~= nil and not M.kv_types[opts.kv_type] then
        error(("KV cache type '%s': expected f16, f32 or q8_0 (--kv-type)"):format(tostring(opts.kv_type)), 0)
    end
    FileKind.check(path, "model")   -- what the file is, from its magic, before a loader misreads it
    if opts.tokenizer then FileKind.check(opts.tokenizer, "tokenizer") end
    local file = core.model_open(path)
    local meta
    if file:format() == "gguf" then
        meta = core.gguf_meta(path)
    elseif file:format() == "safetensors" then
        meta = M.hf_meta(file, path)
    else
        meta = M.llama2c_meta(file:llama2c_config())
    end
    local arch = meta["general.architecture"]
    local module = M.architectures[arch]
    if not module then
        error(("%s: unsupported architecture '%s'"):format(path, tostring(arch)), 0)
    end
    local model = require(module).build(file, meta, opts)
    model.cfg.kv_type = opts.kv_type or "f16"
    model.meta, model.file, model.arch, model.path = meta, file, arch, path
    model.stop_at_bos = file:format() == "llama2c"
    if opts.head then quantize_head(model, opts.head, path) end
    core.suggest_threads(Threads.for_model(model))   -- unless the user chose a count
    if opts.n_gpu_layers and opts.n_gpu_layers ~= 0 then
        model:place { n_gpu_layers = opts.n_gpu_layers, n_ctx = opts.n_ctx, device = opts.device, reserve = opts.gpu_reserve,
            gpu_mem = opts.gpu_mem }
    end
    if opts.tokenizer then
        model.tokenizer = core.tokenizer_open(opts.tokenizer, model.cfg.n_vocab)
    elseif file:format() == "gguf" and meta["tokenizer.ggml.model"] then
        model.tokenizer = core.tokenizer_open(path)
    end
    local tok = model.tokenizer
    if tok and tok:vocab_size() > model.cfg.n_vocab then   -- an id past the embedding's rows has no embedding
        error(("%s: the vocabulary has %d tokens but the embedding only %d rows"):format(
            opts.tokenizer or path, tok:vocab_size(), model.cfg.n_vocab), 0)
    end
    return model
end

return M
