-- system.core for busted under wine (scripts/test-windows.sh), in LuaJIT's FFI: lua-system's
-- C module is not built for Windows here (its Debian source is not on this machine's
-- mirror). busted asks only gettime, monotime and sleep.
local ffi = require "ffi"
ffi.cdef [[
void GetSystemTimeAsFileTime(uint64_t *filetime);
int QueryPerformanceCounter(int64_t *count);
int QueryPerformanceFrequency(int64_t *frequency);
void Sleep(uint32_t milliseconds);
]]

local M = {}

--- Seconds since 1970 (FILETIME counts 100 ns from 1601).
function M.gettime()
    local t = ffi.new("uint64_t[1]")
    ffi.C.GetSystemTimeAsFileTime(t)
    return tonumber(t[0]) / 1e7 - 11644473600
end

--- Seconds from a fixed point, never going back.
function M.monotime()
    local count, frequency = ffi.new("int64_t[1]"), ffi.new("int64_t[1]")
    ffi.C.QueryPerformanceCounter(count)
    ffi.C.QueryPerformanceFrequency(frequency)
    return tonumber(count[0]) / tonumber(frequency[0])
end

function M.sleep(seconds)
    ffi.C.Sleep(math.floor(seconds * 1000 + 0.5))
end

return M
