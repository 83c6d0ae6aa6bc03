-- cli_errors_spec.lua - bad invocations of every script, as a user makes them:
-- each must end with exactly one line on stderr ("bitttt-lua: <script>: <message>"),
-- the documented exit status (README "Errors and exit status": 1 error, 2 usage
-- error, 130 interrupted), no stack traceback, and no "file.lua:NN:" position
-- unless the fault is in the user's own file. Nothing may hang: every run has a
-- time limit (a FIFO given as a model used to wait forever).
local helper = require "helper"

local q = helper.quote
local dir = helper.tmpdir()
local function path(name) return dir .. "/" .. name end

-- Wrong files, made once.
helper.write_file(path("empty.gguf"), "")
helper.write_file(path("text.gguf"), "this is a text file, not a model\n")
helper.write_file(path("prompt.txt"), "Once upon a time")
helper.write_file(path("tokenizer.model"), "\n\11\n\5<unk>\21\0\0\0\0\24\2\n\9\n\3<s>\21\0\0\0\0\24\3")   -- SentencePiece protobuf
helper.write_file(path("noise.bin"), "\255\254\253\252\1\2\3\4\5\6\7\8\9\10\11\12")
helper.write_file(path("bad_schedule.lua"), "local x = nil\nreturn x.field\n")
helper.write_file(path("raises.lua"), "error('my own failure')\n")
helper.write_file(path("late_schedule.lua"),   -- fails while generating, after text went to stdout
    "return function(position) if position > 3 then error('schedule broke') end return 1 end\n")
os.execute("printf 'gzip me' | gzip > " .. q(path("gz.gguf")))
os.execute("mkdir -p " .. q(path("emptydir")))
os.execute("mkfifo " .. q(path("fifo")))

local function F(name) return path(name) end

