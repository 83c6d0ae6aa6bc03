-- stats.lua - the small statistics the benchmarks and the perplexity scripts report.
local Stats = {}

--- The median of an array of numbers (the array is not changed).
function Stats.median(xs)
    local s = {}
    for i, v in ipairs(xs) do s[i] = v end
    table.sort(s)
    local n = #s
    return n % 2 == 1 and s[(n + 1) / 2] or (s[n / 2] + s[n / 2 + 1]) / 2
end

--- -log softmax(row)[target] in double precision; row: a logits tensor [n_vocab],
-- target: a 0-based vocabulary id.
function Stats.nll(row, target)
    local n = row:shape()[1]
    local v = row.ptr and row:ptr() or row:totable()
    local base = row.ptr and 0 or 1
    local max = -math.huge
    for j = base, base + n - 1 do if v[j] > max then max = v[j] end end
    local sum = 0
    for j = base, base + n - 1 do sum = sum + math.exp(v[j] - max) end
    return max + math.log(sum) - v[base + target]
end

return Stats
