-- chat.lua - a multi-turn chat that keeps the model's KV cache between turns:
-- each turn feeds only the new text (the user's message and the opening of the
-- assistant's turn), generation streams and stops on the template's end-of-turn
-- token. One user message per input line; an empty line or end of input ends it.
--
--   bitttt-lua chat.lua -m MODEL [--template llama3|chatml|bitnet] [--system TEXT] [-n N] ...
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"
local Generation = require "bitttt.generation"
local Templates = require "bitttt.chat_templates"

local o = cli.parse(arg, {
    { "-m", "--model", key = "model", type = "string", metavar = "FILE", help = "model file", default = bt.default_model },
    { nil, "--template", key = "template", type = "string", help = "chat template: llama3, chatml, bitnet (default: from the model's tokenizer.chat_template)" },
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
local name = o.template or Templates.detect(model.meta["tokenizer.chat_template"])
if not name then error(o.model .. ": no chat template in the file; choose one with --template llama3|chatml|bitnet", 0) end
local template = Templates.get(name)
local session = model:new_session { n_ctx = o.ctx }
-- chat's own defaults where neither the command line nor the model file (general.sampling.*) says
local sampler = Sampler.new(Sampler.choose(o, Sampler.model_defaults(model.meta, o.model), { temp = 0.7, repeat_penalty = 1.1 }))

local end_ids = tok:encode(template.end_of_turn, { bos = false, special = true })
if #end_ids ~= 1 then error(("%s: the vocabulary has no single token for %s"):format(o.model, template.end_of_turn), 0) end
local end_of_turn = end_ids[1]

-- Token ids of template text (special names matched) and of user text (never matched).
local function special(text) return tok:encode(text, { bos = false, special = true }) end
local function plain(text) return tok:encode(text, { bos = false, special = false }) end
local function append(dst, src) for _, id in ipairs(src) do dst[#dst + 1] = id end end

local pending = {}   -- tokens not fed yet: the start of the conversation, or the last end-of-turn
if template.bos then pending[1] = tok:bos() end
if o.system then
    append(pending, special(template.system[1]))
    append(pending, plain(o.system))
    append(pending, special(template.system[2]))
end

local history = {}
for line in io.stdin:lines() do
    if line == "" then break end
    local ids = pending
    append(ids, special(template.user[1]))
    append(ids, plain(line))
    append(ids, special(template.user[2]))
    append(ids, special(template.assistant))
    if session.pos + #ids >= session.n_ctx then
        io.stderr:write("chat: the context is full; ending the conversation\n")
        break
    end
    local r = Generation.run {
        session = session, sampler = sampler, tokenizer = tok, prompt_ids = ids, n_predict = o.n,
        stop_at = { [end_of_turn] = true, [tok:eos()] = true }, history = history,
        on_text = function(s) io.stdout:write(s) io.stdout:flush() end, clock = bt.clock,
    }
    io.stdout:write("\n")
    io.stdout:flush()
    -- The last sampled token is not in the cache yet: the end of turn (sampled), or the
    -- answer's last token when it hit -n, then the end of turn. They open the next input.
    pending = r.stopped == "eos" and { end_of_turn } or { r.last_id, end_of_turn }
    if o.verbose then
        io.stderr:write(("turn: fed %d tokens, generated %d (%s), context %d/%s\n"):format(
            r.n_prompt, r.n_generated, r.stopped, session.pos, session:context_text()))
    end
    if r.stopped == "context" then break end
end
