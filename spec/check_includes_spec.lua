-- scripts/check-includes.sh: the include arrows point down (base <- kernels <- runtime
-- <- front-ends); it passes on this tree and fails, naming the file and line, on small
-- trees that break one rule each.
local helper = require "helper"

local script = helper.root .. "/scripts/check-includes.sh"

local function check(dir)
    local out, err, rc = helper.run(helper.quote(script) .. " " .. helper.quote(dir))
    return out .. err, rc
end

-- Runs the check on a temporary tree: a legal base/kernels/runtime/front-end stack plus
-- `extra` {path = text}; removes the tree afterwards.
local function check_tree(extra)
    local dir = helper.tmpdir()
    local files = {
        ["base/error.h"] = "#pragma once\n",
        ["kernels/cpu/k.h"] = '#include "base/error.h"\n',
        ["kernels/cpu/k.c"] = '#include "k.h"\n',
        ["runtime/tensor.h"] = '#include "base/error.h"\n',
        ["runtime/ops.h"] = '#include "tensor.h"\n#include "kernels/cpu/k.h"\n',
        ["runtime/ops.c"] = '#include "ops.h"\n',
        ["runtime/lua/b.c"] = '#include <lua.h>\n#include "runtime/ops.h"\n',
        ["spec/c/t.c"] = '#include "kernels/cpu/k.h"\n#include "runtime/lua/b.c"\n',
    }
    for path, text in pairs(extra or {}) do files[path] = text end
    for path, text in pairs(files) do
        os.execute("mkdir -p " .. helper.quote(dir .. "/" .. path:match("^(.*)/")))
        helper.write_file(dir .. "/" .. path, text)
    end
    local out, rc = check(dir)
    helper.rmdir(dir)
    return out, rc
end

describe("scripts/check-includes.sh", function()
    it("passes on this tree", function()
        local out, rc = check(helper.root)
        assert.equals(0, rc, out)
        assert.truthy(out:find("all pointing down", 1, true), out)
    end)

    it("passes on a legal stack (tests may include any layer)", function()
        local out, rc = check_tree()
        assert.equals(0, rc, out)
    end)

    local wrong = {
        { "a kernel including runtime/", { ["kernels/cpu/bad.c"] = '#include "runtime/tensor.h"\n' },
          "kernels/cpu/bad.c:1: kernels file includes runtime/tensor.h" },
        { "base including a kernel", { ["base/bad.h"] = '#include <stdint.h>\n#include "kernels/cpu/k.h"\n' },
          "base/bad.h:2: base file includes kernels/cpu/k.h" },
        { "a front-end including a kernel", { ["runtime/lua/bad.c"] = '#include "kernels/cpu/k.h"\n' },
          "runtime/lua/bad.c:1: front-end file includes kernels/cpu/k.h" },
        { "a script including a kernel", { ["scripts/tool.c"] = '#include "kernels/cpu/k.h"\n' },
          "scripts/tool.c:1: front-end file includes kernels/cpu/k.h" },
        { "a runtime file other than ops*/device.* including a kernel",
          { ["runtime/tensor.c"] = '#include "kernels/cpu/k.h"\n' },
          "runtime/tensor.c:1: runtime file includes kernels/cpu/k.h" },
        { "runtime including a front-end", { ["runtime/tensor.c"] = '#include "lua/b.c"\n' },
          "runtime/tensor.c:1: runtime file includes runtime/lua/b.c" },
        { "two files that include each other",
          { ["runtime/a.h"] = '#include "b.h"\n', ["runtime/b.h"] = '\n#include "a.h"\n' },
          "runtime/a.h:1: includes runtime/b.h, which includes runtime/a.h back" },
        { "an include that resolves nowhere", { ["runtime/c.c"] = '#include "runtime/error.h"\n' },
          'runtime/c.c:1: includes "runtime/error.h", which is not a file' },
    }
    for _, case in ipairs(wrong) do
        it("fails on " .. case[1], function()
            local out, rc = check_tree(case[2])
            assert.equals(1, rc, out)
            assert.truthy(out:find(case[3], 1, true), out)
        end)
    end
end)
