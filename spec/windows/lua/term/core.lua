-- term.core for busted under wine (scripts/test-windows.sh), in LuaJIT's FFI: lua-term's
-- C module is not built for Windows here (its Debian source is not on this machine's
-- mirror). busted asks only isatty(io.stdout).
local ffi = require "ffi"
ffi.cdef [[
void *GetStdHandle(uint32_t which);
int GetConsoleMode(void *console, uint32_t *mode);
]]

local std_handles = { [io.stdin] = -10, [io.stdout] = -11, [io.stderr] = -12 }

local M = {}

--- Whether the file is one of the standard streams and that stream is a console.
function M.isatty(file)
    local which = std_handles[file]
    if not which then return false end
    local mode = ffi.new("uint32_t[1]")
    return ffi.C.GetConsoleMode(ffi.C.GetStdHandle(which), mode) ~= 0
end

return M
