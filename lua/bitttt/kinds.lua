-- kinds.lua - the values the ops take for each kind of choice (base/kinds.h, as
-- bitttt.core lists them), and a check graphs run when they are built: an unknown
-- activation or RoPE style is an error naming the setting, never a default.
local core = require "bitttt.core"

local Kinds = { activations = core.activations, rope_styles = core.rope_styles }

--- value when it is one of names; otherwise an error "WHAT is 'VALUE'; expected A, B or C".
function Kinds.check(what, value, names)
    for _, name in ipairs(names) do
        if value == name then return value end
    end
    local expected = #names > 1 and table.concat(names, ", ", 1, #names - 1) .. " or " .. names[#names] or names[1]
    error(("%s is '%s'; expected %s"):format(what, tostring(value), expected), 0)
end

return Kinds
