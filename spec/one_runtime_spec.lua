-- one_runtime_spec.lua - one runtime per process: libbitttt.so exports only
-- bt_* (core.so only luaopen_bitttt_core); a Lua host with its own Lua - plain
-- luajit, PUC lua5.1, LÖVE - loads the module (a client of libbitttt.so) and,
-- where it has an FFI, calls the C API in the same process: one error buffer,
-- one thread setting, and the C API's own Lua state gives the host's logits.
local helper = require "helper"

local lib = helper.root .. "/bin/libbitttt.so"
local model = helper.root .. "/models/default.gguf"
local paths = ("LUA_PATH=%s LUA_CPATH=%s "):format(
    helper.quote(helper.root .. "/lua/?.lua;" .. helper.root .. "/lua/?/init.lua;;"),
    helper.quote(helper.root .. "/bin/?.so;;"))

-- Defined dynamic symbols of a shared object.
local function exports(file)
    local out, err, rc = helper.run("nm -D --defined-only " .. helper.quote(file))
    assert.equals(0, rc, err)
    local names = {}
    for name in out:gmatch("%S+ %u (%S+)\n") do names[#names + 1] = name end
    return names
end

describe("one runtime per process", function()
    it("libbitttt.so exports only bt_* and core.so only luaopen_bitttt_core", function()
        local names = exports(lib)
        assert.is_true(#names > 40, "too few exports: " .. #names)
        for _, name in ipairs(names) do assert.truthy(name:match("^bt_"), name .. " is exported") end
        assert.same({ "luaopen_bitttt_core" }, exports(helper.root .. "/bin/bitttt/core.so"))
    end)

    it("plain luajit: the module and the C API (FFI) share the error buffer, the threads and the graphs", function()
        local code = [[
            local bt = require "bitttt"
            local Model = require "bitttt.model"
            local ffi = require "ffi"
            ffi.cdef "const char *bt_last_error(void); int bt_set_threads(int n);"
            local C = ffi.load(os.getenv("BT_LIB"))
            assert(C.bt_set_threads(1) == 0 and bt.get_threads() == 1)
            assert(not pcall(bt.model_open, "/nonexistent/x.gguf"))
            print(ffi.string(C.bt_last_error()))
        ]]
        local out, err, rc = helper.run(paths .. "BT_LIB=" .. helper.quote(lib) .. " luajit -e " .. helper.quote(code))
        assert.equals(0, rc, err)
        assert.truthy(out:find("/nonexistent/x.gguf", 1, true), out)
    end)

    it("PUC lua5.1: the module runs a model on the host's Lua (libbitttt's binding binds to it)", function()
        local code = [[
            local Model = require "bitttt.model"
            local m = Model.load(os.getenv("BT_MODEL"))
            local logits = m:new_session({ n_ctx = 8 }):forward({ 1, 72 }, "last")
            print(_VERSION, m:fingerprint(), logits:size(1))
        ]]
        local out, err, rc = helper.run(paths .. "BT_MODEL=" .. helper.quote(model) .. " lua5.1 -e " .. helper.quote(code))
        assert.equals(0, rc, err)
        assert.truthy(out:find("^Lua 5%.1\t%x+\t%d+\n$"), out)
    end)

    it("LÖVE (its own LuaJIT, headless under xvfb-run) loads the module and calls the C API", function()
        local have = helper.run("command -v love && command -v xvfb-run")
        if not have:find("love") or not have:find("xvfb%-run") then
            pending("skipped: love and xvfb-run not installed (Debian packages love, xvfb)")
            return
        end
        local out, err, rc = helper.run(("cd %s && timeout 120 xvfb-run -a love spec/love_host %s %s"):format(
            helper.quote(helper.root), helper.quote(helper.root), helper.quote(model)))
        assert.truthy(out:find("love host: ok", 1, true), out .. err)
        assert.equals(0, rc, out .. err)
    end)
end)
