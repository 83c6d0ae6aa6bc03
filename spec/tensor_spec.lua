-- tensor_spec.lua - tensors through the Lua binding: creation, views, strides,
-- dtype conversion, element access, errors for bad arguments, memory handling.
local bt = require "bitttt"
local helper = require "helper"

describe("tensor", function()
    it("builds from nested tables and reports shape, dtype, device", function()
        local t = bt.tensor({ { 1, 2, 3 }, { 4, 5, 6 } })
        assert.are.same({ 2, 3 }, t:shape())
        assert.equals("f32", t:dtype())
        assert.equals("cpu", t:device())
        assert.equals(6, t:numel())
        assert.equals(2, #t)
        assert.are.same({ { 1, 2, 3 }, { 4, 5, 6 } }, t:totable())
        assert.equals(6, t[{ 2, 3 }])
        assert.equals(4, t[2][1])
    end)

    it("prints shape, dtype and values", function()
        local s = tostring(bt.tensor({ { 1, 2 }, { 3, 4 } }))
        assert.truthy(s:find("tensor f32 [2, 2] cpu", 1, true))
        assert.truthy(s:find("[[1, 2],", 1, true))
        assert.truthy(s:find("[3, 4]]", 1, true))
    end)

    it("prints an excerpt of large tensors", function()
        local s = tostring(bt.zeros({ 3, 1000 }))
        assert.truthy(s:find("...", 1, true))
        assert.is_true(#s < 400)
    end)

    it("writes single elements and rows", function()
        local t = bt.zeros({ 3, 4 }, "i32")
        t[{ 1, 2 }] = 7
        t[3] = 5                      -- fills row 3
        t:set(2, 4, -9)
        assert.are.same({ { 0, 7, 0, 0 }, { 0, 0, 0, -9 }, { 5, 5, 5, 5 } }, t:totable())
    end)

    it("makes views that share storage: narrow, select, transpose, reshape", function()
        local t = bt.zeros({ 4, 5 })
        for i = 1, 4 do for j = 1, 5 do t[{ i, j }] = 10 * i + j end end
        local n = t:narrow(2, 2, 3)             -- columns 2..4
        assert.are.same({ 4, 3 }, n:shape())
        assert.are.same({ 5, 1 }, n:stride())
        assert.is_false(n:is_contiguous())
        assert.equals(33, n[{ 3, 2 }])
        n[{ 1, 1 }] = -1
        assert.equals(-1, t[{ 1, 2 }])           -- shared storage
        local tr = t:transpose(1, 2)
        assert.are.same({ 5, 4 }, tr:shape())
        assert.are.same({ 1, 5 }, tr:stride())
        assert.equals(t[{ 3, 5 }], tr[{ 5, 3 }])
        local row = t:select(1, 2)
        assert.are.same({ 5 }, row:shape())
        assert.equals(25, row[5])
        local r = t:reshape(2, -1)
        assert.are.same({ 2, 10 }, r:shape())
        assert.equals(t[{ 3, 1 }], r[{ 2, 1 }])
        -- a strided view copies into a contiguous clone with the same values
        local c = tr:clone()
        assert.is_true(c:is_contiguous())
        assert.are.same(tr:totable(), c:totable())
    end)

    it("round-trips f16 and bf16 within their precision, and converts to ints", function()
        helper.seed_random()
        local n = 257
        local x = bt.zeros({ n })
        for i = 1, n do x[i] = (math.random() - 0.5) * 10 ^ math.random(-3, 4) end
        for _, spec in ipairs({ { "f16", 2 ^ -11 }, { "bf16", 2 ^ -8 } }) do
            local y = x:to(spec[1]):to("f32")
            assert.equals(spec[1], x:to(spec[1]):dtype())
            for i = 1, n do
                local a, b = x[i], y[i]
                assert.is_true(math.abs(a - b) <= math.abs(a) * spec[2] + 1e-7,
                    ("%s: %g became %g"):format(spec[1], a, b))
            end
            -- converting the rounded values again changes nothing
            assert.are.same(y:totable(), y:to(spec[1]):to("f32"):totable())
        end
        local special = bt.tensor({ 65504, 1 / 0, -1 / 0, 1e-6, 70000 }):to("f16"):to("f32"):totable()
        assert.equals(65504, special[1])
        assert.equals(1 / 0, special[2])
        assert.equals(-1 / 0, special[3])
        assert.is_true(math.abs(special[4] - 1e-6) < 2 ^ -25)   -- a subnormal half (step 2^-24)
        assert.equals(1 / 0, special[5])
        assert.are.same({ 2, -3, 127, -128 }, bt.tensor({ 2.4, -2.6, 300, -300 }):to("i8"):totable())
    end)

    it("fills and copies between dtypes", function()
        local a = bt.full({ 2, 3 }, 1.5)
        local b = bt.zeros({ 2, 3 }, "f64")
        b:copy(a)
        assert.are.same({ { 1.5, 1.5, 1.5 }, { 1.5, 1.5, 1.5 } }, b:totable())
    end)

    it("raises clear errors for bad arguments", function()
        local t = bt.zeros({ 2, 3 })
        local function err(f)
            local ok, msg = pcall(f)
            assert.is_false(ok)
            return tostring(msg)
        end
        assert.truthy(err(function() return t[{ 3, 1 }] end):find("out of range"))
        assert.truthy(err(function() return t:narrow(2, 2, 5) end):find("narrow: elements 2..6 out of range 1..3 of dim 2", 1, true))
        assert.truthy(err(function() return t:reshape(4, 2) end):find("elements"))
        assert.truthy(err(function() return t:select(3, 1) end):find("dim 3 out of range"))
        assert.truthy(err(function() return bt.zeros({ 2 }, "nope") end):find("unknown dtype"))
        -- the 1-based API counts from 1 in its messages too; shape errors name the function
        local v = bt.tensor({ 1, 2, 3 })
        assert.truthy(err(function() return v[5] end):find("index 5 out of range 1..3 for dim 1", 1, true))
        assert.truthy(err(function() return v[0] end):find("index 0 out of range 1..3 for dim 1", 1, true))
        assert.truthy(err(function() return t[{ 1, 4 }] end):find("index 4 out of range 1..3 for dim 2", 1, true))
        assert.truthy(err(function() t[3] = 1 end):find("index 3 out of range 1..2 for dim 1", 1, true))
        assert.truthy(err(function() return t:select(2, 4) end):find("select: index 4 out of range 1..3 for dim 2", 1, true))
        assert.truthy(err(function() local z = bt.zeros(3, 4) return z end):find("^[^\n]*tensor_spec.lua:%d+: zeros: the shape must be a table"))
        assert.truthy(err(function() return bt.empty(3) end):find("empty: the shape must be a table", 1, true))
        assert.truthy(err(function() return bt.full(3, 1) end):find("full: the shape must be a table", 1, true))
        assert.truthy(err(function() return bt.zeros({ -1 }) end):find("invalid size"))
        assert.truthy(err(function() return bt.tensor({ { 1, 2 }, { 3 } }) end):find("ragged"))
        assert.truthy(err(function() return bt.zeros({ 2 }):copy(bt.zeros({ 3 })) end):find("does not match"))
        assert.truthy(err(function() return bt.zeros({ 2 }, "f32", "cuda:7") end):find("cuda:7"))
        assert.truthy(err(function() return t:to("gpu9") end):find("unknown device"))
        local f = bt.zeros({ 2 })
        f:free()
        f:free()   -- idempotent
        assert.truthy(err(function() return f:shape() end):find("freed"))
        assert.equals("tensor (freed)", tostring(f))
    end)

    it("exposes an FFI pointer to CPU data under LuaJIT", function()
        local ok, ffi = pcall(require, "ffi")
        if not ok then pending("not LuaJIT") return end
        local t = bt.tensor({ 1.5, 2.5, 3.5 })
        local p = t:ptr()
        assert.equals("cdata", type(p))
        assert.equals(2.5, p[1])
        p[2] = 9
        assert.equals(9, t[3])
        assert.truthy(tostring(ffi.typeof(bt.zeros({ 2 }, "i32"):ptr())):find("int"))
    end)

    it("counts C allocations and releases them on free and collection", function()
        collectgarbage("collect")
        collectgarbage("collect")
        local before = bt.bytes_allocated()
        local t = bt.zeros({ 1024, 1024 })
        assert.equals(before + 4 * 1024 * 1024, bt.bytes_allocated())
        t:free()
        assert.equals(before, bt.bytes_allocated())
        do local _ = bt.zeros({ 256, 1024 }) end
        collectgarbage("collect")
        collectgarbage("collect")
        assert.equals(before, bt.bytes_allocated())
    end)
end)
