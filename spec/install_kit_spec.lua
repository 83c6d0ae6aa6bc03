-- install_kit_spec.lua - scripts/install.sh puts the whole kit under a temporary
-- prefix, and everything runs from there, outside the project folder and with
-- no variable pointing back into it: the host (generate.lua with the installed
-- default model), the Lua package from plain luajit, a C program built with
-- pkg-config, the Python wrapper and embed_c. The rockspec passes `luarocks lint`.
local helper = require "helper"

local q = helper.quote

describe("scripts/install.sh PREFIX", function()
    local dir, prefix, install_out
    setup(function()
        dir = helper.tmpdir()
        prefix = dir .. "/prefix"
        local out, err, rc = helper.run(q(helper.root .. "/scripts/install.sh") .. " " .. q(prefix))
        assert.equals(0, rc, out .. err)
        install_out = out
    end)
    teardown(function() helper.rmdir(dir) end)

    -- runs a command from the temporary folder, with the kit's own variables cleared
    local function run(cmd, env)
        return helper.run(("cd %s && env -u BITTTT_HOME -u BITTTT_ROOT -u LUA_PATH -u LUA_CPATH -u BITTTT_LIB %s %s"):format(
            q(dir), env or "", cmd))
    end

    it("says what to set for a prefix outside the system's", function()
        for _, var in ipairs { "PATH", "LD_LIBRARY_PATH", "LUA_PATH", "LUA_CPATH", "PYTHONPATH", "PKG_CONFIG_PATH" } do
            assert.truthy(install_out:find("export " .. var .. "=", 1, true), var .. " in:\n" .. install_out)
        end
    end)

    it("runs bitttt-lua generate.lua with the installed default model", function()
        local out, err, rc = run(q(prefix .. "/bin/bitttt-lua") .. " generate.lua -p 'Once upon a time' -n 8 --temp 0")
        assert.equals(0, rc, err)
        assert.equals("Once upon a time", out:sub(1, 16))
        assert.is_true(#out > 17)
        local expected = helper.run(q(helper.host) .. " generate.lua -p 'Once upon a time' -n 8 --temp 0")
        assert.equals(expected, out)
    end)

    it("loads the package from plain luajit with LUA_PATH / LUA_CPATH under the prefix", function()
        helper.write_file(dir .. "/use.lua", [[
local bt = require "bitttt"
local model = require("bitttt.model").load(arg[1])
print(model.arch, package.searchpath("bitttt", package.path), package.searchpath("bitttt.core", package.cpath))
]])
        local env = ("LUA_PATH=%s LUA_CPATH=%s"):format(q(prefix .. "/share/lua/5.1/?.lua;" .. prefix .. "/share/lua/5.1/?/init.lua;;"),
            q(prefix .. "/lib/lua/5.1/?.so;;"))
        local out, err, rc = run("luajit use.lua " .. q(prefix .. "/share/bitttt/models/default.gguf"),
            "LD_LIBRARY_PATH=" .. q(prefix .. "/lib") .. " " .. env)
        assert.equals(0, rc, err)
        assert.equals(("bitttt\t%s/share/lua/5.1/bitttt/init.lua\t%s/lib/lua/5.1/bitttt/core.so\n"):format(prefix, prefix), out)
    end)

    it("builds and runs a C program with pkg-config", function()
        helper.write_file(dir .. "/app.c", [[
#include <stdio.h>
#include <bitttt/bitttt.h>
int main(int argc, char **argv) {
    bt_model *m = NULL;
    if (bt_model_load(&m, argv[1], NULL) != BT_OK) { printf("error: %s\n", bt_last_error()); return 1; }
    bt_model_info info;
    bt_model_get_info(m, &info);
    printf("%s %d\n", info.architecture, bt_api_version());
    bt_model_free(m);
    return argc > 2;
}
]])
        local pc = "PKG_CONFIG_PATH=" .. q(prefix .. "/lib/pkgconfig")
        local out, err, rc = run(("%s cc -std=c11 -o app app.c $(%s pkg-config --cflags --libs bitttt)"):format(pc, pc))
        assert.equals(0, rc, out .. err)
        out, err, rc = run("./app " .. q(prefix .. "/share/bitttt/models/default.gguf"), "LD_LIBRARY_PATH=" .. q(prefix .. "/lib"))
        assert.equals(0, rc, out .. err)
        assert.equals("bitttt 1\n", out)
    end)

    it("imports the Python wrapper from the prefix and generates", function()
        local _, _, has_python = helper.run("command -v python3")
        if has_python ~= 0 then pending("skipped: python3 not found") return end
        local out, err, rc = run(("python3 -c %s %s %s"):format(q([[
import sys, bitttt
m = bitttt.Model(sys.argv[1])
print(bitttt.__file__.startswith(sys.argv[2]), len(m.generate("Once upon a time", n=8, temp=0)) > 16)
]]), q(prefix .. "/share/bitttt/models/default.gguf"), q(prefix)),
            ("LD_LIBRARY_PATH=%s PYTHONPATH=%s"):format(q(prefix .. "/lib"), q(prefix .. "/lib/python3/dist-packages")))
        assert.equals(0, rc, out .. err)
        assert.equals("True True\n", out)
    end)

    it("runs the installed embed_c with no model argument (it finds the installed default model)", function()
        if not helper.exists(prefix .. "/share/bitttt/bin/embed_c") then pending("skipped: embed_c not built") return end
        local out, err, rc = run(q(prefix .. "/share/bitttt/bin/embed_c") .. " -n 6 -f 600 --fast")
        assert.equals(0, rc, out .. err)
        assert.truthy(err:find("tokens: 6", 1, true), err)
    end)
end)

describe("the rockspec", function()
    it("passes luarocks lint", function()
        local _, _, has = helper.run("command -v luarocks")
        if has ~= 0 then pending("skipped: luarocks not installed (scripts/build.sh installs it)") return end
        local specs = helper.run("ls " .. q(helper.root) .. "/*.rockspec")
        local rockspec = specs:match("[^\n]+")
        assert.truthy(rockspec, "no rockspec in the project root")
        local out, err, rc = helper.run("luarocks lint " .. q(rockspec))
        assert.equals(0, rc, out .. err)
    end)
end)
