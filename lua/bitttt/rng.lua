-- rng.lua - a small seeded random number generator that gives the same stream
-- in LuaJIT and PUC Lua 5.1 on any platform (math.random does not: it wraps the
-- C library's rand in PUC Lua). L'Ecuyer's combined linear congruential
-- generator (1988): two LCGs whose products stay below 2^53, so plain doubles
-- compute them exactly. Period about 2.3e18.
local Rng = {}
Rng.__index = Rng

local M1, A1 = 2147483563, 40014
local M2, A2 = 2147483399, 40692

--- Rng.new(seed): any integer seed (0 is fine).
function Rng.new(seed)
    seed = math.floor(math.abs(tonumber(seed) or 0))
    local self = setmetatable({
        s1 = seed % (M1 - 1) + 1,
        s2 = math.floor(seed / (M1 - 1)) % (M2 - 1) + 1,
    }, Rng)
    for _ = 1, 8 do self:next() end   -- mix small seeds
    return self
end

--- A uniform number in [0, 1).
function Rng:next()
    self.s1 = (A1 * self.s1) % M1
    self.s2 = (A2 * self.s2) % M2
    local z = self.s1 - self.s2
    if z < 1 then z = z + (M1 - 1) end
    return (z - 1) / (M1 - 1)
end

return Rng
