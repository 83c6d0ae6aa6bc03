-- serve.lua - an OpenAI-compatible HTTP server (llama-server's flags where they overlap):
--
--   bitttt-lua serve.lua [-m MODEL] [--host 127.0.0.1] [--port 8080] [-np N] [-c CTX] [--api-key KEY]
--
-- Endpoints: GET / (the chat page), /health, /v1/models, /metrics; POST /v1/completions,
-- /v1/chat/completions (both with "stream": true), /tokenize, /detokenize;
-- POST/GET/DELETE /v1/memories/{name} (TTT memories in --memory-dir). See docs/serving.md.
-- stderr: one line "serve: listening on http://HOST:PORT" once it accepts connections.
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Model = require "bitttt.model"
local App = require "bitttt.server.app"

collectgarbage("setpause", 110)   -- a steady heap: collect when it grew 10% (default 100%)
local o = cli.parse(arg, {
    { "-m", "--model", key = "model", type = "string", metavar = "FILE", help = "model file", default = bt.default_model },
    { "-a", "--alias", key = "alias", type = "string", help = "the model's name in the API (default: the file's name)" },
    { nil, "--host", key = "host", type = "string", default = "127.0.0.1", help = "address to listen on" },
    { nil, "--port", key = "port", type = "number", whole = true, min = 0, max = 65535, default = 8080,
      help = "port to listen on (0: any free port)" },
    { "-np", "--parallel", key = "parallel", type = "number", whole = true, min = 1, default = 1, help = "parallel slots (sessions)" },
    { nil, "--queue", key = "queue", type = "number", whole = true, min = 0, default = 64,
      help = "requests that may wait for a slot; more get 503" },
    cli.ctx_option,
    { "-to", "--timeout", key = "timeout", type = "number", above = 0, default = 600, help = "seconds a request may run" },
    { nil, "--api-key", key = "api_key", type = "string", help = "require 'Authorization: Bearer KEY'" },
    { nil, "--memory-dir", key = "memory_dir", type = "string", default = "memories",
      help = "folder of TTT memories (shared by server processes)" },
    { nil, "--chat-template", key = "template", type = "string", help = "chat template (default: the model's)" },
    { nil, "--max-body", key = "max_body", type = "number", whole = true, min = 1, default = 1048576,
      help = "largest request body in bytes" },
    cli.threads_option,
    cli.batch_option(64),
    cli.gpu_layers_option,
}, "usage: bitttt-lua serve.lua [-m MODEL] [--host H] [--port P] [-np N] [-c CTX] [--api-key KEY] [options]")

if not o.model then error("no model: give -m MODEL", 0) end
if o.threads then bt.set_threads(o.threads) end

local model = Model.load(o.model, { max_batch = o.batch, n_gpu_layers = cli.gpu_layers(o.n_gpu_layers), n_ctx = o.ctx })
local app = App.new { model = model, model_path = o.model, alias = o.alias, n_slots = o.parallel, n_ctx = o.ctx,
                      queue_max = o.queue, timeout = o.timeout, memory_dir = o.memory_dir, api_key = o.api_key,
                      template = o.template, max_body = o.max_body, clock = bt.clock }
app:serve(o.host, o.port, function(port)
    io.stderr:write(("serve: %s, %d slots, context %s each, listening on http://%s:%d\n"):format(
        app.model_id, o.parallel, app.pool.slots[1].session:context_text(), o.host, port))
    io.stderr:flush()
end)
