-- bad_files_spec.lua - corrupted model files through the user-facing scripts:
-- each must end with a clear error that names the file, never a crash.
-- (spec/c/test_readers_*.c corrupt every field of every format at the C level.)
local helper = require "helper"
local read, write = helper.read_file, helper.write_file

-- Runs generate.lua on the model; expects exit status 1 (a crash is > 128), nothing on
-- stdout, and a message naming `bad` (the corrupted file) and matching `pattern`.
local function expect_error(model, pattern, extra, bad)
    local args = { "generate.lua", "-m", model, "-n", "2" }
    for _, a in ipairs(extra or {}) do args[#args + 1] = a end
    local out, err, rc = helper.run_host(unpack(args))
    assert.is_true(rc == 1, ("exit status %s: %s"):format(tostring(rc), err))
    assert.equals("", out)
    assert.truthy(err:find(bad or model, 1, true), err)
    assert.truthy(err:find(pattern), err)
end

describe("corrupted model files", function()
    local dir = helper.tmpdir()
    teardown(function() helper.rmdir(dir) end)

    it("GGUF: truncated, wrong magic, bad version, absurd tensor count, data past the end", function()
        if helper.skip_without(pending, "reference/bitnet/bitnet-s4321-tq2_0.gguf") then return end
        local good = read(helper.data_file("reference/bitnet/bitnet-s4321-tq2_0.gguf"))
        local p = dir .. "/bad.gguf"
        write(p, good:sub(1, 1000))
        expect_error(p, "cannot fit in the 976 bytes left")
        write(p, good:sub(1, #good - 100))
        expect_error(p, "past end of file")
        write(p, "GGUX" .. good:sub(5))
        expect_error(p, "")                          -- not GGUF: read as llama2.c, which refuses it too
        write(p, good:sub(1, 4) .. "\9\0\0\0" .. good:sub(9))
        expect_error(p, "version")
        write(p, good:sub(1, 8) .. "\255\255\255\255\255\255\0\0" .. good:sub(17))
        expect_error(p, "tensor")
    end)

    it("GGUF v2 (v3's layout under the older version number) is read", function()
        if helper.skip_without(pending, "tokenizers/ggml-vocab-llama-spm.gguf") then return end
        local good = read(helper.data_file("tokenizers/ggml-vocab-llama-spm.gguf"))
        assert.equals("\3\0\0\0", good:sub(5, 8))
        local p = dir .. "/v2.gguf"
        write(p, good:sub(1, 4) .. "\2\0\0\0" .. good:sub(9))
        local out, err, rc = helper.run_host("tokenize.lua", "-m", p, "--no-bos", "Hello world")
        assert.equals(0, rc, err)
        assert.equals("15043 3186\n", out)
    end)

    it("GGUF: a tensor of an unknown type is named", function()
        if helper.skip_without(pending, "reference/bitnet/bitnet-s4321-tq2_0.gguf") then return end
        local good = read(helper.data_file("reference/bitnet/bitnet-s4321-tq2_0.gguf"))
        -- the first tensor info follows the metadata: find its name and the type field after its dims
        local name = "token_embd.weight"
        local at = good:find(name, 1, true)
        assert.truthy(at)
        local after_name = at + #name             -- n_dims (u32) then 2 x u64 dims, then the type (u32)
        local type_at = after_name + 4 + 16
        local p = dir .. "/badtype.gguf"
        write(p, good:sub(1, type_at - 1) .. "\99\0\0\0" .. good:sub(type_at + 4))
        expect_error(p, "type")
    end)

    it("llama2.c: a checkpoint of the wrong size and a garbage header", function()
        if helper.skip_without(pending, "models/stories260K.bin") then return end
        local good = read(helper.data_file("models/stories260K.bin"))
        local tok = helper.data_file("models/tok512.bin")
        local p = dir .. "/bad.bin"
        write(p, good:sub(1, #good - 4))
        expect_error(p, "short", { "-z", tok })
        write(p, good .. "xxxx")
        expect_error(p, "long", { "-z", tok })
        write(p, ("\255"):rep(28) .. good:sub(29))
        expect_error(p, "", { "-z", tok })
    end)

    it("tokenizer.bin: truncated", function()
        if helper.skip_without(pending, "models/stories260K.bin") then return end
        local tok = read(helper.data_file("models/tok512.bin"))
        local p = dir .. "/tok.bin"
        write(p, tok:sub(1, 100))
        expect_error(helper.data_file("models/stories260K.bin"), "expected 512 tokens", { "-z", p }, p)
    end)

    it("safetensors: a header that promises more data than the file holds", function()
        if helper.skip_without(pending, "reference/ttt/model.safetensors") then return end
        local good = read(helper.data_file("reference/ttt/model.safetensors"))
        local p = dir .. "/m.safetensors"
        write(p, good:sub(1, #good - 1000))
        local _, err, rc = helper.run_host("logits.lua", "-m", p, "--ids", "1 2", "-o", "/dev/null")
        assert.is_true(rc == 1, err)
        assert.truthy(err:find(p, 1, true), err)
    end)
end)
