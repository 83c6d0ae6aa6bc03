-- misc.lua - the small endpoints: the chat page, /health, /v1/models, /metrics,
-- /tokenize and /detokenize (llama-server's shapes).
local cjson = require "cjson"
local Errors = require "bitttt.server.errors"
local Fields = require "bitttt.server.fields"

local Misc = {}

local page_path = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") .. "/chat.html"

function Misc.page(_, ex)
    local f = io.open(page_path, "rb") or error("the chat page is missing: " .. page_path)
    local html = f:read("*a")
    f:close()
    ex:respond(200, "text/html; charset=utf-8", html)
end

function Misc.health(app, ex)
    ex:respond_json(200, { status = "ok", slots_idle = #app.pool.slots - app.pool.busy,
                           slots_processing = app.pool.busy, queue = app.pool:queue_length() })
end

function Misc.models(app, ex)
    ex:respond_json(200, { object = "list", data = { {
        id = app.model_id, object = "model", created = 0, owned_by = "bitttt",
        -- no n_ctx for a model without a context limit (JSON has no infinity)
        meta = { n_ctx = app.n_ctx ~= math.huge and app.n_ctx or nil, n_vocab = app.n_vocab, arch = app.model.arch },
    } } })
end

function Misc.metrics(app, ex)
    ex:respond(200, "text/plain; version=0.0.4", app.metrics:text(app.pool))
end

-- A JSON array, also when empty (cjson writes an empty table as {}).
local function json_array(list)
    return #list == 0 and "[]" or cjson.encode(list)
end

function Misc.tokenize(app, ex)
    local body = ex:json()
    local text = Fields.string(body, "content") or Errors.raise(400, "'content' is required", "content")
    local add_special = Fields.boolean(body, "add_special") or false
    local ids = app.tokenizer:encode(text, { bos = add_special and app.tokenizer:add_bos() })
    ex:respond(200, "application/json", '{"tokens":' .. json_array(ids) .. "}")
end

function Misc.detokenize(app, ex)
    local body = ex:json()
    local ids = body.tokens
    if type(ids) ~= "table" then Errors.raise(400, "'tokens' must be an array of token ids", "tokens") end
    Fields.check_token_ids(ids, "tokens", app.n_vocab)
    ex:respond_json(200, { content = #ids > 0 and app.tokenizer:decode(ids) or "" })
end

return Misc
