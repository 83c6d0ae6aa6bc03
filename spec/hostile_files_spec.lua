-- hostile_files_spec.lua - the hostile-input matrix (spec/hostile_cases.lua: broken
-- files of every format, special files, huge prompts, absurd options) through the
-- user-facing scripts and the C API's example program. Each case must end with a
-- non-zero status (not a signal, not the time limit), a message naming the file or
-- option and no sanitizer report (or, for a value marked accepted, status 0), within
-- 10 s and 512 MiB peak RSS (GNU time's
-- maximum resident set size of the process). Cases run 3 at a time; under the
-- sanitizer pass of scripts/test.sh the host is the ASan + UBSan build.
local helper = require "helper"
local cases_mod = require "hostile_cases"

local TIME_LIMIT_S, RSS_LIMIT_KB, PARALLEL = 10, 512 * 1024, 3

-- The C API's example in the same build as the host (bin/asan/embed_c beside bin/asan/bitttt-lua).
local embed_c = helper.host:gsub("bitttt%-lua$", "embed_c")

-- A request larger than the machine is a refusal to check, not a crash: ASan's allocator
-- returns NULL for it as malloc does (instead of aborting).
local ASAN = "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1\" "

local function command(c, out)
    local argv = {}
    for i, a in ipairs(c.args) do
        if i == 1 and a == "@embed_c" then argv[1] = helper.quote(embed_c)
        elseif i == 1 then argv[1] = helper.quote(helper.host) .. " " .. helper.quote(a)
        else argv[#argv + 1] = helper.quote(a) end
    end
    return (ASAN .. "/usr/bin/time -f '%%e %%M' -o %s timeout -s KILL %d %s <%s >%s 2>%s; echo $? >%s\n"):format(
        helper.quote(out .. ".time"), TIME_LIMIT_S, table.concat(argv, " "), helper.quote(c.stdin or "/dev/null"),
        helper.quote(out .. ".out"), helper.quote(out .. ".err"), helper.quote(out .. ".rc"))
end

-- Runs every case (PARALLEL at a time); returns { rc, seconds, rss_kb, err } per case.
local function run_all(cases, dir)
    local list = {}
    for i, c in ipairs(cases) do
        local script = ("%s/case%03d"):format(dir, i)
        helper.write_file(script .. ".sh", command(c, script))
        list[i] = script .. ".sh"
    end
    helper.write_file(dir .. "/list", table.concat(list, "\n") .. "\n")
    local _, err, rc = helper.run(("cd %s && xargs -P %d -n 1 sh <list"):format(helper.quote(dir), PARALLEL))
    assert(rc == 0, "running the cases: " .. err)
    local results = {}
    for i = 1, #cases do
        local base = ("%s/case%03d"):format(dir, i)
        local secs, rss = helper.read_file(base .. ".time"):match("([%d.]+) (%d+)%s*$")
        results[i] = { rc = tonumber(helper.read_file(base .. ".rc")), seconds = tonumber(secs), rss_kb = tonumber(rss),
                       err = helper.read_file(base .. ".err") }
    end
    return results
end

-- A file or an option named in the message: paths as substrings, options as whole words.
local function names_one(err, names)
    for _, n in ipairs(names) do
        if n:sub(1, 1) == "-" then
            if err:find("%f[%w%-]" .. n:gsub("%p", "%%%0") .. "%f[^%w%-]") then return true end
        elseif err:find(n, 1, true) then return true end
    end
    return false
end

-- What is wrong with one result, or nil when the case behaved.
local function problem(c, r)
    if r.err:find("ERROR: %a*Sanitizer") or r.err:find("runtime error:") then return "sanitizer report" end
    if c.accepted and r.rc == 0 and (r.seconds or math.huge) <= TIME_LIMIT_S and (r.rss_kb or math.huge) <= RSS_LIMIT_KB then
        return nil
    end
    if r.rc == 0 then return "exit status 0" end
    if r.rc > 128 and (r.seconds or 0) < TIME_LIMIT_S then return ("killed by signal %d"):format(r.rc - 128) end
    if r.rc >= 124 then return ("timed out (status %d after %s s)"):format(r.rc, tostring(r.seconds)) end
    if not r.seconds or r.seconds > TIME_LIMIT_S then return ("took %s s"):format(tostring(r.seconds)) end
    if not r.rss_kb or r.rss_kb > RSS_LIMIT_KB then return ("peak RSS %s KiB"):format(tostring(r.rss_kb)) end
    if not names_one(r.err, c.names) then return "the message names none of: " .. table.concat(c.names, ", ") end
    return nil
end

describe("hostile inputs (spec/hostile_cases.lua)", function()
    local dir = helper.tmpdir()
    local cases = cases_mod.build(dir)
    local results
    setup(function() results = run_all(cases, dir) end)
    teardown(function()
        helper.rmdir(dir)
        local secs, rss = 0, 0   -- the bounds actually reached, for the record
        for _, r in ipairs(results or {}) do
            if r.rc < 124 then secs, rss = math.max(secs, r.seconds or 0), math.max(rss, r.rss_kb or 0) end
        end
        io.stderr:write(("hostile inputs: %d cases, slowest %.2f s, largest peak RSS %d MiB (cases that finished)\n"):format(
            #cases, secs, rss / 1024))
    end)

    it("has at least 150 cases", function() assert.is_true(#cases >= 150, #cases .. " cases") end)

    for i, c in ipairs(cases) do
        it(c.name, function()
            local r = results[i]
            local why = problem(c, r)
            assert.is_nil(why, ("%s\n  command: %s\n  stderr: %s"):format(tostring(why), table.concat(c.args, " "):sub(1, 300), r.err:sub(1, 600)))
        end)
    end
end)
