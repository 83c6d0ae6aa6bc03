-- weights.lua - fetching named weights from a model file with shape checks,
-- and reading hyperparameters from metadata, with errors that name the file,
-- the tensor or key, what was expected and what was found.
local core = require "bitttt.core"

local W = {}

local function shape_str(s) return "[" .. table.concat(s, ", ") .. "]" end

--- A weight by name; `shape` (numpy order) is checked when given.
function W.tensor(file, name, shape)
    if not file:has_tensor(name) then
        error(("%s: missing tensor '%s'%s"):format(file:path(), name,
            shape and (" (expected shape " .. shape_str(shape) .. ")") or ""), 0)
    end
    local t = file:tensor(name)
    if shape then
        local got = t:shape()
        local ok = #got == #shape
        for i = 1, #shape do ok = ok and got[i] == shape[i] end
        if not ok then
            error(("%s: tensor '%s' has shape %s, expected %s"):format(file:path(), name,
                shape_str(got), shape_str(shape)), 0)
        end
    end
    if name:find("norm") or name:find("scale") then W.check_finite(file, name, t) end
    return t
end

--- Norm weights and scales multiply everything after them: a NaN or infinity there
-- would only show up as NaN logits, so the loader refuses them.
function W.check_finite(file, name, t)
    local dtype = t:dtype()
    if dtype ~= "f32" and dtype ~= "f16" and dtype ~= "bf16" then return end
    local values = dtype == "f32" and t:is_contiguous() and t or t:to("f32")
    local bad = core.first_non_finite(values)
    if bad then
        error(("%s: tensor '%s' holds %s at index %d; norms and scales must be finite"):format(
            file:path(), name, tostring(values:reshape(-1)[bad]), bad - 1), 0)
    end
end

--- Like W.tensor, but nil when the file has no such tensor.
function W.optional(file, name, shape)
    if not file:has_tensor(name) then return nil end
    return W.tensor(file, name, shape)
end

-- GGUF's names of a block's gated-FFN weights, under the block prefix.
W.gguf_ffn_names = { norm = "ffn_norm.weight", gate = "ffn_gate.weight", up = "ffn_up.weight", down = "ffn_down.weight" }

--- A block's gated FFN as the decoder wants it: { ffn_norm [d], ffn_gate and ffn_up [n_ff, d],
-- ffn_down [d, n_ff] }, with names under prefix p (`names` as W.gguf_ffn_names; the default).
function W.ffn(file, p, d, n_ff, names)
    names = names or W.gguf_ffn_names
    return {
        ffn_norm = W.tensor(file, p .. names.norm, { d }),
        ffn_gate = W.tensor(file, p .. names.gate, { n_ff, d }),
        ffn_up = W.tensor(file, p .. names.up, { n_ff, d }),
        ffn_down = W.tensor(file, p .. names.down, { d, n_ff }),
    }
end

--- A metadata value; `default` is used when absent (nil default: the key is required).
function W.meta(file, meta, key, default)
    local v = meta[key]
    if v == nil then
        if default ~= nil then return default end
        error(("%s: missing metadata key '%s'"):format(file:path(), key), 0)
    end
    return v
end

--- A finite number > 0 (epsilons, RoPE bases): NaN, infinities and 0 are errors naming the key.
function W.meta_positive(file, meta, key, default)
    local v = W.meta(file, meta, key, default)
    if type(v) ~= "number" or not (v > 0 and v < math.huge) then
        error(("%s: metadata key '%s' must be a finite number > 0, got %s"):format(file:path(), key, tostring(v)), 0)
    end
    return v
end

--- A positive integer metadata value.
function W.meta_int(file, meta, key, default)
    local v = W.meta(file, meta, key, default)
    if type(v) ~= "number" or v < 1 or v ~= math.floor(v) then
        error(("%s: metadata key '%s' must be a positive integer, got %s"):format(file:path(), key, tostring(v)), 0)
    end
    return v
end

return W
