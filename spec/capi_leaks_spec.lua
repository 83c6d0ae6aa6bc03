-- capi_leaks_spec.lua - 100 load/use/free cycles of every model we ship or test
-- with through the C API (bin/asan/capi-cycles: the ASan+UBSan build, with
-- LeakSanitizer on): no leak reported, and no mapping of the model file left
-- in /proc/self/maps. Suppressions (spec/lsan.supp) name only allocations of
-- runtimes we do not own, each with its reason.
local helper = require "helper"
local models = require "capi_models"

local tool = helper.root .. "/bin/asan/capi-cycles"
local env = ("ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=%s:print_suppressions=0 "):format(
    helper.quote(helper.root .. "/spec/lsan.supp"))

describe("the C API over 100 load/free cycles", function()
    teardown(models.cleanup)
    for _, entry in ipairs(models.list) do
        it("leaks nothing and leaves no mapping of the file: " .. entry.name, function()
            if not helper.exists(tool) then pending("skipped: " .. tool .. " not built (./scripts/build.sh sanitize)") return end
            local path = entry.path()
            if not path then pending("skipped: test data not found for " .. entry.name) return end
            local tok = entry.tokenizer and entry.tokenizer()
            local out, err, rc = helper.run(env .. helper.quote(tool) .. " 100 " .. helper.quote(path) ..
                (tok and (" " .. helper.quote(tok)) or ""))
            assert.equals(0, rc, out .. err)
            assert.truthy(out:find("cycles: 100, mappings left: 0", 1, true), out .. err)
            local mapped = tonumber(out:match("mapped while loaded: (%d+)"))
            assert.is_true(mapped and mapped > 0, "the file is never mapped, so the check could not fail: " .. out)
            assert.falsy(err:find("LeakSanitizer", 1, true), err)
        end)
    end
end)
