-- fields.lua - typed reads of a request's JSON fields. Unknown fields are ignored
-- (OpenAI clients send extras); a known field of the wrong type is a 400 naming it.
-- JSON null counts as absent.
local cjson = require "cjson"
local Errors = require "bitttt.server.errors"

local Fields = {}

local function absent(v) return v == nil or v == cjson.null end

local function bad(name, want, v)
    Errors.raise(400, ("'%s' must be %s, got %s"):format(name, want, absent(v) and "null" or type(v)), name)
end

--- body[name] as a number (integer when `integer`), or nil when absent.
function Fields.number(body, name, integer)
    local v = body[name]
    if absent(v) then return nil end
    if type(v) ~= "number" or v ~= v then bad(name, "a number", v) end
    if integer and v ~= math.floor(v) then bad(name, "an integer", v) end
    return v
end

function Fields.string(body, name)
    local v = body[name]
    if absent(v) then return nil end
    if type(v) ~= "string" then bad(name, "a string", v) end
    return v
end

function Fields.boolean(body, name)
    local v = body[name]
    if absent(v) then return nil end
    if type(v) ~= "boolean" then bad(name, "a boolean", v) end
    return v
end

function Fields.object(body, name)
    local v = body[name]
    if absent(v) then return nil end
    if type(v) ~= "table" then bad(name, "an object", v) end
    return v
end

--- A string or an array of strings (as `stop`), always returned as an array (or nil).
function Fields.strings(body, name)
    local v = body[name]
    if absent(v) then return nil end
    if type(v) == "string" then return { v } end
    if type(v) ~= "table" then bad(name, "a string or an array of strings", v) end
    for i, s in ipairs(v) do
        if type(s) ~= "string" then bad(("%s[%d]"):format(name, i - 1), "a string", s) end
    end
    return v
end

--- Checks an array of token ids (`name` for the error) against a vocabulary of n_vocab.
function Fields.check_token_ids(ids, name, n_vocab)
    for i, id in ipairs(ids) do
        if type(id) ~= "number" or id ~= math.floor(id) or id < 0 or id >= n_vocab then
            Errors.raise(400, ("'%s[%d]' must be a token id in [0, %d)"):format(name, i - 1, n_vocab), name)
        end
    end
    return ids
end

return Fields
