-- bitttt: the Lua package over the C module bitttt.core.
--
--   local bt = require "bitttt"
--   local t = bt.tensor({{1, 2}, {3, 4}})      -- f32 [2, 2]
--   print(t, t:shape()[1], t[{2, 1}])
--
-- Works in LuaJIT and PUC Lua 5.1; under LuaJIT, t:ptr() gives an FFI pointer
-- to the tensor's CPU data for zero-copy reads (a sampler reading logits).
local core = require "bitttt.core"

local M = {}
M.core = core

-- Everything the core exports is reachable from the package as well.
for name, fn in pairs(core) do M[name] = fn end

local has_ffi, ffi = pcall(require, "ffi")
local ptr_types = {
    f32 = "float *", f64 = "double *", i8 = "int8_t *", u8 = "uint8_t *",
    i32 = "int32_t *", f16 = "uint16_t *", bf16 = "uint16_t *",
}

local methods = core.tensor_methods

--- t:ptr() -> FFI pointer of the element type (LuaJIT only; CPU tensors).
-- The pointer is valid while the tensor (or a view of its storage) lives.
function methods:ptr()
    if not has_ffi then error("ptr() needs LuaJIT's FFI", 2) end
    local ctype = ptr_types[self:dtype()] or "uint8_t *"
    return ffi.cast(ctype, self:data_ptr())
end

--- bitttt.tensor(table [, dtype]) or bitttt.tensor(shape_table_of_numbers, dtype, device) via bitttt.empty.
-- A nested table of numbers becomes a tensor of that shape (f32 unless dtype given).
function M.tensor(values, dtype)
    if type(values) ~= "table" then error("tensor(values [, dtype]): values must be a (nested) table", 2) end
    return core.from_table(values, dtype)
end

-- The shape argument of zeros/full: a table of sizes, else an error naming the function.
local function check_shape(fn, shape)
    if type(shape) ~= "table" then
        error(("%s: the shape must be a table of sizes such as {3, 4}, got %s"):format(fn, type(shape)), 3)
    end
end

--- bitttt.zeros(shape [, dtype [, device]])
function M.zeros(shape, dtype, device)
    check_shape("zeros", shape)
    return core.empty(shape, dtype, device)
end

--- bitttt.full(shape, value [, dtype [, device]])
function M.full(shape, value, dtype, device)
    check_shape("full", shape)
    if type(value) ~= "number" then error("full: the value must be a number, got " .. type(value), 2) end
    return core.empty(shape, dtype, device):fill(value)
end

M.version = core.info().version

-- The bundled default model (models/default.gguf under the project home), if present.
do
    local home = rawget(_G, "BITTTT_HOME") or os.getenv("BITTTT_HOME")
    local path = home and (home .. "/models/default.gguf")
    local f = path and io.open(path, "rb")
    if f then f:close() M.default_model = path end
end
return M
