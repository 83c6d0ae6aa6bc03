-- generate_options_spec.lua - generate.lua's llama-cli options on the bundled
-- model: -f, -e, --no-display-prompt, --ignore-eos, -n -1, -s, --repeat-last-n -1; stdout ends with a
-- newline before the timings reach stderr; Ctrl-C stops, prints the timings and
-- exits 130. logits.lua -p and tokenize.lua without -m use the bundled model too.
local helper = require "helper"

local q = helper.quote
local host = q(helper.host)

local function gen(args, extra)
    return helper.run(host .. " generate.lua " .. args .. (extra or ""))
end

describe("generate.lua options", function()
    local dir
    setup(function() dir = helper.tmpdir() end)
    teardown(function() helper.rmdir(dir) end)

    it("-f reads the prompt from a file, as -p would give it", function()
        helper.write_file(dir .. "/p.txt", "The cat")
        local a, err, rc = gen("-f " .. q(dir .. "/p.txt") .. " -n 12 --temp 0")
        assert.equals(0, rc, err)
        local b = gen("-p 'The cat' -n 12 --temp 0")
        assert.equals(b, a)
        assert.equals("The cat", a:sub(1, 7))
    end)

    it("-f reads a prompt of over 2,000 tokens on the bundled model with no -c (no KV cache: no context limit)", function()
        local words = {}
        for i = 1, 900 do words[i] = ("the fox %d ran."):format(i) end
        helper.write_file(dir .. "/long.txt", table.concat(words, " "))
        local out, err, rc = gen("-f " .. q(dir .. "/long.txt") .. " -n 4 --temp 0")
        assert.equals(0, rc, err)
        local n_prompt = tonumber(err:match("timings: prompt (%d+) tok"))
        assert.is_true(n_prompt and n_prompt > 2000, err)
        assert.equals("the fox 1 ran.", out:sub(1, 14))
    end)

    it("-e reads escapes in the prompt", function()
        local out, err, rc = gen([[-p 'a\tb\x41\\n' -e -n 1 --temp 0]])
        assert.equals(0, rc, err)
        assert.equals("a\tbA\\n", out:sub(1, 6))
        out = gen([[-p 'a\tb' -n 1 --temp 0]])
        assert.equals("a\\tb", out:sub(1, 4))   -- without -e the text is taken as it is
    end)

    it("--no-display-prompt prints only the continuation", function()
        local full = gen("-p 'Once upon a time' -n 10 --temp 0")
        local only, err, rc = gen("-p 'Once upon a time' -n 10 --temp 0 --no-display-prompt")
        assert.equals(0, rc, err)
        assert.equals(full:sub(#"Once upon a time" + 1), only)
    end)

    it("-s is --seed: the same seed gives the same text", function()
        local a = gen("-p 'The' -n 16 --temp 1 -s 7")
        local b = gen("-p 'The' -n 16 --temp 1 --seed 7")
        assert.equals(a, b)
    end)

    it("--repeat-last-n -1 penalises the whole history, as a window longer than the text does", function()
        local base = "-p 'The cat sat on the mat. The cat' -n 48 --temp 1 -s 3 --repeat-penalty 1.5 --ignore-eos"
        local all, err, rc = gen(base .. " --repeat-last-n -1")
        assert.equals(0, rc, err)
        assert.equals(gen(base .. " --repeat-last-n 100000"), all)
        assert.is_not.equals(gen(base .. " --repeat-last-n 2"), all)
    end)

    it("--ignore-eos generates exactly -n tokens; -n -1 runs to the end of the context", function()
        local _, err, rc = gen("-p 'The' -n 200 --temp 0 --ignore-eos")
        assert.equals(0, rc, err)
        assert.truthy(err:find("generate 200 tok", 1, true), err)
        _, err, rc = gen("-p 'The' -n -1 --ignore-eos -c 40 --temp 0")
        assert.equals(0, rc, err)
        assert.truthy(err:find("context full (40 tokens)", 1, true), err)
    end)

    it("ends stdout with a newline before anything reaches stderr (one pipe for both)", function()
        local both = helper.run(host .. " generate.lua -p 'The' -n 8 --temp 0 2>&1")
        assert.truthy(both:find("\ntimings: prompt", 1, true), both)
        assert.is_nil(both:find("[^\n]timings:"), both)
    end)

    it("stops on Ctrl-C, prints the timings and exits 130", function()
        local out_file, err_file = dir .. "/out.txt", dir .. "/err.txt"
        -- a background job ignores SIGINT unless it installs a handler: the host must install one
        local cmd = ("%s generate.lua -p 'The' -n -1 --ignore-eos -c 1000000 >%s 2>%s & pid=$!; sleep 1; kill -INT $pid; wait $pid; echo $?")
            :format(host, q(out_file), q(err_file))
        local status = helper.run(cmd)
        assert.equals("130\n", status)
        local err = helper.read_file(err_file)
        assert.truthy(err:find("^timings: prompt %d+ tok [%d.]+ tok/s, generate %d+ tok [%d.]+ tok/s, load [%d.]+ s, rss %d+ MiB\n" ..
            "bitttt%-lua: generate%.lua: interrupted\n$"), err)
        local out = helper.read_file(out_file)
        assert.equals("\n", out:sub(-1))
        assert.is_true(#out > 10, out)
    end)
end)

describe("logits.lua and tokenize.lua with the bundled model", function()
    it("logits.lua -p equals --ids of the same tokens", function()
        local dir = helper.tmpdir()
        local ids, err, rc = helper.run(host .. " tokenize.lua 'Hello there'")
        assert.equals(0, rc, err)
        ids = ids:gsub("\n$", "")
        assert.truthy(ids:find("^%d+ %d+"), ids)
        _, err, rc = helper.run(host .. " logits.lua -p 'Hello there' -o " .. q(dir .. "/a.f32"))
        assert.equals(0, rc, err)
        _, err, rc = helper.run(host .. " logits.lua --ids " .. q(ids) .. " -o " .. q(dir .. "/b.f32"))
        assert.equals(0, rc, err)
        local a, b = helper.read_file(dir .. "/a.f32"), helper.read_file(dir .. "/b.f32")
        helper.rmdir(dir)
        local n_ids = select(2, ids:gsub("%d+", ""))
        assert.equals(n_ids * 4096 * 4, #a)
        assert.equals(b, a)
    end)
end)
