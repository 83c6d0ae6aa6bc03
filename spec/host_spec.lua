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

    it("reports a Lua error in one line and exits 1; the traceback only with BITTTT_DEBUG=1", function()
        local _, err, rc = helper.run_host("-e", "error('boom')")
        assert.equals(1, rc)
        assert.equals("bitttt-lua: (command line):1: boom\n", err)
        _, err, rc = helper.run("BITTTT_DEBUG=1 " .. helper.quote(helper.host) .. " -e \"error('boom')\"")
        assert.equals(1, rc)
        assert.truthy(err:find("^bitttt%-lua: %(command line%):1: boom\nstack traceback"), err)
    end)

    it("prints version, CPU features and CUDA status", function()
        local out, err, rc = helper.run_host("--version")
        assert.equals(0, rc, err)
        assert.truthy(out:find("^bitttt%-lua %d+%.%d+%.%d+"))
        assert.truthy(out:find("avx2 [01]"))
        assert.truthy(out:find("cuda: "))
    end)

    it("runs the REPL on standard input: expressions print, errors don't end it", function()
        local out, err, rc = helper.run("printf '1+2\\nerror(\"bad\")\\nfor i=1,2 do\\nprint(i*10)\\nend\\n' | "
            .. helper.quote(helper.host))
        assert.equals(0, rc, err)
        assert.truthy(out:find("3\n", 1, true))
        assert.truthy(out:find("10\n20\n", 1, true))
        assert.truthy(err:find("bad"))
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
