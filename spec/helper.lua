-- spec/helper.lua - shared by the busted specs: project paths, the reference
-- data folder, and running the host as a subprocess.
local M = {}

M.root = os.getenv("BITTTT_ROOT") or "."
-- The built host to run in subprocess specs (bin/asan/bitttt-lua in the sanitizer pass).
M.host = os.getenv("BITTTT_HOST") or (M.root .. "/bin/bitttt-lua")
-- The reference fixtures copied into the repository (spec/data/README.md gives their origins).
M.data = os.getenv("BITTTT_DATA") or (M.root .. "/spec/data")

local function exists(path)
    local f = io.open(path, "rb")
    if f then f:close() return true end
    return false
end
M.exists = exists

--- The path of a reference file, or nil when the data folder is absent.
function M.data_file(rel)
    local p = M.data .. "/" .. rel
    return exists(p) and p or nil
end

--- Fails the current test when the fixture `rel` is missing (the fixtures are in the
-- repository, so a missing one is a broken checkout, not a reason to skip); returns false
-- otherwise. Kept in the form `if helper.skip_without(pending, rel) then return end`.
function M.skip_without(_, rel)
    if M.data_file(rel) then return false end
    error("test data missing: " .. M.data .. "/" .. rel, 2)
end

--- The whole contents of a file (binary).
function M.read_file(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("*a")
    f:close()
    return s
end

--- Writes bytes to a file, replacing it.
function M.write_file(path, bytes)
    local f = assert(io.open(path, "wb"))
    f:write(bytes)
    f:close()
end

local function shell_quote(s)
    return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.quote = shell_quote

--- Runs a shell command; returns stdout, stderr, exit code.
function M.run(cmd)
    local err_file = os.tmpname()
    local p = io.popen("(" .. cmd .. ") 2>" .. err_file .. "; echo \"__rc=$?\"")
    local out = p:read("*a")
    p:close()
    local f = io.open(err_file, "rb")
    local err = f and f:read("*a") or ""
    if f then f:close() end
    os.remove(err_file)
    local rc = tonumber(out:match("__rc=(%d+)\n?$"))
    out = out:gsub("__rc=%d+\n?$", "")
    return out, err, rc
end

--- Runs the host with the given (unquoted) arguments.
function M.run_host(...)
    local parts = { shell_quote(M.host) }
    for _, a in ipairs({ ... }) do parts[#parts + 1] = shell_quote(a) end
    return M.run(table.concat(parts, " "))
end

-- Under Windows (the specs scripts/test-windows.sh runs under wine) the shell is cmd.exe.
local windows = package.config:sub(1, 1) == "\\"

--- A fresh temporary directory (removed by M.rmdir).
function M.tmpdir()
    if windows then   -- os.tmpname names a file in the drive's root there
        local name = ("%s\\bitttt-spec-%d-%d"):format(os.getenv("TEMP") or ".", os.time(), math.random(1e9))
        assert(os.execute('mkdir "' .. name .. '"') == 0, "cannot create " .. name)
        return name
    end
    local name = os.tmpname()
    os.remove(name)
    assert(os.execute("mkdir -p " .. shell_quote(name)) == 0 or true)
    return name
end

function M.rmdir(dir)
    if windows then os.execute('rmdir /s /q "' .. dir .. '"') return end
    os.execute("rm -rf " .. shell_quote(dir))
end

--- Seeds math.random from the clock (printed so a failure can be replayed).
function M.seed_random()
    local seed = tonumber(os.getenv("BITTTT_TEST_SEED")) or os.time()
    math.randomseed(seed)
    return seed
end

return M
