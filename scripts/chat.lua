-- chat.lua - talk with a model, like llama.cpp's `llama-cli -cnv`: a banner, a prompt
-- with the REPL's line editor and history (arrow keys, Ctrl-R-less search by Up/Down),
-- answers that stream and stop at the end of the assistant's turn, Ctrl-C to stop an
-- answer, /commands. The model's session is kept between turns (bitttt.chat).
-- A line ending in \ continues on the next line; empty lines are skipped. On piped
-- input there is no banner or prompt: one message per line, one answer per line.
--
--   bitttt-lua chat.lua [-m MODEL] [--template plain|llama3|chatml|bitnet] [-sys TEXT] [options]
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"
local Templates = require "bitttt.chat_templates"
local Chat = require "bitttt.chat"

local o = cli.parse(arg, {
    { "-m", "--model", key = "model", type = "string", metavar = "FILE", help = "model file", default = bt.default_model },
    { "-z", "--tokenizer", key = "tokenizer", type = "string", metavar = "FILE", help = "tokenizer file (llama2.c tokenizer.bin)" },
    { nil, "--template", key = "template", type = "string",
      help = "chat template: plain, llama3, chatml, bitnet (default: from the model's tokenizer.chat_template, else plain)" },
    { "-sys", "--system-prompt", key = "system", type = "string", metavar = "TEXT", help = "system prompt" },
    { nil, "--system", key = "system", type = "string", metavar = "TEXT", help = "the same as --system-prompt" },
    { "-n", "--n-predict", key = "n", type = "number", default = 512, help = "most tokens per answer (-1: no limit)" },
    cli.ctx_option,
    { nil, "--temp", key = "temp", type = "number", help = "temperature; 0 = greedy (default: the model's, else 0.7)" },
    { nil, "--top-k", key = "top_k", type = "number", help = "top-k cut (default: the model's, else 40)" },
    { nil, "--top-p", key = "top_p", type = "number", help = "top-p cut (default: the model's, else 0.95)" },
    { nil, "--min-p", key = "min_p", type = "number", help = "min-p cut (default: the model's, else 0.05)" },
    { nil, "--repeat-penalty", key = "repeat_penalty", type = "number", help = "repetition penalty (default: the model's, else 1.1)" },
    { nil, "--repeat-last-n", key = "repeat_last_n", type = "number", help = "tokens the penalties look back (default: the model's, else 64)" },
    { nil, "--stop", key = "stop", type = "list", metavar = "TEXT", help = "also end an answer at this text (repeatable)" },
    { nil, "--ignore-eos", key = "ignore_eos", type = "flag",
      help = "answers go on past the end of text and of the turn (until -n, a --stop text or Ctrl-C)" },
    { "-s", "--seed", key = "seed", type = "number", whole = true, min = 0, max = 2 ^ 53, help = "random seed (default: the clock)" },
    { "-t", "--threads", key = "threads", type = "number", help = "CPU threads" },
    cli.gpu_layers_option,
    { nil, "--ttt-lr", key = "ttt_lr", type = "number", metavar = "LR", help = "TTT inner base learning rate (default: the model's)" },
    { nil, "--ttt-schedule", key = "ttt_schedule", type = "string", metavar = "NAME|FILE.lua",
      help = "TTT learning-rate schedule (as generate.lua's)" },
    { "-cnv", "--conversation", key = "conversation", type = "flag", help = "accepted for llama-cli habits (chat always converses)" },
    { nil, "--verbose", key = "verbose", type = "flag", help = "per-turn token counts and speed on stderr" },
}, "usage: bitttt-lua chat.lua [-m MODEL] [--template NAME] [-sys TEXT] [options]")

if not o.model then error("no model: give -m MODEL", 0) end
if o.n < -1 or o.n % 1 ~= 0 then error(("-n needs a whole number >= -1, got %s"):format(o.n), 0) end
if o.threads then bt.set_threads(o.threads) end
local model = Model.load(o.model, { tokenizer = o.tokenizer, n_gpu_layers = cli.gpu_layers(o.n_gpu_layers), n_ctx = o.ctx })
if not model.tokenizer then error(o.model .. ": the model has no vocabulary; give its tokenizer with -z", 0) end
local template, notice = Templates.for_model(model, o.template)
if notice then io.stderr:write(notice, "\n") end
local session = model:new_session { n_ctx = o.ctx }
session:set_ttt_lr(o.ttt_lr)
if o.ttt_schedule then session:set_schedule(o.ttt_schedule) end
-- chat's own defaults where neither the command line nor the model file (general.sampling.*) says
local sampler = Sampler.new(Sampler.choose(o, Sampler.model_defaults(model.meta, o.model), { temp = 0.7, repeat_penalty = 1.1 }))
local chat = Chat.new { model = model, session = session, sampler = sampler, template = template, system = o.system,
    stops = o.stop, ignore_eos = o.ignore_eos, n_predict = o.n >= 0 and o.n or nil, clock = bt.clock }

