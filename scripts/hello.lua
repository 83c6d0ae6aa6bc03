-- hello.lua - prints what this build of bitttt can do (a smoke test for the host).
local bt = require "bitttt"
local info = bt.info()
print(("bitttt %s: simd %s, %d threads, cuda %s"):format(info.version, info.simd, info.threads,
    info.cuda.compiled and (info.cuda.devices .. " device(s)") or "not compiled in"))
