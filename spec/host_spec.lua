-- host_spec.lua - the bitttt-lua executable, and the module in plain luajit and lua5.1.
local helper = require "helper"

describe("bitttt-lua host", function()
    it("runs a script with arguments in arg", function()
        local dir = helper.tmpdir()
        local script = dir .. "/args.lua"
        local f = assert(io.open(script, "w"))
        f:write('print(#arg, arg[1], arg[2], select("#", ...))\n')
        f:close()
        local out, err, rc = helper.run_host(script, "one", "two words")
        helper.rmdir(dir)
        assert.equals(0, rc, err)
        assert.equals("2\tone\ttwo words\t2\n", out)
    end)

    it("runs -e chunks and prints a tensor", function()
        local out, err, rc = helper.run_host("-e", 'print(require("bitttt").tensor({{1,2},{3,4}}))')
        assert.equals(0, rc, err)
        assert.equals("tensor f32 [2, 2] cpu\n[[1, 2],\n [3, 4]]\n", out)
    end)

    it("finds scripts in the project's scripts/ folder from any directory", function()
        local out, err, rc = helper.run("cd / && " .. helper.quote(helper.host) .. " hello.lua")
        assert.equals(0, rc, err)
        assert.truthy(out:find("bitttt"))
    end)

    it("reports a missing script clearly and exits non-zero", function()
        local out, err, rc = helper.run_host("no-such-script.lua")
        assert.is_not.equals(0, rc)
        assert.equals("", out)
        assert.truthy(err:find("cannot find script 'no-such-script.lua'", 1, true))
    end)

    it("reports a Lua error with a traceback and exits non-zero", function()
        local _, err, rc = helper.run_host("-e", "error('boom')")
        assert.is_not.equals(0, rc)
        assert.truthy(err:find("boom"))
        assert.truthy(err:find("stack traceback"))
    end)

    it("prints version, CPU features and CUDA status", function()
        local out, err, rc = helper.run_host("--version")
        assert.equals(0, rc, err)
        assert.truthy(out:find("^bitttt%-lua %d+%.%d+%.%d+"))
        assert.truthy(out:find("avx2 [01]"))
        assert.truthy(out:find("cuda: "))
    end)

    it("runs piped input as luajit does: no prompts, expressions print, an error ends it with status 1", function()
        local a, b = math.random(1, 999), math.random(1, 999)
        local out, err, rc = helper.run(("printf '%d+%d\\nfor i=1,2 do\\nprint(i*10)\\nend\\n' | %s")
            :format(a, b, helper.quote(helper.host)))
        assert.equals(0, rc, err)
        assert.equals(("%d\n10\n20\n"):format(a + b), out)
        out, err, rc = helper.run("printf 'print(1)\\nerror(\"bad\")\\nprint(2)\\n' | " .. helper.quote(helper.host))
        assert.equals(1, rc)
        assert.equals("1\n", out)
        assert.truthy(err:find("bad", 1, true), err)
    end)

    it("reports an unfinished chunk at the end of piped input", function()
        local out, err, rc = helper.run("printf 'print(1)\\nfor i = 1, 2 do\\nprint(i)\\n' | " .. helper.quote(helper.host))
        assert.equals(1, rc)
        assert.equals("1\n", out)
        assert.truthy(err:find("'end' expected", 1, true), err)
    end)

    it("runs stdin as the script for -", function()
        local out, err, rc = helper.run("printf 'print(arg[0], ...)\\n' | " .. helper.quote(helper.host) .. " - x y")
        assert.equals(0, rc, err)
        assert.equals("-\tx\ty\n", out)
        out, err, rc = helper.run("printf 'print(1)\\nerror(\"oops\")\\n' | " .. helper.quote(helper.host) .. " -")
        assert.equals(1, rc)
        assert.equals("1\n", out)
        assert.truthy(err:find("oops", 1, true), err)
    end)
end)

describe("require 'bitttt' outside the host", function()
    local paths = ("LUA_PATH=%s LUA_CPATH=%s "):format(
        helper.quote(helper.root .. "/lua/?.lua;" .. helper.root .. "/lua/?/init.lua;;"),
        helper.quote(helper.root .. "/bin/?.so;;"))
    for _, interp in ipairs({ "luajit", "lua5.1" }) do
        it("loads in " .. interp .. " with the documented LUA_PATH/LUA_CPATH", function()
            local out, err, rc = helper.run(paths .. interp ..
                [[ -e 'local bt = require "bitttt"; local t = bt.tensor({{1,2},{3,4}}); print(t[{2,1}], t:dtype(), bt.info().version)']])
            assert.equals(0, rc, err)
            assert.truthy(out:find("^3\tf32\t%d+%.%d+%.%d+\n$"), out)
        end)
    end
end)