---------------------------------------------------------------- input

local has_line, Line = pcall(require, "bitttt.line")          -- the bitttt-lua host's line editor
local has_interrupt, Interrupt = pcall(require, "bitttt.interrupt")
local terminal = has_line and Line.usable()
local editor = terminal and Line.new { history = "chat_history" }

-- One line: nil at the end of input; false after Ctrl-C on the line.
local function read_line(prompt)
    if not terminal then return io.stdin:read("*l") end
    local line, why = editor:read(prompt)
    if line then return line end
    return why == "cancelled" and false or nil
end

-- One message: lines joined while they end in a backslash. nil at the end of input,
-- "" when Ctrl-C dropped it.
local function read_message()
    local lines, prompt = {}, "> "
    while true do
        local line = read_line(prompt)
        if line == false then return "" end
        if not line then return #lines > 0 and table.concat(lines, "\n") or nil end
        local continued = line:match("^(.*)\\$")
        lines[#lines + 1] = continued or line
        if not continued then return table.concat(lines, "\n") end
        prompt = ". "
    end
end

---------------------------------------------------------------- commands

local say = terminal and function(...) io.stdout:write(...) io.stdout:flush() end
    or function(...) io.stderr:write(...) end   -- piped: stdout holds only the answers

local commands_help = [[
commands:
  /help         this text
  /reset        start a new conversation (the system prompt stays)
  /save FILE    write the conversation to FILE (a text transcript)
  /load FILE    continue the conversation in FILE (fed again to the model)
  /exit         leave (also /quit, Ctrl-D)
input: Enter sends; a line ending in \ goes on on the next line; Up/Down recall earlier lines.
Ctrl-C stops an answer (or clears the line you are typing).
]]

-- Runs a /command; returns "exit" to leave.
local function command(line)
    local name, rest = line:match("^/(%S*)%s*(.-)%s*$")
    if name == "help" or name == "?" then
        say(commands_help)
    elseif name == "reset" then
        chat:reset()
        say("(a new conversation)\n")
    elseif name == "save" or name == "load" then
        if rest == "" then say(("/%s needs a file name\n"):format(name)) return end
        local n, err = chat[name](chat, rest)
        if n then say(("(%s %d messages %s %s)\n"):format(name == "save" and "saved" or "loaded", n,
            name == "save" and "to" or "from", rest))
        else say(("/%s: %s\n"):format(name, err)) end
    elseif name == "exit" or name == "quit" then
        return "exit"
    else
        say(("unknown command /%s (/help lists them)\n"):format(name))
    end
end

---------------------------------------------------------------- the conversation

if terminal then
    local used, n_ctx = chat:used()
    say(("chat: %s (%s, %d layers), template %s, context %s%s\n"):format(o.model, model.arch,
        #model.w.layers, template.name, n_ctx == math.huge and "unlimited" or n_ctx .. " tokens", o.system and (", " .. used .. " used by the system prompt") or ""))
    say(" - Enter sends a message; end a line with \\ to go on on the next line.\n")
    say(" - Ctrl-C stops an answer; /help lists the commands; /exit or Ctrl-D leaves.\n\n")
end

local function write_answer(s) io.stdout:write(s) io.stdout:flush() end

while true do
    local message = read_message()
    if not message then break end
    if message:match("^/") then
        if command(message) == "exit" then break end
    elseif message:match("%S") then
        if has_interrupt then Interrupt.trap() end
        local answer, r = chat:say(message, write_answer)
        if has_interrupt then Interrupt.release() end
        if not answer and not terminal then   -- piped input: a message that cannot be answered is an error
            cli.fail(r)
        elseif not answer then
            say("chat: ", r, "\n")
        else
            io.stdout:write("\n")
            if r.stopped == "interrupted" then say("(stopped)\n") end
            if terminal then io.stdout:write("\n") end
            io.stdout:flush()
            if o.verbose then
                io.stderr:write(("turn: fed %d tokens, generated %d (%s), context %d/%s, %.1f tok/s\n"):format(
                    r.n_prompt, r.n_generated, r.stopped, session.pos, session:context_text(),
                    r.t_generate > 0 and r.n_generated / r.t_generate or 0))
            end
            if r.stopped == "context" then say("chat: the context is full; /reset starts a new conversation\n") end
        end
    end
end
