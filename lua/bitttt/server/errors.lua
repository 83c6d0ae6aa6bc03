-- errors.lua - OpenAI-style error objects. Request handlers raise them with
-- Errors.raise(status, message, param); the HTTP layer catches them and answers
--   { "error": { "message": ..., "type": ..., "param": ..., "code": ... } }
-- with the status. Any other Lua error becomes a 500 and the server keeps serving.
local Errors = {}

local types = {
    [400] = "invalid_request_error", [401] = "authentication_error", [404] = "not_found_error",
    [405] = "invalid_request_error", [409] = "invalid_request_error", [413] = "invalid_request_error",
    [503] = "server_unavailable", [500] = "server_error",
}

local mt = { __tostring = function(e) return ("%d %s"):format(e.status, e.message) end }

--- An error object (a table) for status with a message; param names the request field at fault.
function Errors.new(status, message, param, code)
    return setmetatable({ status = status, message = message, param = param, code = code }, mt)
end

function Errors.raise(status, message, param, code)
    error(Errors.new(status, message, param, code), 0)
end

function Errors.is(e) return getmetatable(e) == mt end

--- The JSON-ready body of an error object.
function Errors.body(e)
    return { error = { message = e.message, type = types[e.status] or "invalid_request_error",
                       param = e.param, code = e.code } }
end

return Errors
