-- tokenizer_spec.lua - the tokenizers through the Lua binding: llama.cpp's
-- reference cases for the Llama 2 (SentencePiece), GPT-2 and Llama 3 (byte-level
-- BPE) vocabularies, llama2.c's tokenizer.bin and tok512.bin, encode options,
-- special tokens, the streaming decoder and misuse.
local bt = require "bitttt"
local helper = require "helper"
local read_file = helper.read_file

local tokenizer_open = bt.tokenizer_open or require("bitttt.core").tokenizer_open

-- llama.cpp's cases: <vocab>.inp holds strings, each followed by the line
-- "__ggml_vocab_test__"; line i of <vocab>.out holds the ids of string i.
local function load_cases(name)
    local inp = read_file(helper.data_file("tokenizers/" .. name .. ".inp"))
    local out = read_file(helper.data_file("tokenizers/" .. name .. ".out"))
    local separator = "\n__ggml_vocab_test__\n"
    local cases, at = {}, 1
    while at <= #inp do
        local s, e = inp:find(separator, at, true)
        assert(s, name .. ".inp: a string without the separator after it")
        cases[#cases + 1] = { text = inp:sub(at, s - 1) }
        at = e + 1
    end
    local i = 0
    for line in out:gmatch("([^\n]*)\n") do
        i = i + 1
        local ids = {}
        for n in line:gmatch("%d+") do ids[#ids + 1] = tonumber(n) end
        assert(cases[i], name .. ".out: more lines than strings").ids = ids
    end
    assert(i == #cases, name .. ".out: fewer lines than strings")
    return cases
end

-- Whether s is whole UTF-8 characters (every lead byte has all its continuation bytes).
local function whole_characters(s)
    local i = 1
    while i <= #s do
        local b = s:byte(i)
        local n = b < 0x80 and 1 or b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC0 and 2 or 0
        if n == 0 or i + n - 1 > #s then return false end
        for k = i + 1, i + n - 1 do
            local c = s:byte(k)
            if c < 0x80 or c > 0xBF then return false end
        end
        i = i + n
    end
    return true
end

local function show(s) return (string.format("%q", s):gsub("\n", "n")) end

-- Every case encodes (without BOS) to exactly its ids and decodes back to itself.
local function check_cases(tok, cases)
    assert.equals(46, #cases)
    for i, c in ipairs(cases) do
        local ids = tok:encode(c.text, { bos = false })
        assert.are.same(c.ids, ids, "case " .. i .. " " .. show(c.text))
        assert.equals(c.text, tok:decode(ids), "case " .. i .. " does not round-trip")
    end
end

local reference_vocabs = {
    { file = "tokenizers/ggml-vocab-llama-spm.gguf", cases = "ggml-vocab-llama-spm.gguf" },
    { file = "tokenizers/ggml-vocab-gpt-2.gguf", cases = "ggml-vocab-gpt-2.gguf" },
    { file = "tokenizers/ggml-vocab-llama-bpe.gguf", cases = "ggml-vocab-llama-bpe.gguf" },
    { file = "tokenizers/tokenizer.bin", vocab_size = 32000, cases = "ggml-vocab-llama-spm.gguf" },
    { file = "tokenizers/tokenizer.bin", cases = "ggml-vocab-llama-spm.gguf" },   -- vocab size detected
}

describe("tokenizer", function()
    for _, v in ipairs(reference_vocabs) do
        local label = v.file .. (v.vocab_size and (" (" .. v.vocab_size .. " tokens)") or "")
        it("matches llama.cpp's expected ids with " .. label, function()
            if helper.skip_without(pending, v.file) or helper.skip_without(pending, "tokenizers/" .. v.cases .. ".inp") then
                return
            end
            local tok = tokenizer_open(helper.data_file(v.file), v.vocab_size)
            check_cases(tok, load_cases(v.cases))
            tok:free()
        end)
    end

    it("round-trips text with llama2.c's tok512.bin", function()
        if helper.skip_without(pending, "models/tok512.bin") or helper.skip_without(pending, "text/tinystories_sample.txt") then
            return
        end
        local tok = tokenizer_open(helper.data_file("models/tok512.bin"), 512)
        assert.equals(512, tok:vocab_size())
        local story = read_file(helper.data_file("text/tinystories_sample.txt"))
        local ids = tok:encode(story)
        assert.equals(1, ids[1])                       -- BOS: llama2.c vocabularies want it
        assert.is_true(#ids > #story / 8 and #ids < #story)
        assert.equals(story, tok:decode(ids))
        for _, s in ipairs({ "Once upon a time", " leading space", "tabs\tand\nnewlines  ", "Grüße 😀 中文", "" }) do
            assert.equals(s, tok:decode(tok:encode(s)))
        end
        tok:free()
    end)

    it("reports the vocabulary and follows its BOS/EOS wishes", function()
        if helper.skip_without(pending, "tokenizers/ggml-vocab-llama-spm.gguf") then return end
        local tok = tokenizer_open(helper.data_file("tokenizers/ggml-vocab-llama-spm.gguf"))
        assert.equals(32000, tok:vocab_size())
        assert.equals(1, tok:bos())
        assert.equals(2, tok:eos())
        assert.is_true(tok:add_bos())
        assert.is_false(tok:add_eos())
        assert.are.same({ 1, 15043, 3186 }, tok:encode("Hello world"))
        assert.are.same({ 15043, 3186 }, tok:encode("Hello world", { bos = false }))
        assert.are.same({ 1, 15043, 3186, 2 }, tok:encode("Hello world", { eos = true }))
        assert.are.same({}, tok:encode("", { bos = false }))
        assert.equals(" Hello", tok:piece(15043))
        assert.equals("\226\150\129Hello", tok:text(15043))
        assert.equals("\n", tok:piece(13))
        assert.equals("byte", tok:type(13))
        assert.equals("control", tok:type(1))
        assert.equals("Hello world", tok:decode({ 1, 15043, 3186, 2 }))
        -- shown "<s>" is text before "▁Hello", whose space then stays (as Hugging Face decodes)
        assert.equals("<s> Hello world</s>", tok:decode({ 1, 15043, 3186, 2 }, { special = true }))
        assert.matches("32000 tokens", tostring(tok))
        tok:free()
    end)

    it("parses special tokens only when asked", function()
        if helper.skip_without(pending, "tokenizers/ggml-vocab-llama-bpe.gguf") then return end
        local tok = tokenizer_open(helper.data_file("tokenizers/ggml-vocab-llama-bpe.gguf"))
        assert.is_true(tok:add_bos())
        assert.equals(128000, tok:bos())
        assert.equals(128001, tok:eos())
        local chat = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        local ids = tok:encode(chat, { bos = false, special = true })
        assert.are.same({ 128006, 882, 128007, 271, 13347, 128009 }, ids)
        assert.equals(chat, tok:decode(ids, { special = true }))
        assert.equals("user\n\nHi", tok:decode(ids))
        for _, id in ipairs(tok:encode(chat, { bos = false })) do
            assert.equals("normal", tok:type(id))
        end
        tok:free()
    end)

    it("streams text without cutting UTF-8 characters", function()
        if helper.skip_without(pending, "tokenizers/ggml-vocab-llama-spm.gguf") then return end
        local tok = tokenizer_open(helper.data_file("tokenizers/ggml-vocab-llama-spm.gguf"))
        local text = "Emoji 😀 and Khmer ស្រុក, then ASCII."
        local ids = tok:encode(text)                  -- BOS first: its space goes, as in llama2.c
        local stream = tok:stream()
        local parts = {}
        for _, id in ipairs(ids) do
            local s = stream:push(id)
            assert.is_true(whole_characters(s), "chunk " .. show(s))
            parts[#parts + 1] = s
        end
        parts[#parts + 1] = stream:flush()
        assert.equals(text, table.concat(parts))
        -- the four byte tokens of U+1F600 come out as one chunk
        local emoji = tok:stream()
        local chunks = {}
        for _, id in ipairs({ 243, 162, 155, 131 }) do chunks[#chunks + 1] = emoji:push(id) end
        assert.are.same({ "", "", "", "😀" }, chunks)
        tok:free()
    end)

    it("raises clear errors for misuse", function()
        if helper.skip_without(pending, "models/tok512.bin") then return end
        local ok, err = pcall(tokenizer_open, "/nonexistent/tokenizer.bin")
        assert.is_false(ok)
        assert.matches("/nonexistent/tokenizer.bin", err, 1, true)
        ok, err = pcall(tokenizer_open, helper.data_file("models/tok512.bin"), 600)
        assert.is_false(ok)
        assert.matches("vocab_size", err, 1, true)
        local tok = tokenizer_open(helper.data_file("models/tok512.bin"))
        ok, err = pcall(tok.decode, tok, { 1, 512 })
        assert.is_false(ok)
        assert.matches("out of range", err, 1, true)
        ok, err = pcall(tok.decode, tok, { 1, 2.5 })
        assert.is_false(ok)
        assert.matches("ids[2]", err, 1, true)
        local stream = tok:stream()
        tok:free()
        tok:free()                                    -- idempotent
        ok, err = pcall(tok.encode, tok, "x")
        assert.is_false(ok)
        assert.matches("after free", err, 1, true)
        ok, err = pcall(stream.push, stream, 5)
        assert.is_false(ok)
        assert.matches("freed", err, 1, true)
    end)
end)
