-- python_spec.lua - runs python/test_bitttt.py, the unittest of the ctypes
-- wrapper python/bitttt.py, against bin/libbitttt.so.
local helper = require "helper"

describe("python/bitttt.py", function()
    it("passes its unittest (load, generate, logits, sampling, TTT state)", function()
        local lib = helper.root .. "/bin/libbitttt.so"
        if not helper.exists(lib) then pending("skipped: bin/libbitttt.so not built") return end
        local _, _, has_python = helper.run("command -v python3")
        if has_python ~= 0 then pending("skipped: python3 not found") return end
        if helper.skip_without(pending, "models/stories260K.bin") then return end
        local out, err, rc = helper.run(("BITTTT_LIB=%s BITTTT_DATA=%s python3 %s"):format(
            helper.quote(lib), helper.quote(helper.data), helper.quote(helper.root .. "/python/test_bitttt.py")))
        assert.equals(0, rc, out .. err)
        assert.is_truthy(err:find("OK"), err)
        assert.is_falsy(err:find("skipped"), "the unittest skipped tests: " .. err)
    end)
end)
