-- stats.lua - the small statistics the benchmarks report.
local Stats = {}

--- The median of an array of numbers (the array is not changed).
function Stats.median(xs)
    local s = {}
    for i, v in ipairs(xs) do s[i] = v end
    table.sort(s)
    local n = #s
    return n % 2 == 1 and s[(n + 1) / 2] or (s[n / 2] + s[n / 2 + 1]) / 2
end

return Stats
