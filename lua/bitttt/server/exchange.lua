-- exchange.lua - one HTTP request and its answer over a lua-http stream: the
-- method, path and headers, the body (bounded), JSON answers, OpenAI error
-- objects and server-sent events. lua-http parses HTTP; this only shapes it.
local cjson = require "cjson"
local http_headers = require "http.headers"
local Errors = require "bitttt.server.errors"

local Exchange = {}
Exchange.__index = Exchange

local write_timeout = 30   -- seconds a client may take to read what was sent

function Exchange.new(stream, limits)
    local headers = assert(stream:get_headers(limits.read_timeout))
    local path = headers:get(":path") or "/"
    return setmetatable({ stream = stream, headers = headers, method = headers:get(":method"),
                          path = path:gsub("%?.*$", ""), limits = limits, status = nil }, Exchange)
end

function Exchange:header(name) return self.headers:get(name) end

--- The body as a string; over the size limit is a 413.
function Exchange:body()
    local limit = self.limits.max_body
    local declared = tonumber(self:header("content-length") or "")
    if declared and declared > limit then Errors.raise(413, ("the body is over the limit of %d bytes"):format(limit)) end
    local body = self.stream:get_body_chars(limit + 1, self.limits.read_timeout)
    if body and #body > limit then Errors.raise(413, ("the body is over the limit of %d bytes"):format(limit)) end
    return body or ""
end

--- The body parsed as a JSON object (malformed JSON or not an object: 400).
function Exchange:json()
    local ok, v = pcall(cjson.decode, self:body())
    if not ok then Errors.raise(400, "the body is not valid JSON: " .. tostring(v):gsub("^.-: ", "")) end
    if type(v) ~= "table" then Errors.raise(400, "the body must be a JSON object") end
    return v
end

local function new_headers(status, content_type)
    local h = http_headers.new()
    h:append(":status", tostring(status))
    h:append("content-type", content_type)
    return h
end

--- Whether the client closed its connection. Once a request is read, lua-http waits
-- on the connection for the next one and marks the socket at its end (HTTP/1; an
-- HTTP/2 connection carries many requests: never "gone" here).
function Exchange:client_gone()
    local connection = self.stream.connection
    local socket = connection and connection.version ~= 2 and connection.socket
    return socket and socket:eof("r") or false
end

--- Answers with a whole body; false when the client is gone.
function Exchange:respond(status, content_type, text, extra_headers)
    self.status = status
    local h = new_headers(status, content_type)
    for k, v in pairs(extra_headers or {}) do h:append(k, v) end
    if not self.stream:write_headers(h, false, write_timeout) then return false end
    return self.stream:write_chunk(text, true, write_timeout) ~= nil
end

function Exchange:respond_json(status, value)
    return self:respond(status, "application/json", cjson.encode(value))
end

function Exchange:respond_error(e)
    return self:respond_json(e.status, Errors.body(e))
end

--- Starts a server-sent event stream; false when the client is gone.
function Exchange:start_events()
    self.status = 200
    local h = new_headers(200, "text/event-stream")
    h:append("cache-control", "no-cache")
    return self.stream:write_headers(h, false, write_timeout) ~= nil
end

--- Sends one event (a table, as JSON); false when the client is gone.
function Exchange:event(value)
    return self.stream:write_chunk("data: " .. cjson.encode(value) .. "\n\n", false, write_timeout) ~= nil
end

--- Ends the event stream with OpenAI's "data: [DONE]".
function Exchange:end_events()
    return self.stream:write_chunk("data: [DONE]\n\n", true, write_timeout) ~= nil
end

return Exchange
