-- readme_examples_spec.lua - every command in README.md's ```sh blocks runs as
-- written (from the project folder) and exits 0. A command that names a user's own
-- file runs with a fixture in its place (the table `fixtures` below); an optional
-- part written [like this] is given, and a choice a|b takes its first word. A
-- command this spec does not know fails it, so a new README example needs a line
-- here; the only ones not run are listed in `exempt`, with the reason (they are not
-- counted as tests; a test checks that each exemption still names a README command).
local helper = require "helper"

local q = helper.quote
local root = helper.root

local exempt = {
    { "ggml%-model%-i2_s%.gguf", "the BitNet b1.58 2B4T download (exempt by issue 14: it cannot be fetched here)" },
    { "^%./scripts/test%.sh", "the whole test suite, which runs this spec" },
}

-- The README's commands: { line = as written, number = its line in README.md, block = block index }.
local function readme_commands()
    local commands, in_block, block, exports = {}, false, 0, {}
    local n = 0
    for line in io.lines(root .. "/README.md") do
        n = n + 1
        if line:match("^```sh") then
            in_block, block, exports = true, block + 1, {}
        elseif line:match("^```") then
            in_block = false
        elseif in_block then
            local command = line:gsub("%s%s+#.*$", ""):gsub("%s+$", "")
            if command:match("^export ") then
                exports[#exports + 1] = command
            elseif command ~= "" then
                commands[#commands + 1] = { line = command, number = n, exports = { unpack(exports) } }
            end
        end
    end
    return commands
end

describe("README.md examples", function()
    local tmp = helper.tmpdir()
    local function t(name) return tmp .. "/" .. name end
    local bpe_vocab = helper.data_file("tokenizers/ggml-vocab-llama-bpe.gguf")
    local stories, tok512 = helper.data_file("models/stories260K.bin"), helper.data_file("models/tok512.bin")

    -- A user's own files, and what stands in for them. `needs`: the data file the fixture
    -- comes from, false when it is absent (the example is then reported as skipped).
    local fixtures = {
        { "model%-f16%.gguf", t("model-f16.gguf"), needs = bpe_vocab or false },
        { "model%-tq2_0%.gguf", t("model-tq2_0.gguf") },
        { "model%.gguf", t("model.gguf"), needs = bpe_vocab or false },          -- a tiny BitNet with Llama 3's vocabulary
        { "vocab%.gguf", root .. "/models/default.gguf" },
        { "stories260K%.bin", stories, needs = stories or false },
        { "tok512%.bin", tok512, needs = tok512 or false },
        { "stories260K%.gguf", t("stories260K.gguf") },
        { "out%.gguf", t("out.gguf"), needs = bpe_vocab or false },
        { "logits%.f32", t("logits.f32") },
        { "/usr/local", t("prefix") },
        { "cc app%.c", "cc -o " .. t("app") .. " " .. t("app.c") },
        { "%$%(pkg%-config", "$(PKG_CONFIG_PATH=" .. t("prefix/lib/pkgconfig") .. " pkg-config" },
    }

    setup(function()
        if bpe_vocab then
            for _, make in ipairs {
                { t("model.gguf"), "tq2_0" }, { t("model-f16.gguf"), "f16" },
            } do
                local _, err, rc = helper.run_host("make-bitnet.lua", make[1], "--type", make[2], "--vocab", bpe_vocab)
                assert.equals(0, rc, err)
            end
        end
        helper.write_file(t("app.c"), "#include <bitttt/bitttt.h>\nint main(void) { return bt_api_version() == BT_API_VERSION ? 0 : 1; }\n")
    end)
    teardown(function() helper.rmdir(tmp) end)

    -- The command as run: fixtures in place, [optional] parts given, a|b choices resolved.
    local function as_run(line)
        local missing
        for _, f in ipairs(fixtures) do
            if line:find(f[1]) then
                if f.needs == false then missing = f[1] end
                line = line:gsub(f[1], ((f[2] or ""):gsub("%%", "%%%%")))
            end
        end
        line = line:gsub("%[([^%]]*)%]", function(inner) return inner == "MODEL" and "" or inner end)
        line = line:gsub("(%f[%w][%w_]+)|([%w_|]+)", "%1")
        return line, missing
    end

    local commands = readme_commands()
    it("has commands to run", function() assert.is_true(#commands >= 10, #commands) end)

    -- The exempt commands are not tests; each exemption must still name a README command.
    local function exemption(line)
        for _, e in ipairs(exempt) do
            if line:find(e[1]) then return e end
        end
    end
    it("exempts only commands the README has, each with its reason", function()
        for _, e in ipairs(exempt) do
            local used = false
            for _, c in ipairs(commands) do used = used or c.line:find(e[1]) ~= nil end
            assert.is_true(used, "no README command matches the exemption " .. e[1] .. " (" .. e[2] .. ")")
        end
    end)

    for _, c in ipairs(commands) do
        if not exemption(c.line) then it(("line %d: %s"):format(c.number, c.line), function()
            local line, missing = as_run(c.line)
            if missing then pending("skipped: the fixture for " .. missing .. " is not here (" .. helper.data .. ")") return end
            local input = c.line:find("chat%.lua") and "Hello\n" or ""
            helper.write_file(t("stdin"), input)
            -- A server runs until stopped: on any free port, until it says it listens, then Ctrl-C.
            local server = c.line:find("serve%.lua")
            if server then line = line .. " --port 0" end
            local script = table.concat(c.exports, "\n") .. "\n" .. line
            local limit = server and "timeout -s INT 20" or "timeout 300"
            local out, err, rc = helper.run(("cd %s && %s bash -c %s < %s"):format(q(root), limit, q(script), q(t("stdin"))))
            if server then
                assert.truthy(err:find("listening on http://127.0.0.1:", 1, true), err)
                return
            end
            assert.equals(0, rc, ("%s\nstdout: %s\nstderr: %s"):format(line, out:sub(1, 2000), err:sub(-2000)))
            if c.line:find("generate%.lua") or c.line:find("run%.sh") or c.line:find("chat%.lua") then
                assert.is_true(#out > 0, "no text on stdout: " .. line)
            end
            local prompt = c.line:match('%-p "([^"]+)"')
            if prompt and not c.line:find("logits") then assert.equals(prompt, out:sub(1, #prompt)) end
        end) end
    end
end)
