-- gguf_rename_arch_spec.lua - scripts/gguf-rename-arch.lua (used by bench-compare.sh
-- for runtimes that know BitNet b1.58 only as "bitnet") against the fixture's own
-- renamed copy.
local bt = require "bitttt"
local helper = require "helper"

describe("gguf-rename-arch.lua", function()
    it("gives the fixture's bitnet-b1.58 copy: same keys, values and tensor bytes", function()
        local dir = "reference/bitnet/"
        if helper.skip_without(pending, dir .. "bitnet-s4321-tq2_0-arch-bitnet-b1.58.gguf") then return end
        local out = os.tmpname()
        local _, err, rc = helper.run_host("gguf-rename-arch.lua", helper.data_file(dir .. "bitnet-s4321-tq2_0.gguf"), out, "bitnet-b1.58")
        assert.equals(0, rc, err)
        local want = helper.data_file(dir .. "bitnet-s4321-tq2_0-arch-bitnet-b1.58.gguf")
        assert.are.same(bt.gguf_meta(want), bt.gguf_meta(out))
        local a, b = bt.model_open(want), bt.model_open(out)
        assert.are.same(a:tensor_names(), b:tensor_names())
        for _, name in ipairs(a:tensor_names()) do
            assert.equals(a:tensor(name):dtype(), b:tensor(name):dtype())
            assert.equals(a:tensor(name):tobytes(), b:tensor(name):tobytes(), name)
        end
        _, err, rc = helper.run_host("gguf-rename-arch.lua", out)
        assert.equals(2, rc)
        assert.truthy(err:find("usage:", 1, true), err)
        os.remove(out)
    end)
end)