-- { args..., rc = status, says = text the message must contain, user_position = true when
--   a "file.lua:NN:" position of the user's own file is expected }
local cases = {
    -- the host itself
    { "--bogus-host-option", rc = 2, says = "unknown option '--bogus-host-option'" },
    { "no-such-script.lua", rc = 2, says = "cannot find script 'no-such-script.lua'", host = true },
    { "-e", rc = 2, says = "-e needs an argument" },
    { F("fifo"), rc = 2, says = "cannot find script '" .. F("fifo") .. "' (a readable file", host = true },
    { F("raises.lua"), rc = 1, says = "my own failure", user_position = true },
    { "-e", "error('boom')", rc = 1, says = "(command line):1: boom", user_position = true },
    -- generate.lua: options
    { "generate.lua", "--bogus", rc = 2, says = "unknown option '--bogus'" },
    { "generate.lua", "-n", rc = 2, says = "option -n needs a value" },
    { "generate.lua", "-n", "nan", rc = 2, says = "option -n needs a whole number >= -1, got 'nan'" },
    { "generate.lua", "-n", "2.5", rc = 2, says = "-n needs a whole number" },
    { "generate.lua", "-n", "-2", rc = 2, says = "-n needs a whole number >= -1" },
    { "generate.lua", "-b", "0", rc = 2, says = "option -b needs a whole number >= 1, got '0'" },
    { "generate.lua", "--batch-size", "-3", rc = 2, says = "needs a whole number >= 1" },
    { "generate.lua", "--temp", "nan", rc = 2, says = "option --temp needs a number >= 0, got 'nan'" },
    { "generate.lua", "--temp", "-1", rc = 2, says = "--temp needs a number >= 0" },
    { "generate.lua", "--temp", "inf", rc = 2, says = "--temp needs a number" },
    { "generate.lua", "--repeat-penalty", "nan", rc = 2, says = "--repeat-penalty needs a number > 0, got 'nan'" },
    { "generate.lua", "--top-p", "0", rc = 2, says = "--top-p needs a number > 0 and <= 1" },
    { "generate.lua", "--min-p", "1", rc = 2, says = "--min-p needs a number >= 0 and < 1" },
    { "generate.lua", "--top-k", "-1", rc = 2, says = "--top-k needs a whole number >= 0" },
    { "generate.lua", "-t", "1e12", rc = 2, says = "option -t needs a whole number >= 1 and <= 4096, got '1e12'" },
    { "generate.lua", "-t", "0", rc = 2, says = "-t needs a whole number >= 1" },
    { "generate.lua", "-c", "0", rc = 2, says = "-c needs a whole number >= 1" },
    { "generate.lua", "-s", "x", rc = 2, says = "-s needs a whole number" },
    { "generate.lua", "--ttt-lr", "-1", rc = 2, says = "--ttt-lr needs a number >= 0" },
    { "generate.lua", "--ttt-schedule", "sideways:3", rc = 2, says = "--ttt-schedule: cannot read 'sideways:3'" },
    { "generate.lua", "--ttt-schedule", F("bad_schedule.lua"), "-n", "1", rc = 1, says = "bad_schedule.lua:2:",
      user_position = true },
    { "generate.lua", "--ttt-schedule", F("late_schedule.lua"), "-p", "The", "-n", "40", rc = 1,
      says = "late_schedule.lua:1: schedule broke", user_position = true },
    { "generate.lua", "--n-gpu-layers", "some", rc = 2, says = "--n-gpu-layers needs a whole number >= 0 or auto" },
    { "generate.lua", "-p", "x", "-f", F("prompt.txt"), rc = 2, says = "not both" },
    { "generate.lua", "--seed=abc", rc = 2, says = "--seed needs a whole number" },
    -- generate.lua: files
    { "generate.lua", "-m", F("missing.gguf"), rc = 1, says = "missing.gguf: no such file or folder" },
    { "generate.lua", "-m", F("empty.gguf"), rc = 1, says = "found an empty file; expected a model" },
    { "generate.lua", "-m", F("text.gguf"), rc = 1, says = "found a text file; expected a model" },
    { "generate.lua", "-m", F("gz.gguf"), rc = 1, says = "found a gzip-compressed file" },
    { "generate.lua", "-m", F("noise.bin"), rc = 1, says = "found data of no known format (first bytes ff fe fd fc" },
    { "generate.lua", "-m", F("emptydir"), rc = 1, says = "a folder without model.safetensors; expected a model" },
    { "generate.lua", "-m", F("fifo"), rc = 1, says = "a FIFO (named pipe), not a regular file" },
    { "generate.lua", "-m", F("tokenizer.model"), rc = 1, says = "found a SentencePiece tokenizer.model" },
    { "generate.lua", "-z", F("tokenizer.model"), rc = 1, says = "found a SentencePiece tokenizer.model (protobuf); expected a tokenizer" },
    { "generate.lua", "-z", F("fifo"), rc = 1, says = "a FIFO (named pipe)" },
    { "generate.lua", "-f", F("missing.txt"), rc = 1, says = "missing.txt: no such file or folder" },
    { "generate.lua", "-f", F("emptydir"), rc = 1, says = "emptydir: a folder; expected a regular file" },
    { "generate.lua", "-f", F("fifo"), rc = 1, says = "a FIFO (named pipe)" },
    -- perplexity.lua
    { "perplexity.lua", rc = 2, says = "no text: give -f TEXT" },
    { "perplexity.lua", "-f", F("prompt.txt"), "--batch", "0", rc = 2, says = "option --batch needs a whole number >= 1" },
    { "perplexity.lua", "-f", F("prompt.txt"), "--batch-size", "x", rc = 2, says = "--batch-size needs a whole number" },
    { "perplexity.lua", "-f", F("prompt.txt"), "-c", "1", rc = 2, says = "-c needs a whole number >= 2" },
    { "perplexity.lua", "-f", F("prompt.txt"), "--from", "1", rc = 2, says = "--from needs a whole number >= 2" },
    { "perplexity.lua", "-f", F("fifo"), rc = 1, says = "a FIFO (named pipe)" },
    { "perplexity.lua", "-f", F("prompt.txt"), "-z", F("text.gguf"), rc = 1, says = "found a text file; expected a tokenizer" },
    { "perplexity.lua", "-f", F("prompt.txt"), "-m", F("gz.gguf"), rc = 1, says = "found a gzip-compressed file" },
    -- logits.lua
    { "logits.lua", "-o", F("out.f32"), rc = 2, says = "no input: give --ids" },
    { "logits.lua", "--ids", "1 x 3", "-o", F("out.f32"), rc = 2, says = "--ids: 'x' is not a token id" },
    { "logits.lua", "--ids", "1 2", "-p", "hi", "-o", F("out.f32"), rc = 2, says = "--ids or -p, not both" },
    { "logits.lua", "--ids", "1 2", rc = 2, says = "no output file: give -o FILE" },
    { "logits.lua", "--ids", "1 2", "--prefill", "3", "-o", F("out.f32"), rc = 2, says = "--prefill 3 is larger" },
    { "logits.lua", "--ids", "1 99999", "-o", F("out.f32"), rc = 1, says = "id 99999 is outside the vocabulary" },
    { "logits.lua", "-p", "hi", "-o", F("emptydir"), rc = 1, says = "emptydir" },
    -- tokenize.lua
    { "tokenize.lua", rc = 2, says = "expected exactly one TEXT argument, got 0" },
    { "tokenize.lua", "a", "b", rc = 2, says = "expected exactly one TEXT argument, got 2" },
    { "tokenize.lua", "-m", F("text.gguf"), "hi", rc = 1, says = "found a text file; expected a tokenizer" },
    { "tokenize.lua", "-m", F("fifo"), "hi", rc = 1, says = "a FIFO (named pipe)" },
    -- the other scripts
    { "quantize.lua", rc = 2, says = "expected IN.gguf OUT.gguf" },
    { "quantize.lua", F("text.gguf"), F("out.gguf"), rc = 1, says = "found a text file; expected a model" },
    { "quantize.lua", "a.gguf", "b.gguf", "tq9_9", rc = 2, says = "format must be tq2_0 or tq1_0" },
    { "convert-llama2c.lua", "only-one.bin", rc = 2, says = "expected CHECKPOINT.bin TOKENIZER.bin OUT.gguf" },
    { "convert-llama2c.lua", F("empty.gguf"), F("text.gguf"), F("o.gguf"), rc = 1, says = "found an empty file" },
    { "make-bitnet.lua", rc = 2, says = "no output file" },
    { "make-bitnet.lua", F("o.gguf"), "--shape", "huge", rc = 2, says = "--shape must be tiny, 2b4t or 70b" },
    { "make-bitnet.lua", F("o.gguf"), "--dim", "0", rc = 2, says = "--dim needs a whole number >= 1" },
    { "chat.lua", "--bogus", rc = 2, says = "unknown option '--bogus'" },
    { "chat.lua", "-m", F("gz.gguf"), rc = 1, says = "found a gzip-compressed file" },
}

-- The kit's Lua files by name: lua/bitttt/**.lua and scripts/*.lua.
local kit_files = {}
do
    local p = io.popen("find " .. q(helper.root .. "/lua") .. " " .. q(helper.root .. "/scripts") .. " -name '*.lua'")
    for f in p:lines() do kit_files[f:match("[^/]*$")] = true end
    p:close()
end

local function describe_case(c)
    local shown = {}
    for _, a in ipairs(c) do shown[#shown + 1] = (a:gsub("^" .. dir:gsub("%p", "%%%0") .. "/", "")) end
    return table.concat(shown, " ")
end

local function run(c, env)
    local parts = { "timeout 60", q(helper.host) }
    for _, a in ipairs(c) do parts[#parts + 1] = q(a) end
    return helper.run((env or "") .. table.concat(parts, " ") .. " </dev/null")
end

describe("bad invocations", function()
    teardown(function() helper.rmdir(dir) end)

    it("are at least 30, over every script", function()
        assert.is_true(#cases >= 30)
    end)

    for _, c in ipairs(cases) do
        it(describe_case(c) .. " -> one line, exit " .. c.rc, function()
            local out, err, rc = run(c)
            assert.equals(c.rc, rc, err)
            assert.is_true(out == "" or out:sub(-1) == "\n", "stdout must end its line before the error: " .. out)
            assert.is_nil(err:find("traceback", 1, true), err)
            local line = err:match("^([^\n]*)\n$")
            assert.is_truthy(line, "not exactly one line on stderr:\n" .. err)
            local script = not c.host and c[1]:match("%.lua$") and c[1]:match("[^/]*$")
            local prefix = script and ("bitttt-lua: " .. script .. ": ") or "bitttt-lua: "
            assert.equals(prefix, line:sub(1, #prefix))
            assert.is_truthy(line:find(c.says, 1, true), line)
            -- positions: only of the user's own files (c.says names them), never of the kit's
            for file in line:gmatch("([^%s:]+%.lua):%d+:") do
                assert.is_true(c.user_position and not kit_files[file:match("[^/]*$")], line)
            end
        end)
    end

    it("keep the traceback for --verbose and BITTTT_DEBUG=1", function()
        local _, err, rc = run({ "generate.lua", "-m", F("gz.gguf"), "--verbose" })
        assert.equals(1, rc)
        assert.is_truthy(err:find("^bitttt%-lua: generate%.lua: .-gz%.gguf: found a gzip"), err)
        assert.is_truthy(err:find("stack traceback", 1, true), err)
        _, err, rc = run({ "tokenize.lua", "-m", F("text.gguf"), "hi" }, "BITTTT_DEBUG=1 ")
        assert.equals(1, rc)
        assert.is_truthy(err:find("stack traceback", 1, true), err)
    end)

    it("warn once when --ttt-lr cannot apply, and still run", function()
        local model = path("attention-only.gguf")   -- a tiny BitNet: attention layers only
        local _, err, rc = helper.run_host("make-bitnet.lua", model, "--vocab", "synthetic:300")
        assert.equals(0, rc, err)
        local out
        out, err, rc = run({ "generate.lua", "-m", model, "--ttt-lr", "0.5", "-n", "4", "--temp", "0" })
        assert.equals(0, rc, err)
        assert.is_truthy(err:find("^bitttt%-lua: generate%.lua: warning: %-%-ttt%-lr has no effect: .-no test%-time%-training layers\ntimings: "), err)
        assert.is_true(#out > 0)
        _, err, rc = run({ "generate.lua", "--ttt-lr", "0.5", "-n", "4", "--temp", "0" })   -- the bundled TTT model
        assert.equals(0, rc, err)
        assert.is_nil(err:find("warning", 1, true), err)
    end)
end)
