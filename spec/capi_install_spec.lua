-- capi_install_spec.lua - scripts/install.sh into a temporary prefix, then a
-- tiny C program built against it with pkg-config (shared and static), run
-- with the installed library: the versioned soname, the headers and
-- bitttt.pc must be enough to embed the runtime.
local helper = require "helper"

local program = [[
#include <stdio.h>
#include <string.h>
#include <bitttt/bitttt.h>
int main(int argc, char **argv) {
    if (bt_api_version() != BT_API_VERSION || strcmp(bt_version_string(), BT_VERSION_STRING)) return 3;
    bt_model *m = NULL;
    if (bt_model_load(&m, argc > 1 ? argv[1] : "/nonexistent.gguf", NULL) != BT_OK) {
        printf("error: %s\n", bt_last_error());
        return 0;
    }
    bt_model_info info;
    bt_model_get_info(m, &info);
    printf("loaded %s\n", info.architecture);
    bt_model_free(m);
    return 0;
}
]]

describe("scripts/install.sh", function()
    it("installs headers, a versioned libbitttt.so, libbitttt.a and bitttt.pc that a C program builds against", function()
        if not helper.exists(helper.root .. "/bin/libbitttt.so") then pending("skipped: bin/libbitttt.so not built") return end
        local _, _, has_pc = helper.run("command -v pkg-config")
        if has_pc ~= 0 then pending("skipped: pkg-config not found") return end
        local dir = helper.tmpdir()
        local prefix = dir .. "/prefix"
        local out, err, rc = helper.run(helper.quote(helper.root .. "/scripts/install.sh") .. " " .. helper.quote(prefix))
        assert.equals(0, rc, out .. err)
        for _, f in ipairs { "include/bitttt/bitttt.h", "include/bitttt/base/error.h", "include/bitttt/version.h",
            "lib/libbitttt.so", "lib/libbitttt.so.1", "lib/libbitttt.a", "lib/pkgconfig/bitttt.pc" } do
            assert.is_true(helper.exists(prefix .. "/" .. f), "missing " .. f)
        end
        local soname = helper.run("readelf -d " .. helper.quote(prefix .. "/lib/libbitttt.so") .. " 2>/dev/null")
        if soname ~= "" then assert.is_truthy(soname:find("SONAME.-%[libbitttt%.so%.1%]"), soname) end

        local src = dir .. "/app.c"
        local f = assert(io.open(src, "w"))
        f:write(program)
        f:close()
        local pc = "PKG_CONFIG_PATH=" .. helper.quote(prefix .. "/lib/pkgconfig")
        local q = helper.quote
        out, err, rc = helper.run(("%s cc -std=c11 -Wall -Wextra -o %s %s $(%s pkg-config --cflags --libs bitttt)"):format(
            pc, q(dir .. "/app"), q(src), pc))
        assert.equals(0, rc, "shared build: " .. out .. err)
        -- static: the archive, then what bitttt.pc lists for static linking
        out, err, rc = helper.run(("%s cc -std=c11 -o %s %s $(%s pkg-config --cflags bitttt) $(%s pkg-config --static --libs bitttt | sed 's/-lbitttt /-Wl,-Bstatic -lbitttt -Wl,-Bdynamic /')"):format(
            pc, q(dir .. "/app_static"), q(src), pc, pc))
        assert.equals(0, rc, "static build: " .. out .. err)

        local model = helper.data_file("models/stories260K.bin")
        for _, exe in ipairs { "app", "app_static" } do
            out, err, rc = helper.run("LD_LIBRARY_PATH=" .. q(prefix .. "/lib") .. " " .. q(dir .. "/" .. exe))
            assert.equals(0, rc, exe .. ": " .. out .. err)
            assert.is_truthy(out:find("error: .*/nonexistent.gguf"), out)
            if model then
                out = helper.run("LD_LIBRARY_PATH=" .. q(prefix .. "/lib") .. " " .. q(dir .. "/" .. exe) .. " " .. q(model))
                assert.equals("loaded llama\n", out)
            end
        end
        local ldd = helper.run("LD_LIBRARY_PATH=" .. q(prefix .. "/lib") .. " ldd " .. q(dir .. "/app") .. " 2>/dev/null")
        if ldd ~= "" then assert.is_truthy(ldd:find(prefix .. "/lib/libbitttt.so.1", 1, true), ldd) end
        helper.rmdir(dir)
    end)
end)
