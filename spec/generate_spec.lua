-- generate_spec.lua - generate.lua and logits.lua on real models: llama2.c's
-- stories260K (greedy text must equal llama2.c's own output byte for byte), the
-- GGUF our converter makes from it, batch prefill vs token-by-token logits, the
-- context limit, the timings line and clear errors.
local helper = require "helper"
local read = helper.read_file

local stories = "models/stories260K.bin"
local tok512 = "models/tok512.bin"

local function floats(path)
    local s = read(path)
    local bt = require "bitttt"
    return bt.from_bytes(s, "f32", { #s / 4 }), #s / 4
end

local timings_pattern = "\ntimings: prompt %d+ tok [%d.]+ tok/s, generate %d+ tok [%d.]+ tok/s, load [%d.]+ s, rss %d+ MiB\n$"

describe("generate.lua on llama2.c stories260K", function()
    for _, n in ipairs({ 200, 256 }) do
        it("prints exactly llama2.c's greedy text for -n " .. n, function()
            if helper.skip_without(pending, stories) then return end
            local out, err, rc = helper.run_host("generate.lua", "-m", helper.data_file(stories),
                "-z", helper.data_file(tok512), "--temp", "0", "-n", tostring(n))
            assert.equals(0, rc, err)
            assert.equals(read(helper.data_file("reference/stories260K_t0_n" .. n .. ".txt")), out)
            assert.truthy(("\n" .. err):find(timings_pattern), err)
        end)
    end

    it("reproduces the text from the GGUF our converter writes", function()
        if helper.skip_without(pending, stories) then return end
        local dir = helper.tmpdir()
        local gguf = dir .. "/stories260K.gguf"
        local _, err, rc = helper.run_host("convert-llama2c.lua", helper.data_file(stories), helper.data_file(tok512), gguf)
        assert.equals(0, rc, err)
        local out, err2, rc2 = helper.run_host("generate.lua", "-m", gguf, "--temp", "0", "-n", "200")
        helper.rmdir(dir)
        assert.equals(0, rc2, err2)
        assert.equals(read(helper.data_file("reference/stories260K_t0_n200.txt")), out)
    end)

    it("prints the prompt as given, then the continuation", function()
        if helper.skip_without(pending, stories) then return end
        local out, err, rc = helper.run_host("generate.lua", "-m", helper.data_file(stories),
            "-z", helper.data_file(tok512), "--temp", "0", "-n", "20", "-p", "Once upon a time")
        assert.equals(0, rc, err)
        assert.equals("Once upon a time", out:sub(1, 16))
        local full = read(helper.data_file("reference/stories260K_t0_n200.txt"))
        assert.equals(full:sub(1, 60), out:sub(1, 60))   -- the same story: the prompt is its start
        assert.equals("\n", out:sub(-1))
    end)

    it("is deterministic for a seed and thread count, and differs between seeds", function()
        if helper.skip_without(pending, stories) then return end
        local function gen(seed)
            local out, err, rc = helper.run_host("generate.lua", "-m", helper.data_file(stories), "-z",
                helper.data_file(tok512), "--temp", "1", "-n", "60", "--seed", tostring(seed), "-t", "2")
            assert.equals(0, rc, err)
            return out
        end
        assert.equals(gen(7), gen(7))
        assert.are_not.equals(gen(7), gen(8))
    end)

    it("stops cleanly at the context limit", function()
        if helper.skip_without(pending, stories) then return end
        local out, err, rc = helper.run_host("generate.lua", "-m", helper.data_file(stories), "-z",
            helper.data_file(tok512), "--temp", "0", "-n", "100", "-c", "16")
        assert.equals(0, rc, err)
        assert.truthy(err:find("context full (16 tokens)", 1, true), err)
        assert.truthy(err:find("generate 16 tok", 1, true), err)   -- BOS + 15 fed, 16 sampled
        assert.truthy(#out > 10)
    end)

    it("reports zero rates as 0 tok/s for -n 0", function()
        if helper.skip_without(pending, stories) then return end
        local out, err, rc = helper.run_host("generate.lua", "-m", helper.data_file(stories), "-z",
            helper.data_file(tok512), "-n", "0", "-p", "Hi")
        assert.equals(0, rc, err)
        assert.equals("Hi\n", out)
        assert.truthy(err:find("generate 0 tok 0.00 tok/s", 1, true), err)
    end)

    it("gives clear errors for a missing model, a missing tokenizer, bad sampling metadata and bad options", function()
        local _, err, rc = helper.run_host("generate.lua", "-m", "/nonexistent/model.gguf")
        assert.is_not.equals(0, rc)
        assert.truthy(err:find("/nonexistent/model.gguf", 1, true), err)
        _, err, rc = helper.run_host("generate.lua", "--bogus")
        assert.is_not.equals(0, rc)
        assert.truthy(err:find("unknown option '--bogus'", 1, true), err)
        local dir = helper.tmpdir()
        local bad = dir .. "/bad-sampling.gguf"
        require("ttt_fixtures").write_random_bitttt { path = bad, mixers = { "attention" },
            meta = { { "general.sampling.penalty_repeat", "str", "lots" } } }
        _, err, rc = helper.run_host("generate.lua", "-m", bad, "-n", "1")
        helper.rmdir(dir)
        assert.is_not.equals(0, rc)
        assert.truthy(err:find(bad .. ": general.sampling.penalty_repeat must be a number, got lots", 1, true), err)
        if helper.skip_without(pending, stories) then return end
        _, err, rc = helper.run_host("generate.lua", "-m", helper.data_file(stories))
        assert.is_not.equals(0, rc)
        assert.truthy(err:find("tokenizer", 1, true), err)
    end)

    it("documents every option in --help", function()
        local out, _, rc = helper.run_host("generate.lua", "--help")
        assert.equals(0, rc)
        for _, opt in ipairs({ "-m", "-z", "-p", "-n", "-c", "--temp", "--top-k", "--top-p", "--min-p",
            "--repeat-penalty", "--seed", "-t", "--verbose" }) do
            assert.truthy(out:find(opt, 1, true), opt)
        end
    end)
end)

describe("logits.lua", function()
    it("gives the same logits for a prompt batch and for prefill + one at a time", function()
        if helper.skip_without(pending, stories) then return end
        local dir = helper.tmpdir()
        local ids = "1 403 407 261 378 432 383 286 261 376 298 315 421"
        local outs = {}
        for _, k in ipairs({ "13", "5", "1", "0" }) do
            local path = dir .. "/l" .. k .. ".f32"
            local _, err, rc = helper.run_host("logits.lua", "-m", helper.data_file(stories), "--ids", ids,
                "--prefill", k, "-o", path)
            assert.equals(0, rc, err)
            outs[#outs + 1] = path
        end
        local ref, n = floats(outs[1])
        assert.equals(13 * 512, n)
        for i = 2, #outs do
            local other = floats(outs[i])
            local worst = 0
            for j = 1, n do worst = math.max(worst, math.abs(ref[j] - other[j])) end
            assert.is_true(worst <= 1e-5, ("prefill variant %d differs by %g"):format(i, worst))
        end
        helper.rmdir(dir)
    end)

    it("rejects a prefill longer than the ids and ids outside the vocabulary", function()
        if helper.skip_without(pending, stories) then return end
        local _, err, rc = helper.run_host("logits.lua", "-m", helper.data_file(stories), "--ids", "1 2 3",
            "--prefill", "4", "-o", "/dev/null")
        assert.is_not.equals(0, rc)
        assert.truthy(err:find("--prefill 4 is larger than the number of ids (3)", 1, true), err)
        _, err, rc = helper.run_host("logits.lua", "-m", helper.data_file(stories), "--ids", "1 9999", "-o", "/dev/null")
        assert.is_not.equals(0, rc)
        assert.truthy(err:find("outside the vocabulary", 1, true), err)
    end)
end)
