-- chat.lua - a multi-turn chat that keeps the model's KV cache between turns:
-- each turn feeds only the new text (the user's message and the opening of the
-- assistant's turn), generation streams and stops on the template's end-of-turn
-- token. One user message per input line; an empty line or end of input ends it.
--
--   bitttt-lua chat.lua -m MODEL [--template plain|llama3|chatml|bitnet] [--system TEXT] [-n N] ...
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"
local Generation = require "bitttt.generation"
local Templates = require "bitttt.chat_templates"

local o = cli.parse(arg, {
    { "-m", "--model", key = "model", type = "string", metavar = "FILE", help = "model file", default = bt.default_model },
    { nil, "--template", key = "template", type = "string", help = "chat template: plain, llama3, chatml, bitnet (default: from the model's tokenizer.chat_template, else plain)" },
    { "-s", "--system", key = "system", type = "string", help = "system prompt" },
    { "-n", "--n-predict", key = "n", type = "number", default = 512, help = "most tokens per answer" },
    { "-c", "--ctx-size", key = "ctx", type = "number", help = "context size (default: the model's)" },
    { nil, "--temp", key = "temp", type = "number", help = "temperature; 0 = greedy (default: the model's, else 0.7)" },
    { nil, "--top-k", key = "top_k", type = "number", help = "top-k cut (default: the model's, else 40)" },
    { nil, "--top-p", key = "top_p", type = "number", help = "top-p cut (default: the model's, else 0.95)" },
    { nil, "--min-p", key = "min_p", type = "number", help = "min-p cut (default: the model's, else 0.05)" },
    { nil, "--repeat-penalty", key = "repeat_penalty", type = "number", help = "repetition penalty (default: the model's, else 1.1)" },
    { nil, "--seed", key = "seed", type = "number", help = "random seed" },
    { "-t", "--threads", key = "threads", type = "number", help = "CPU threads" },
    cli.gpu_layers_option,
    { nil, "--verbose", key = "verbose", type = "flag", help = "per-turn token counts and speed on stderr" },
}, "usage: bitttt-lua chat.lua -m MODEL [--template NAME] [--system TEXT] [options]")

if not o.model then error("no model: give -m MODEL", 0) end
if o.threads then bt.set_threads(o.threads) end
local model = Model.load(o.model, { n_gpu_layers = cli.gpu_layers(o.n_gpu_layers), n_ctx = o.ctx })
local tok = model.tokenizer or error(o.model .. ": the model has no vocabulary", 0)
local template, notice = Templates.for_model(model, o.template)
if notice then io.stderr:write(notice, "\n") end
local session = model:new_session { n_ctx = o.ctx }
-- chat's own defaults where neither the command line nor the model file (general.sampling.*) says
local sampler = Sampler.new(Sampler.choose(o, Sampler.model_defaults(model.meta, o.model), { temp = 0.7, repeat_penalty = 1.1 }))
local stop_at, stops = Templates.stop_rules(tok, template)
local end_of_turn = Templates.end_token(tok, template)

local function append(dst, src) for _, id in ipairs(src) do dst[#dst + 1] = id end end
-- tokens not fed yet: the start of the conversation, or the end of the last turn
local pending = Templates.encode(tok, o.system and Templates.pieces(template,
    { { role = "system", content = o.system } }, { open = false }) or {}, Templates.wants_bos(tok, template))

local history = {}
for line in io.stdin:lines() do
    if line == "" then break end
    local ids = pending
    append(ids, Templates.encode(tok, Templates.pieces(template, { { role = "user", content = line } })))
    if session.pos + #ids >= session.n_ctx then
        io.stderr:write("chat: the context is full; ending the conversation\n")
        break
    end
    local r = Generation.run {
        session = session, sampler = sampler, tokenizer = tok, prompt_ids = ids, n_predict = o.n,
        stop_at = stop_at, stops = stops, strip_leading_space = template.end_is_text, history = history,
        on_text = function(s) io.stdout:write(s) io.stdout:flush() end, clock = bt.clock,
    }
    io.stdout:write("\n")
    io.stdout:flush()
    -- The last sampled token is not in the cache yet; with the end of turn (unless the
    -- model wrote it) it opens the next input.
    if r.stopped == "stop" then                 -- the text end of turn is in the last token
        pending = { r.last_id }
    elseif r.stopped == "eos" and r.last_id == end_of_turn then
        pending = { end_of_turn }
    else                                         -- the model's end of text, or -n: close the turn
        pending = r.stopped == "eos" and {} or { r.last_id }
        append(pending, Templates.encode(tok, { { template.end_of_turn, special = not template.end_is_text } }))
    end
    if o.verbose then
        io.stderr:write(("turn: fed %d tokens, generated %d (%s), context %d/%d\n"):format(
            r.n_prompt, r.n_generated, r.stopped, session.pos, session.n_ctx))
    end
    if r.stopped == "context" then break end
end
