-- embed_spec.lua - examples/embed_c (bin/embed_c), the 60 Hz game loop on the
-- C API, run headless: it must stream text past the prompt, and the model's
-- work per frame must stay within the budget (mean <= budget, 99th percentile
-- <= twice the budget). Uses the bundled models/default.gguf, else the
-- stories260K reference checkpoint.
local helper = require "helper"

local exe = helper.root .. "/bin/embed_c"   -- the release build: the sanitizer build's timings mean nothing

local function model_args()
    local default = helper.root .. "/models/default.gguf"
    if helper.exists(default) then return { default } end
    local m, z = helper.data_file("models/stories260K.bin"), helper.data_file("models/tok512.bin")
    if m and z then return { m, "-z", z } end
end

local function run(args)
    local parts = { helper.quote(exe) }
    for _, a in ipairs(args) do parts[#parts + 1] = helper.quote(a) end
    return helper.run(table.concat(parts, " "))
end

describe("examples/embed_c", function()
    it("streams a story within a per-frame budget at 60 Hz", function()
        if not helper.exists(exe) then pending("skipped: bin/embed_c not built") return end
        local args = model_args()
        if not args then pending("skipped: test data not found (no models/default.gguf or stories260K)") return end
        local budget = 2.0
        for _, a in ipairs { "-p", "Once upon a time", "-b", tostring(budget), "-n", "60", "-s", "7" } do
            args[#args + 1] = a
        end
        local out, err, rc = run(args)
        assert.equals(0, rc, err)
        assert.is_truthy(out:find("^Once upon a time"), out)
        local generated = out:sub(#"Once upon a time" + 1):gsub("%s+", "")
        assert.is_true(#generated > 0, "no text after the prompt: " .. out)
        local tokens = tonumber(err:match("tokens: (%d+)"))
        local mean, p99 = err:match("mean ([%d.]+) p50 [%d.]+ p99 ([%d.]+)")
        assert.is_truthy(tokens and mean, "no stats in: " .. err)
        assert.is_true(tokens >= 1, err)
        assert.is_true(tonumber(mean) <= budget, "mean frame work above the budget: " .. err)
        assert.is_true(tonumber(p99) <= 2 * budget, "99th percentile above twice the budget: " .. err)
    end)

    it("spreads a token over several frames when the budget is smaller than a token", function()
        if not helper.exists(exe) then pending("skipped: bin/embed_c not built") return end
        local args = model_args()
        if not args then pending("skipped: test data not found (no models/default.gguf or stories260K)") return end
        for _, a in ipairs { "-b", "0.001", "-n", "10", "--fast" } do args[#args + 1] = a end
        local _, err, rc = run(args)
        assert.equals(0, rc, err)
        local frames, tokens = err:match("frames: (%d+) at 60 Hz, tokens: (%d+)")
        assert.is_truthy(frames, err)
        assert.is_true(tonumber(frames) > tonumber(tokens), "one layer per frame should take more frames than tokens: " .. err)
    end)

    it("reports a missing model as an error", function()
        if not helper.exists(exe) then pending("skipped: bin/embed_c not built") return end
        local _, err, rc = run { "/nonexistent/model.gguf" }
        assert.is_not.equals(0, rc)
        assert.is_truthy(err:find("/nonexistent/model.gguf", 1, true), err)
    end)
end)
