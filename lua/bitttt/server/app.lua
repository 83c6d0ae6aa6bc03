-- app.lua - the server: the model and its slots, the routes, and the event loop
-- (lua-http over cqueues: one thread; the slot scheduler is one more coroutine
-- that decodes a token per busy slot per round and then lets I/O run).
local cqueues = require "cqueues"
local condition = require "cqueues.condition"
local http_server = require "http.server"
local Sampler = require "bitttt.sampling"
local Templates = require "bitttt.chat_templates"
local Errors = require "bitttt.server.errors"
local Slots = require "bitttt.server.slots"
local Memories = require "bitttt.server.memories"
local Metrics = require "bitttt.server.metrics"
local Exchange = require "bitttt.server.exchange"
local Completions = require "bitttt.server.completions"
local MemoryApi = require "bitttt.server.memory_api"
local Misc = require "bitttt.server.misc"

local App = {}
App.__index = App

--- o: model (loaded), model_path, alias, n_slots, n_ctx, queue_max, timeout, memory_dir,
-- api_key, template (name or nil), max_body, clock.
function App.new(o)
    local model = o.model
    local tok = model.tokenizer or error(o.model_path .. ": the model has no vocabulary", 0)
    local self = setmetatable({ model = model, tokenizer = tok, n_vocab = model.cfg.n_vocab, clock = o.clock,
                                timeout = o.timeout, api_key = o.api_key }, App)
    self.model_id = o.alias or o.model_path:match("([^/]+)$")
    self.model_names = { [self.model_id] = true, [o.model_path] = true }
    self.recommended = Sampler.model_defaults(model.meta, o.model_path)
    self.pool = Slots.new { model = model, n_slots = o.n_slots, n_ctx = o.n_ctx, queue_max = o.queue_max, clock = o.clock }
    self.n_ctx = self.pool.slots[1].session.n_ctx
    self.stop_at = { [tok:eos()] = true }
    if model.stop_at_bos then self.stop_at[tok:bos()] = true end
    local template, notice = Templates.for_model(model, o.template)   -- checks the name and the vocabulary
    Templates.stop_rules(tok, template)
    if notice then io.stderr:write("serve: ", notice:gsub("^chat: ", ""), "\n") end
    self.template_name = template.name
    self.memories = Memories.new(o.memory_dir, cqueues.sleep)
    self.metrics = Metrics.new(o.clock)
    self.limits = { max_body = o.max_body, read_timeout = 30 }
    return self
end

-- Routes: method + exact path, or a pattern whose capture is passed on.
local routes = {
    { "GET", "/", Misc.page }, { "GET", "/health", Misc.health }, { "GET", "/v1/health", Misc.health },
    { "GET", "/v1/models", Misc.models }, { "GET", "/metrics", Misc.metrics },
    { "POST", "/v1/completions", Completions.text }, { "POST", "/completions", Completions.text },
    { "POST", "/v1/chat/completions", Completions.chat }, { "POST", "/chat/completions", Completions.chat },
    { "POST", "/tokenize", Misc.tokenize }, { "POST", "/detokenize", Misc.detokenize },
    { "*", "^/v1/memories/([^/]*)$", MemoryApi.handle, pattern = true },
}
local open_paths = { ["/"] = true, ["/health"] = true, ["/v1/health"] = true }

local function route(ex)
    local wrong_method
    for _, r in ipairs(routes) do
        if r.pattern then
            local capture = ex.path:match(r[2])
            if capture then
                ex.endpoint = "/v1/memories"
                return r[3], capture
            end
        elseif r[2] == ex.path then
            ex.endpoint = ex.path
            if r[1] == ex.method then return r[3] end
            wrong_method = true
        end
    end
    if wrong_method then Errors.raise(405, ("%s is not allowed on %s"):format(ex.method, ex.path)) end
    Errors.raise(404, ("no endpoint %s %s"):format(ex.method, ex.path), nil, "unknown_endpoint")
end

local function check_key(self, ex)
    if not self.api_key or open_paths[ex.path] then return end
    local auth = ex:header("authorization") or ""
    if auth ~= "Bearer " .. self.api_key then
        Errors.raise(401, "invalid API key: send 'Authorization: Bearer KEY'", nil, "invalid_api_key")
    end
end

--- Answers one request; errors become OpenAI error objects (Lua errors: 500, logged).
function App:handle(stream)
    local ok_ex, ex = pcall(Exchange.new, stream, self.limits)
    if not ok_ex then return end   -- no request could be read (the connection closed)
    local ok, err = pcall(function()
        check_key(self, ex)
        local handler, capture = route(ex)
        handler(self, ex, capture)
    end)
    if not ok then
        if not Errors.is(err) then
            io.stderr:write("serve: ", ex.method or "?", " ", ex.path or "?", ": ", tostring(err), "\n")
            err = Errors.new(500, "internal error: " .. tostring(err))
        end
        if not ex.status then ex:respond_error(err) end
    end
    self.metrics:request(ex.endpoint or "other", ex.status or 500)   -- known endpoints only: bounded labels
end

--- Listens and serves until the process ends; on_ready(port) once listening.
function App:serve(host, port, on_ready)
    local server = assert(http_server.listen {
        host = host, port = port, reuseaddr = true,
        onstream = function(_, stream) self:handle(stream) end,
        onerror = function(_, context, op, err)
            io.stderr:write(("serve: %s %s: %s\n"):format(tostring(context), tostring(op), tostring(err)))
        end,
    })
    assert(server:listen())
    local _, _, bound = server:localname()
    local work = condition.new()
    self.pool.on_submit = function() work:signal() end
    server.cq:wrap(function()
        self.pool:loop(function() work:wait(1) end, function() cqueues.sleep(0) end)
    end)
    if on_ready then on_ready(bound) end
    assert(server:loop())
end

return App
