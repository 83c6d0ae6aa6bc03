-- schedules.lua - learning-rate schedules for test-time training.
--
-- A schedule is a Lua function (position, layer, step) -> multiplier m >= 0 on
-- the layer's base inner learning rate:
--   position  0-based position of the token in the sequence
--   layer     1-based layer index
--   step      the inner update the token belongs to: its mini-batch index
--             (floor(position / mini_batch)) for TTT-Linear, its position for
--             `fastweight` (which steps every token)
-- m = 0 freezes learning for that token (it still reads the fast weights).
--
-- The runtime calls the schedule in Lua once per token and layer, for all the
-- tokens of a forward call at once, and hands the numbers to the C kernels, so a
-- prompt (dual form) and token-by-token decoding (primal form) see the same
-- multipliers. Schedules must be pure functions of their arguments.
--
--   local S = require "bitttt.schedules"
--   session:set_schedule(S.cosine(4096, 0.1))
--   session:set_schedule(S.per_layer(S.constant(1), { [1] = S.constant(0) }))   -- freeze layer 1
--   session:set_schedule(S.parse("warmup:64"))   -- what --ttt-schedule takes
local S = {}

--- m = value (default 1) everywhere.
function S.constant(value)
    value = value or 1
    return function() return value end
end

--- Linear warmup from `from` (default 0) to 1 over the first n positions, then 1.
function S.linear_warmup(n, from)
    from = from or 0
    assert(n and n > 0, "linear_warmup: n must be > 0")
    return function(pos)
        if pos >= n then return 1 end
        return from + (1 - from) * (pos + 1) / n
    end
end

--- Cosine decay from 1 at position 0 to `min` (default 0) at position n, then min.
function S.cosine(n, min)
    min = min or 0
    assert(n and n > 0, "cosine: n must be > 0")
    return function(pos)
        if pos >= n then return min end
        return min + (1 - min) * 0.5 * (1 + math.cos(math.pi * pos / n))
    end
end

--- Inverse square root: 1 for the first n positions, then sqrt(n / (position + 1)).
function S.inverse_sqrt(n)
    assert(n and n > 0, "inverse_sqrt: n must be > 0")
    return function(pos)
        if pos < n then return 1 end
        return math.sqrt(n / (pos + 1))
    end
end

--- Piecewise linear through points { {position, m}, ... } (positions ascending);
-- constant before the first and after the last point. step = true holds each
-- value until the next point instead of interpolating.
function S.piecewise(points, step)
    assert(type(points) == "table" and #points >= 1, "piecewise: at least one {position, multiplier} point")
    for i = 2, #points do
        assert(points[i][1] > points[i - 1][1], "piecewise: positions must be ascending")
    end
    return function(pos)
        if pos <= points[1][1] then return points[1][2] end
        for i = 2, #points do
            local p1, p0 = points[i], points[i - 1]
            if pos < p1[1] then
                if step then return p0[2] end
                return p0[2] + (p1[2] - p0[2]) * (pos - p0[1]) / (p1[1] - p0[1])
            end
        end
        return points[#points][2]
    end
end

--- Per-layer overrides: overrides[layer] (a schedule or a number) where given, else default.
function S.per_layer(default, overrides)
    local by_layer = {}
    for layer, s in pairs(overrides or {}) do
        by_layer[layer] = type(s) == "number" and S.constant(s) or s
    end
    if default == nil then default = 1 end
    default = type(default) == "number" and S.constant(default) or default
    return function(pos, layer, step)
        return (by_layer[layer] or default)(pos, layer, step)
    end
end

--- Evaluates schedule for tokens pos0 .. pos0 + m - 1 of `layer` into out[1..m]
-- (a Lua array or a tensor); step_of(position) gives the step. Checks every value.
function S.fill(out, schedule, m, pos0, layer, step_of)
    for i = 1, m do
        local pos = pos0 + i - 1
        local v = schedule(pos, layer, step_of(pos))
        if type(v) ~= "number" or v ~= v or v < 0 or v == math.huge then
            error(("schedule: position %d, layer %d gave %s; a multiplier must be a finite number >= 0"):format(
                pos, layer, tostring(v)), 0)
        end
        out[i] = v
    end
    return out
end

local function numbers(s)
    local t = {}
    for x in s:gmatch("[^,]+") do
        local n = tonumber(x)
        if not n then return nil end
        t[#t + 1] = n
    end
    return t
end

local by_name = {
    constant = function(a) return S.constant(a[1]) end,
    warmup = function(a) return S.linear_warmup(a[1], a[2]) end,
    cosine = function(a) return S.cosine(a[1], a[2]) end,
    inv_sqrt = function(a) return S.inverse_sqrt(a[1]) end,
}

local parse_help = "NAME[:ARGS]: constant[:M], warmup:N[,FROM], cosine:N[,MIN], inv_sqrt:N, "
    .. "piecewise:P=M,P=M,... (step-piecewise: steps:P=M,...), or a Lua file returning a schedule"

--- A schedule from text: "cosine:4096,0.1", "warmup:64", "inv_sqrt:128", "constant:0",
-- "piecewise:0=1,512=0.5,1024=0", "steps:0=1,256=0", or FILE.lua, a Lua file
-- that returns a schedule function or a table { default = fn|number, [layer] = fn|number }.
function S.parse(text)
    if text:match("%.lua$") then
        local chunk, err = loadfile(text)
        if not chunk then error(("--ttt-schedule: %s"):format(err), 0) end
        local v = chunk()
        if type(v) == "function" then return v end
        if type(v) == "table" then
            local overrides = {}
            for k, s in pairs(v) do if type(k) == "number" then overrides[k] = s end end
            return S.per_layer(v.default or 1, overrides)
        end
        error(("--ttt-schedule: %s must return a function or a table of per-layer schedules"):format(text), 0)
    end
    local name, args = text:match("^([%a_]+):?(.*)$")
    if name == "piecewise" or name == "steps" then
        local points = {}
        for p, m in args:gmatch("([%d.]+)=([%d.eE+-]+)") do points[#points + 1] = { tonumber(p), tonumber(m) } end
        if #points == 0 then error("--ttt-schedule: " .. parse_help, 0) end
        return S.piecewise(points, name == "steps")
    end
    local make, a = by_name[name or ""], numbers(args or "")
    if not make or not a or (name ~= "constant" and #a == 0) then
        error(("--ttt-schedule: cannot read '%s'; use %s"):format(text, parse_help), 0)
    end
    return make(a)
end

return S
