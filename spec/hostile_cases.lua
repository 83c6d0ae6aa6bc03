-- hostile_cases.lua - the hostile-input matrix of spec/hostile_files_spec.lua: broken
-- model, tokenizer and state files, special files and absurd options, each a command
-- line for a user-facing script or the C API's example (bin/embed_c, which uses only
-- runtime/bitttt.h). Every case must end with a non-zero status and a message naming
-- the file or option, within the spec's time and memory bounds.
--
-- A case: { name, args = { script or program, args... }, stdin = path or nil,
--           names = { strings; stderr must contain one },
--           accepted = true: a value that means something (llama.cpp takes it too) and must
--           then run, exit 0, within the same time and memory bounds }
local helper = require "helper"

local M = {}

local function le(n, bytes)   -- little-endian unsigned integer of `bytes` bytes (n < 2^53, or math.huge for all ones)
    local t = {}
    for i = 1, bytes do
        if n == math.huge then t[i] = 255 else t[i] = n % 256; n = math.floor(n / 256) end
    end
    return string.char(unpack(t))
end
local function put(s, pos, bytes) return s:sub(1, pos - 1) .. bytes .. s:sub(pos + #bytes) end
local function u32(s, pos) local a, b, c, d = s:byte(pos, pos + 3) return a + b * 256 + c * 65536 + d * 16777216 end
local function u64(s, pos) return u32(s, pos) + u32(s, pos + 4) * 4294967296 end

---------------------------------------------------------------- GGUF field positions
-- Walks a GGUF v3 file and returns where each field sits (1-based positions):
-- { kv = { [key] = { key_at, type_at, value_at } }, tensors = { [name] = { name_at, ndims_at,
--   dims_at, type_at, offset_at, offset } }, n_tensors_at, n_kv_at, data_at }.
local fixed = { [0] = 1, 1, 2, 2, 4, 4, 4, 1, nil, nil, 8, 8, 8 }
function M.gguf_fields(s)
    local p = 25
    local f = { n_tensors_at = 9, n_kv_at = 17, kv = {}, tensors = {} }
    local function str() local n = u64(s, p) local v = s:sub(p + 8, p + 7 + n) p = p + 8 + n return v end
    local function value(t)
        if t == 8 then str()
        elseif t == 9 then
            local et, n = u32(s, p), u64(s, p + 4)
            p = p + 12
            for _ = 1, n do value(et) end
        else p = p + fixed[t] end
    end
    for _ = 1, u64(s, 17) do
        local key_at = p
        local key = str()
        local type_at = p
        local t = u32(s, p)
        p = p + 4
        f.kv[key] = { key_at = key_at, type_at = type_at, value_at = p }
        value(t)
    end
    for _ = 1, u64(s, 9) do
        local info = { name_at = p }
        local name = str()
        info.ndims_at = p
        local nd = u32(s, p)
        info.dims_at, info.type_at = p + 4, p + 4 + 8 * nd
        info.offset_at = info.type_at + 4
        info.offset = u64(s, info.offset_at)
        p = info.offset_at + 8
        f.tensors[name] = info
    end
    f.data_at = math.ceil((p - 1) / 32) * 32 + 1
    return f
end

---------------------------------------------------------------- the files
-- The tiny valid inputs the cases start from: the fuzz seeds (a Llama GGUF with its
-- vocabulary, a llama2.c checkpoint + tokenizer, a TTT safetensors folder, a state file).
local function seed(rel) return helper.read_file(helper.root .. "/spec/fuzz/corpus/" .. rel) end
local function split(s) local at = assert(s:find("\n--\n", 1, true)) return s:sub(1, at - 1), s:sub(at + 4) end

local F32_NAN, F32_INF = "\0\0\192\127", "\0\0\128\127"

--- Writes every case's files under dir and returns the list of cases.
function M.build(dir)
    local cases = {}
    local n_files = 0
    local function file(bytes, ext)
        n_files = n_files + 1
        local p = ("%s/f%03d%s"):format(dir, n_files, ext or ".gguf")
        helper.write_file(p, bytes)
        return p
    end
    local function add(c) cases[#cases + 1] = c end
    local function model_case(name, script, path, extra, accepted)
        local args = { script, "-m", path }
        for _, a in ipairs(extra or {}) do args[#args + 1] = a end
        add { name = name, args = args, names = { path }, accepted = accepted }
    end
    local function gen(name, bytes, accepted) -- a GGUF through generate.lua
        model_case("GGUF " .. name, "generate.lua", file(bytes), { "-n", "2", "-p", "Hi" }, accepted)
    end

    -- GGUF: truncated at 40 offsets, through generate.lua (and a few through the other scripts)
    local gguf = seed("model_gguf/llama.gguf")
    local g = M.gguf_fields(gguf)
    local cuts = { 0, 1, 3, 4, 7, 8, 12, 16, 20, 24, 25, 30, 33, 40, 48, g.data_at - 1, g.data_at, g.data_at + 1, #gguf - 1 }
    for i = 1, 21 do cuts[#cuts + 1] = math.floor(#gguf * i / 22) end
    for _, n in ipairs(cuts) do gen(("truncated to %d of %d bytes"):format(n, #gguf), gguf:sub(1, n)) end
    for _, script in ipairs({ "tokenize.lua", "perplexity.lua", "logits.lua", "chat.lua" }) do
        for _, n in ipairs({ 100, g.data_at + 7 }) do
            local extra = script == "tokenize.lua" and { "Hi" } or script == "logits.lua" and { "--ids", "1 2", "-o", "/dev/null" }
                or script == "perplexity.lua" and { "-f", helper.root .. "/spec/data/text/tinystories_sample.txt" } or nil
            model_case(("GGUF truncated to %d bytes through %s"):format(n, script), script, file(gguf:sub(1, n)), extra)
        end
    end

    -- GGUF header: magic, version, counts
    for _, magic in ipairs({ "GGUX", "FUGG", "\0\0\0\0", "GGML" }) do gen("magic " .. magic:gsub("%z", "0"), put(gguf, 1, magic)) end
    for _, v in ipairs({ 0, 1, 4, 99, 4294967295 }) do gen("version " .. v, put(gguf, 5, le(v, 4))) end
    for _, n in ipairs({ 0, 1000, 2 ^ 32, 2 ^ 40, math.huge }) do
        gen("tensor count " .. tostring(n), put(gguf, g.n_tensors_at, le(n, 8)))
        gen("metadata count " .. tostring(n), put(gguf, g.n_kv_at, le(n, 8)))
    end

    -- GGUF metadata: string lengths, value types, array counts, model dimensions
    local arch = g.kv["general.architecture"]
    for _, n in ipairs({ 2 ^ 20, 2 ^ 40, math.huge }) do
        gen("key length " .. tostring(n), put(gguf, arch.key_at, le(n, 8)))
        gen("string value length " .. tostring(n), put(gguf, arch.value_at, le(n, 8)))
    end
    for _, t in ipairs({ 13, 99, 4294967295 }) do gen("value type " .. t, put(gguf, arch.type_at, le(t, 4))) end
    local tokens = g.kv["tokenizer.ggml.tokens"]
    for _, n in ipairs({ 0, 258, 260, 2 ^ 32, math.huge }) do
        gen("token array count " .. tostring(n), put(gguf, tokens.value_at + 4, le(n, 8)))
    end
    gen("token array of floats", put(gguf, tokens.value_at, le(6, 4)))
    gen("architecture 'nonsense'", put(gguf, arch.value_at + 8, "xxxxx"))
    for key, values in pairs({
        ["llama.embedding_length"] = { 0, 7, 4096, 2 ^ 31, 4294967295 },
        ["llama.block_count"] = { 0, 2, 1000000, 4294967295 },
        ["llama.attention.head_count"] = { 0, 3, 1000 },
        ["llama.attention.head_count_kv"] = { 0, 3, 8 },
        ["llama.feed_forward_length"] = { 0, 25, 2 ^ 31 },
        ["llama.context_length"] = { 0 },
        ["tokenizer.ggml.bos_token_id"] = { 259, 4294967295 },
        ["tokenizer.ggml.eos_token_id"] = { 100000 },
    }) do
        for _, v in ipairs(values) do gen(("%s = %s"):format(key, tostring(v)), put(gguf, g.kv[key].value_at, le(v, 4))) end
    end
    -- the file sizes the memory: a context of 2^25 or 2^31-1 positions must be refused or capped
    for _, v in ipairs({ 2 ^ 25, 2 ^ 31 - 1 }) do
        gen(("llama.context_length = %d, no -c"):format(v), put(gguf, g.kv["llama.context_length"].value_at, le(v, 4)),
            true)   -- accepted: capped at 4096 (llama.cpp's habit), within the memory bound
    end
    gen("rms epsilon NaN", put(gguf, g.kv["llama.attention.layer_norm_rms_epsilon"].value_at, F32_NAN))

    -- GGUF tensors: dimensions, types, offsets, overlaps, NaN/Inf weights
    local embd, norm = g.tensors["token_embd.weight"], g.tensors["output_norm.weight"]
    for _, d in ipairs({ 0, 9, 2 ^ 32, 2 ^ 62, math.huge }) do
        gen("token_embd dimension " .. tostring(d), put(gguf, embd.dims_at, le(d, 8)))
    end
    for _, nd in ipairs({ 0, 5, 4294967295 }) do gen("token_embd n_dims " .. nd, put(gguf, embd.ndims_at, le(nd, 4))) end
    for _, t in ipairs({ 4, 5, 31, 99, 4294967295 }) do gen("token_embd ggml type " .. t, put(gguf, embd.type_at, le(t, 4))) end
    for _, o in ipairs({ 1, 4, #gguf, 2 ^ 40, math.huge }) do
        gen("output_norm offset " .. tostring(o), put(gguf, norm.offset_at, le(o, 8)))
    end
    gen("output_norm overlapping token_embd", put(gguf, norm.offset_at, le(embd.offset, 8)))
    gen("tensor name length 2^40", put(gguf, norm.name_at, le(2 ^ 40, 8)))
    local norm_data = g.data_at + norm.offset
    gen("output_norm NaN", put(gguf, norm_data, F32_NAN:rep(8)))
    gen("output_norm Inf", put(gguf, norm_data, F32_INF:rep(8)))
    gen("token_embd all NaN", put(gguf, g.data_at + embd.offset, F32_NAN:rep(259 * 8)))

    -- llama.c checkpoints and tokenizer.bin
    local ckpt, tok = split(seed("model_llama2c/tiny+tok512"))
    local tok_path = file(tok, ".bin")
    local function l2c(name, bytes, tok_file)
        local p = file(bytes, ".bin")
        add { name = "llama2.c " .. name, args = { "generate.lua", "-m", p, "-z", tok_file or tok_path, "-n", "2" },
              names = { p } }
    end
    for _, n in ipairs({ 0, 4, 27, 28, 29, 100, 2048, #ckpt - 4, #ckpt - 1 }) do l2c("truncated to " .. n, ckpt:sub(1, n)) end
    for i, field in ipairs({ "dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len" }) do
        for _, v in ipairs({ 0, 2 ^ 31 - 1, 2 ^ 32 - 1 }) do   -- 2^32-1 is -1
            l2c(("%s = %d"):format(field, v), put(ckpt, 4 * i - 3, le(v, 4)))
        end
    end
    l2c("n_heads 3 (not dividing dim 8)", put(ckpt, 13, le(3, 4)))
    local function tokcase(name, bytes)
        local p = file(bytes, ".bin")
        add { name = "tokenizer.bin " .. name, args = { "generate.lua", "-m", file(ckpt, ".bin"), "-z", p, "-n", "2" },
              names = { p } }
    end
    for _, n in ipairs({ 0, 3, 4, 9, 100, #tok - 1 }) do tokcase("truncated to " .. n, tok:sub(1, n)) end
    tokcase("max_token_length 0", put(tok, 1, le(0, 4)))
    tokcase("first token length 2^31-1", put(tok, 9, le(2 ^ 31 - 1, 4)))
    tokcase("first token length -1", put(tok, 9, le(2 ^ 32 - 1, 4)))
    tokcase("first score NaN", put(tok, 5, F32_NAN))
    for _, n in ipairs({ 0, 101 }) do   -- (100 bytes would end on a record: a valid 7-token vocabulary)
        local p = file(tok:sub(1, n), ".bin")
        add { name = "tokenize.lua on a tokenizer.bin truncated to " .. n, args = { "tokenize.lua", "-m", p, "Hi" }, names = { p } }
    end

    -- safetensors + config.json (a TTT folder)
    local config, weights = split(seed("model_safetensors/ttt-tiny"))
    local function st(name, cfg, w)
        n_files = n_files + 1
        local d = ("%s/st%03d"):format(dir, n_files)
        assert(os.execute("mkdir -p " .. helper.quote(d)) == 0)
        if cfg then helper.write_file(d .. "/config.json", cfg) end
        if w then helper.write_file(d .. "/model.safetensors", w) end
        add { name = "safetensors " .. name, args = { "generate.lua", "-m", d .. "/model.safetensors", "-n", "2" },
              names = { d } }
    end
    local hlen = u64(weights, 1)
    for _, n in ipairs({ 0, 4, 8, 9, 50, hlen + 7, hlen + 8, hlen + 100, #weights - 1 }) do
        st("truncated to " .. n, config, weights:sub(1, n))
    end
    for _, n in ipairs({ 0, 1, 2 ^ 31, 2 ^ 50, math.huge }) do st("header length " .. tostring(n), config, put(weights, 1, le(n, 8))) end
    local header = weights:sub(9, 8 + hlen)
    local function with_header(h) return le(#h, 8) .. h .. weights:sub(9 + hlen) end
    st("header not JSON", config, with_header(("x"):rep(hlen)))
    st("header a JSON array", config, with_header("[1,2,3]" .. (" "):rep(hlen - 7)))
    st("unknown dtype", config, with_header((header:gsub('"F32"', '"Q7"', 1))))
    st("dtype BOOL", config, with_header((header:gsub('"F32"', '"BOOL"', 1))))
    st("offsets past the end", config, with_header((header:gsub('%[(%d+),(%d+)%]', function(a, b)
        return ("[%d,%d]"):format(a + 1000000, b + 1000000) end, 1))))
    st("all offsets 0", config, with_header((header:gsub('"data_offsets":%[%d+,(%d+)%]', function(b)
        return ('"data_offsets":[0,%s]'):format(b) end))))
    st("shape not matching the bytes", config, with_header((header:gsub('"shape":%[(%d+)', '"shape":[%1999', 1))))
    st("no config.json", nil, weights)
    st("no model.safetensors", config, nil)
    st("config.json empty", "", weights)
    st("config.json not JSON", "{\"hidden_size\": ", weights)
    st("config.json nested 100000 deep", ("["):rep(100000), weights)
    for key, v in pairs({ hidden_size = { 0, 7, 2 ^ 40 }, num_hidden_layers = { 0, 2, -1 }, vocab_size = { 0, 5, 2 ^ 31 },
                          num_attention_heads = { 0, 3 }, mini_batch_size = { 0, -4, 2 ^ 40 }, intermediate_size = { 0, 2 ^ 40 } }) do
        for _, x in ipairs(v) do
            st(("config %s = %s"):format(key, tostring(x)), (config:gsub('("' .. key .. '": )[^,\n]+', "%1" .. ("%d"):format(x))), weights)
        end
    end
    st("config model_type unknown", (config:gsub('"model_type": "ttt"', '"model_type": "qwerty"')), weights)

    -- special files as the model; a missing file
    local fifo = dir .. "/fifo"
    assert(os.execute("mkfifo " .. helper.quote(fifo)) == 0)
    local empty = file("")
    for _, p in ipairs({ empty, dir, fifo, "/dev/zero", "/dev/null", dir .. "/missing.gguf" }) do
        for _, script in ipairs({ "generate.lua", "tokenize.lua" }) do
            add { name = ("%s as the model of %s"):format(p:gsub("^" .. dir:gsub("%p", "%%%0"), "<tmp>"), script),
                  args = script == "tokenize.lua" and { script, "-m", p, "Hi" } or { script, "-m", p, "-n", "2" }, names = { p } }
        end
    end

    -- the C API (runtime/bitttt.h) through its example program
    for _, p in ipairs({ file(gguf:sub(1, 300)), file(put(gguf, 5, le(99, 4))), file(put(gguf, embd.type_at, le(99, 4))),
                         empty, dir, "/dev/zero", dir .. "/missing.gguf" }) do
        add { name = "C API (embed_c) loads " .. p:gsub("^" .. dir:gsub("%p", "%%%0"), "<tmp>"),
              args = { "@embed_c", p, "-n", "2", "--fast" }, names = { p } }
    end
    local bad_ckpt = file(put(ckpt, 1, le(0, 4)), ".bin")
    add { name = "C API (embed_c) loads a llama2.c checkpoint of dim 0", args = { "@embed_c", bad_ckpt, "-z", tok_path, "--fast" },
          names = { bad_ckpt } }
    local bad_tok = file(tok:sub(1, 100), ".bin")
    add { name = "C API (embed_c) with a truncated tokenizer.bin", args = { "@embed_c", file(ckpt, ".bin"), "-z", bad_tok, "--fast" },
          names = { bad_tok } }

    -- (session state files: no script loads them yet; spec/fuzz's state target covers them)

    -- prompts: not UTF-8, too long for the context, 10 MB on chat's input
    local good = file(gguf)
    add { name = "prompt of 100000 tokens (more than the context)", args = { "generate.lua", "-m", good, "-p", ("ab"):rep(50000), "-n", "2" },
          names = { "-c", "context" } }
    add { name = "non-UTF-8 prompt longer than -c 8", args = { "generate.lua", "-m", good, "-c", "8", "-p", ("\255\254\128"):rep(10), "-n", "2" },
          names = { "-c", "context" } }
    local ten_mb = file(("\255 Once upon a time\128 "):rep(10 * 1024 * 1024 / 20) .. "\n", ".txt")
    local default_model = helper.root .. "/models/default.gguf"
    -- (the bundled model has no context limit of its own: this one is set)
    add { name = "10 MB chat message on stdin", args = { "chat.lua", "-m", default_model, "-c", "4096" }, stdin = ten_mb,
          names = { "-c", "context" } }
    add { name = "10 MB non-UTF-8 prompt file", args = { "generate.lua", "-m", good, "-f", ten_mb, "-n", "2" },
          names = { "-c", "context" } }

    -- absurd option values: the message names the option (or a non-numeric value)
    local long_names = { ["-n"] = "--n-predict", ["-c"] = "--ctx-size", ["-t"] = "--threads", ["-b"] = "--batch-size",
                         ["-ngl"] = "--n-gpu-layers", ["-o"] = "--output" }
    local meaningful
    local function opt(script, flag, value, extra)
        local args = { script, "-m", good, flag, value }
        for _, a in ipairs(extra or { "-n", "2" }) do args[#args + 1] = a end
        local names = { flag, long_names[flag] }
        if not tonumber(value) and #value >= 4 then names[#names + 1] = value end
        add { name = ("%s %s %s"):format(script, flag, value), args = args, names = names,
              accepted = meaningful[flag .. " " .. value] }
    end
    -- huge but meaningful: everything (-n, --top-k, --repeat-last-n, -ngl); -b sizes buffers by the
    -- longest chunk fed, so a large one costs nothing up front
    meaningful = { ["-n 1e300"] = true, ["--top-k 1e300"] = true, ["--repeat-last-n 1e300"] = true,
                   ["-ngl 1e300"] = true, ["-b 1e9"] = true }
    for flag, values in pairs({
        ["-n"] = { "-5", "1e300", "nan", "x" }, ["-c"] = { "0", "-1", "1e12", "nan", "2.5" },
        ["-t"] = { "0", "-3", "1e12", "nan" }, ["-b"] = { "0", "-1", "1e9", "nan" },
        -- (llama.cpp's own meanings are not absurd: --temp <= 0 greedy, --top-k <= 0 and --min-p <= 0 off,
        -- --seed -1 random, --repeat-last-n -1 the context)
        ["--temp"] = { "nan", "inf" }, ["--top-k"] = { "1e300" }, ["--top-p"] = { "-0.5", "2", "nan" },
        ["--min-p"] = { "nan" }, ["--repeat-penalty"] = { "-1", "nan" }, ["--repeat-last-n"] = { "-2", "1e300" },
        ["--seed"] = { "1e300", "nan" }, ["--ttt-lr"] = { "nan", "-inf" }, ["--ttt-schedule"] = { "nonsense" },
        ["-ngl"] = { "-1", "lots", "1e300" },
    }) do
        for _, v in ipairs(values) do opt("generate.lua", flag, v, flag == "-n" and {} or nil) end
    end
    local sample = helper.root .. "/spec/data/text/tinystories_sample.txt"
    for _, v in ipairs({ "0", "-1", "nan" }) do opt("perplexity.lua", "-c", v, { "-f", sample }) end
    opt("perplexity.lua", "-b", "0", { "-f", sample })
    for _, v in ipairs({ "1 2 x", "1 1e300", "-1", "1 259", "" }) do opt("logits.lua", "--ids", v, { "-o", "/dev/null" }) end
    opt("logits.lua", "--prefill", "-1", { "--ids", "1 2" })
    opt("logits.lua", "-o", dir .. "/no/such/folder/out.f32", { "--ids", "1 2" })
    opt("chat.lua", "--template", "nonsense", {})
    opt("chat.lua", "-c", "0", {})
    return cases
end

return M
