-- train_scripts_spec.lua - the runtime-side measuring scripts of scripts/train/ on the
-- bundled model: recall.lua (a document read twice in its own stream) and loops.sh
-- (does generation repeat itself).
local helper = require "helper"
local bt = require "bitttt"

local model_path = helper.root .. "/models/default.gguf"
local fixture_path = helper.root .. "/spec/fixtures/default_model_logits.safetensors"

describe("scripts/train", function()
    local dir
    setup(function()
        dir = helper.tmpdir()
        local _, meta = bt.safetensors_load(fixture_path)
        -- two documents: the held-out text the fixture holds, and its first half
        helper.write_file(dir .. "/a.txt", meta.text)
        helper.write_file(dir .. "/b.txt", meta.text:sub(1, math.floor(#meta.text / 2)))
    end)
    teardown(function() helper.rmdir(dir) end)

    local function recall(...)
        local out, err, rc = helper.run_host(helper.root .. "/scripts/train/recall.lua", "-m", model_path,
            "-d", dir, "-t", "1", ...)
        assert.equals(0, rc, err)
        local per_doc = {}
        for name, ratio in out:gmatch("(%a)%.txt: %d+ tokens, first copy [%d.]+, second copy [%d.]+, ratio ([%d.]+)") do
            per_doc[name] = tonumber(ratio)
        end
        return tonumber(out:match("median ratio: ([%d.]+)")), per_doc, out
    end

    it("recall.lua: each document's copies, and learning makes the second copy cheaper than frozen", function()
        local learning, per_doc, out = recall()
        local frozen, per_doc0, out0 = recall("--ttt-lr", "0")
        assert.truthy(per_doc.a and per_doc.b, out)
        assert.truthy(out:find("all 2 documents: first copy", 1, true), out)
        for _, r in pairs(per_doc0) do assert.is_true(math.abs(r - 1) < 0.1, out0) end
        assert.is_true(learning < frozen, out .. out0)
    end)

    it("recall.lua refuses a folder without documents", function()
        local empty = helper.tmpdir()
        local _, err, rc = helper.run_host(helper.root .. "/scripts/train/recall.lua", "-m", model_path, "-d", empty)
        helper.rmdir(empty)
        assert.is_not.equals(0, rc)
        assert.truthy(err:find("no *.txt documents", 1, true), err)
    end)

    it("loops.sh counts the samples whose 8-token sequences repeat", function()
        helper.write_file(dir .. "/prompts.txt", "The\nOnce upon a time\n")
        local out = helper.run("N=40 " .. helper.quote(helper.root .. "/scripts/train/loops.sh") .. " " ..
            helper.quote(model_path) .. " " .. helper.quote(dir .. "/prompts.txt") .. " -t 1 --repeat-penalty 1")
        assert.truthy(out:find("sample  1: most repeated 8%-token sequence %d+ times"), out)
        assert.truthy(out:find("sample  2: most repeated 8%-token sequence %d+ times"), out)
        assert.truthy(out:find("[012] of 2 samples loop"), out)
        -- forced to loop: a prompt that is one phrase over and over, greedy
        helper.write_file(dir .. "/prompts.txt", ("la la la la "):rep(12) .. "\n")
        out = helper.run("N=60 " .. helper.quote(helper.root .. "/scripts/train/loops.sh") .. " " ..
            helper.quote(model_path) .. " " .. helper.quote(dir .. "/prompts.txt") .. " -t 1 --temp 0 --repeat-penalty 1")
        assert.truthy(out:find("1 of 1 samples loop", 1, true), out)
    end)
end)
