-- tokenize_cli_spec.lua - the tokenize.lua interface: ids on one line, BOS from the
-- vocabulary unless --no-bos, special-token names only with --special; every one of
-- llama.cpp's reference strings for the three GGUF vocabularies (the binding-level
-- spec, tokenizer_spec.lua, covers decoding and the rest).
local helper = require "helper"

local function cases(name)
    local inp = helper.read_file(helper.data_file("tokenizers/" .. name .. ".inp"))
    local out = helper.read_file(helper.data_file("tokenizers/" .. name .. ".out"))
    local texts, at = {}, 1
    while at <= #inp do
        local s, e = inp:find("\n__ggml_vocab_test__\n", at, true)
        if not s then break end
        texts[#texts + 1] = inp:sub(at, s - 1)
        at = e + 1
    end
    local ids = {}
    for line in (out .. (out:sub(-1) == "\n" and "" or "\n")):gmatch("([^\n]*)\n") do
        ids[#ids + 1] = line:gsub("^%s+", "")
    end
    return texts, ids
end

describe("tokenize.lua", function()
    for _, vocab in ipairs({ "ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-bpe.gguf" }) do
        it("prints llama.cpp's ids for every reference string of " .. vocab, function()
            if helper.skip_without(pending, "tokenizers/" .. vocab) then return end
            local texts, expected = cases(vocab)
            assert.is_true(#texts >= 40)
            local path = helper.data_file("tokenizers/" .. vocab)
            for i, text in ipairs(texts) do
                local out, err, rc = helper.run_host("tokenize.lua", "-m", path, "--no-bos", text)
                assert.equals(0, rc, err)
                assert.equals(expected[i] .. "\n", out, ("string %d: %q"):format(i, text))
            end
        end)
    end

    it("adds BOS when the vocabulary asks, and parses special tokens only with --special", function()
        if helper.skip_without(pending, "tokenizers/ggml-vocab-llama-bpe.gguf") then return end
        local path = helper.data_file("tokenizers/ggml-vocab-llama-bpe.gguf")
        local out = helper.run_host("tokenize.lua", "-m", path, "Hi")
        assert.equals("128000 13347\n", out)
        local literal = helper.run_host("tokenize.lua", "-m", path, "--no-bos", "<|eot_id|>")
        local special = helper.run_host("tokenize.lua", "-m", path, "--no-bos", "--special", "<|eot_id|>")
        assert.equals("128009\n", special)
        assert.is_true(#literal > #special)
    end)

    it("takes a TEXT that starts with '-' after --", function()
        if helper.skip_without(pending, "tokenizers/ggml-vocab-gpt-2.gguf") then return end
        local path = helper.data_file("tokenizers/ggml-vocab-gpt-2.gguf")
        local _, err, rc = helper.run_host("tokenize.lua", "-m", path, "--no-bos", "-x marks")
        assert.is_not.equals(0, rc)
        assert.truthy(err:find("unknown option '-x marks'", 1, true), err)
        local out
        out, err, rc = helper.run_host("tokenize.lua", "-m", path, "--no-bos", "--", "-x marks")
        assert.equals(0, rc, err)
        local want = {}
        for _, id in ipairs(require("bitttt.core").tokenizer_open(path):encode("-x marks", { bos = false })) do
            want[#want + 1] = tostring(id)
        end
        assert.equals(table.concat(want, " ") .. "\n", out)
    end)

    it("reads llama2.c tokenizer files and refuses a missing TEXT", function()
        if helper.skip_without(pending, "models/tok512.bin") then return end
        local out, err, rc = helper.run_host("tokenize.lua", "-m", helper.data_file("models/tok512.bin"), "Once upon a time")
        assert.equals(0, rc, err)
        assert.truthy(out:find("^1 %d+"), out)
        _, err, rc = helper.run_host("tokenize.lua", "-m", helper.data_file("models/tok512.bin"))
        assert.is_not.equals(0, rc)
        assert.truthy(err:find("TEXT"), err)
    end)
end)
