-- generate.lua - text generation from the command line.
--
--   bitttt-lua generate.lua -m MODEL [-z TOKENIZER] [-p PROMPT] [-n N] [--temp T] [--n-gpu-layers N|auto] ...
--
-- stdout: the prompt as given, the generated text, one final newline.
-- stderr (last line): "timings: prompt N tok X tok/s, generate N tok X tok/s, load X s, rss N MiB".
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"
local Generation = require "bitttt.generation"
local Placement = require "bitttt.placement"

local spec = {
    { "-m", "--model", key = "model", type = "string", metavar = "FILE",
      help = "model: GGUF file, llama2.c .bin (with -z), safetensors file or folder", default = bt.default_model },
    cli.tokenizer_option,
    { "-p", "--prompt", key = "prompt", type = "string", help = "prompt text" },
    { "-f", "--file", key = "file", type = "string", metavar = "FILE", help = "read the prompt from FILE" },
    { "-e", "--escape", key = "escape", type = "flag", help = "read escapes in the prompt: \\n \\r \\t \\\\ \\\" \\' \\xHH" },
    { "-n", "--n-predict", key = "n", type = "number", whole = true, min = -1, default = 256,
      help = "new tokens; -1 = until the end of text or of the context" },
    cli.ctx_option,
    -- sampling: unless given, what the model file recommends (general.sampling.*), else llama.cpp's defaults
    { nil, "--temp", key = "temp", type = "number", min = 0, help = "temperature; 0 = greedy (default: the model's, else 0.8)" },
    { nil, "--top-k", key = "top_k", type = "number", whole = true, min = 0,
      help = "top-k cut; 0 = off (default: the model's, else 40)" },
    { nil, "--top-p", key = "top_p", type = "number", above = 0, max = 1,
      help = "top-p (nucleus) cut; 1 = off (default: the model's, else 0.95)" },
    { nil, "--min-p", key = "min_p", type = "number", min = 0, below = 1, help = "min-p cut; 0 = off (default: the model's, else 0.05)" },
    { nil, "--repeat-penalty", key = "repeat_penalty", type = "number", above = 0,
      help = "repetition penalty; 1 = off (default: the model's, else 1)" },
    { nil, "--repeat-last-n", key = "repeat_last_n", type = "number", whole = true, min = -1,
      help = "tokens the penalties look back; -1 = all (default: the model's, else 64)" },
    { nil, "--frequency-penalty", key = "frequency_penalty", type = "number", help = "frequency penalty (default: the model's, else 0)" },
    { nil, "--presence-penalty", key = "presence_penalty", type = "number", help = "presence penalty (default: the model's, else 0)" },
    { nil, "--stop", key = "stop", type = "list", metavar = "TEXT", help = "stop when this text appears (repeatable)" },
    { "-s", "--seed", key = "seed", type = "number", whole = true, min = -1, max = 2 ^ 53, help = "random seed; -1 = from the clock (default)" },
    { nil, "--ignore-eos", key = "ignore_eos", type = "flag", help = "never end at the end-of-text token (it is not sampled)" },
    { nil, "--no-display-prompt", key = "no_display_prompt", type = "flag", help = "print only the generated text" },
    cli.threads_option,
    cli.batch_option(64),
    cli.kv_type_option,
    cli.gpu_layers_option,
    cli.gpu_mem_option,
    cli.head_option,
    cli.ttt_lr_option,
    cli.ttt_schedule_option,
    { nil, "--verbose", key = "verbose", type = "flag", help = "model and memory details on stderr; errors with their traceback" },
}
local usage = "usage: bitttt-lua generate.lua -m MODEL [-z TOKENIZER] [-p PROMPT] [-n N] [options]"

-- The prompt text: -p or -f FILE, with -e its escapes read.
local escapes = { n = "\n", r = "\r", t = "\t", ["\\"] = "\\", ['"'] = '"', ["'"] = "'", a = "\a", b = "\b", f = "\f",
    v = "\v", ["0"] = "\0" }
local function unescape(text)
    local out, i = {}, 1
    while i <= #text do
        local c, hex = text:sub(i, i), text:match("^\\x(%x%x)", i)
        if hex then
            out[#out + 1], i = string.char(tonumber(hex, 16)), i + 4
        elseif c == "\\" and escapes[text:sub(i + 1, i + 1)] then
            out[#out + 1], i = escapes[text:sub(i + 1, i + 1)], i + 2
        else
            out[#out + 1], i = c, i + 1
        end
    end
    return table.concat(out)
end
local function prompt_text(o)
    if o.prompt and o.file then cli.usage_error("give the prompt with -p or with -f, not both") end
    local text = o.prompt or ""
    if o.file then
        local f, err = io.open(o.file, "rb")
        if not f then error(err, 0) end
        text = f:read("*a")
        f:close()
    end
    if o.escape then text = unescape(text) end
    return text
end

local function rate(n, t) return (n > 0 and t > 0) and n / t or 0 end

local function main(argv)
    local o = cli.parse(argv, spec, usage)
    if not o.model then cli.usage_error("no model: give -m MODEL (see --help)") end
    cli.prepare(o)   -- every option checked before the model loads
    local prompt = prompt_text(o)
    local n_predict = o.n == -1 and math.huge or o.n
    if o.seed == -1 then o.seed = nil end
    local clock = bt.clock

    local t_load = clock()
    local model = Model.load(o.model, { tokenizer = o.tokenizer, max_batch = o.batch, n_gpu_layers = o.gpu_layers, gpu_mem = o.gpu_mem_bytes,
        n_ctx = o.ctx, kv_type = o.kv_type, head = o.head })
    if not model.tokenizer then error(o.model .. ": the model has no vocabulary; give its tokenizer with -z", 0) end
    cli.warn_unused_ttt(model, o)
    local recommended = Sampler.model_defaults(model.meta, o.model)
    local sampler = Sampler.new(Sampler.choose(o, recommended))
    local session = model:new_session { n_ctx = o.ctx }
    session:set_ttt_lr(o.ttt_lr)
    if o.schedule then session:set_schedule(o.schedule) end
    t_load = clock() - t_load

    local tok = model.tokenizer
    -- A prompt that cannot fit is refused before it is tokenized (10 MB takes a while):
    -- no token covers more bytes than its longest piece.
    if #prompt > session.n_ctx then
        local longest = 1
        for id = 0, tok:vocab_size() - 1 do longest = math.max(longest, #tok:piece(id)) end
        if #prompt / longest >= session.n_ctx then
            error(("prompt has at least %d tokens, the context holds %d (use -c)"):format(
                math.ceil(#prompt / longest), session.n_ctx), 0)
        end
    end
    local ids = tok:encode(prompt, { bos = tok:add_bos() })
    if #ids == 0 then ids = { tok:bos() } end
    if #ids >= session.n_ctx then
        error(("prompt has %d tokens, the context holds %d (use -c)"):format(#ids, session.n_ctx), 0)
    end
    if o.verbose then
        local unlimited = session.n_ctx == math.huge
        io.stderr:write(("model: %s (%s), %d layers, d=%d, vocab %d, context %s\n"):format(
            o.model, model.arch, #model.w.layers, model.cfg.n_embd, model.cfg.n_vocab,
            session:context_text()))
        io.stderr:write(("state: %.0f bytes (KV cache of %s / TTT state at context %s; KV caches grow as used)\n"):format(
            model:state_bytes(unlimited and #ids or session.n_ctx), session.kv_type,
            unlimited and (#ids .. " (unlimited)") or session:context_text()))
        io.stderr:write(("threads: %d, simd: %s; prompt: %d tokens\n"):format(bt.get_threads(), bt.info().simd, #ids))
        for _, line in ipairs(Placement.describe(model, model.placement)) do io.stderr:write(line, "\n") end
        local from_model = {}
        for option in pairs(recommended) do
            if o[option] == nil then from_model[#from_model + 1] = option end
        end
        table.sort(from_model)
        io.stderr:write(("sampling: temp %g, top_k %d, top_p %g, min_p %g, repeat_penalty %g, repeat_last_n %d%s\n"):format(
            sampler.temp, sampler.top_k, sampler.top_p, sampler.min_p, sampler.repeat_penalty, sampler.repeat_last_n,
            #from_model > 0 and (" (from the model: " .. table.concat(from_model, ", ") .. ")") or ""))
    end

    local stop_at = {}
    if not o.ignore_eos then
        stop_at[tok:eos()] = true
        if model.stop_at_bos then stop_at[tok:bos()] = true end
    end
    -- The sampler as the token loop sees it: it counts the tokens and notes when the first came,
    -- so the timings can be printed after Ctrl-C too; with --ignore-eos the end token is masked.
    local progress = { n = 0 }
    local counting = { sample = function(_, logits, history)
        if progress.n == 0 then progress.t_first = clock() end
        progress.n = progress.n + 1
        if o.ignore_eos then
            logits = logits:clone()
            logits[tok:eos() + 1] = -math.huge
        end
        return sampler:sample(logits, history)
    end }

    local wrote_text = false   -- stdout must end with a newline before anything goes to stderr
    local function out(text)
        if text ~= "" then wrote_text = true end
        io.stdout:write(text)
        io.stdout:flush()
    end
    local has_interrupt, Interrupt = pcall(require, "bitttt.interrupt")   -- the bitttt-lua host's Ctrl-C
    if has_interrupt then Interrupt.arm() end
    if not o.no_display_prompt then out(prompt) end
    local t_start = clock()
    local ok, r = pcall(Generation.run, {
        session = session, tokenizer = tok, prompt_ids = ids, n_predict = n_predict,
        sampler = counting,
        stop_at = stop_at, stops = o.stop, strip_leading_space = prompt == "",
        on_text = out,
        clock = clock,
    })
    if wrote_text then out("\n") end
    local interrupted = not ok and tostring(r):match("interrupted$")
    if not ok and not interrupted then error(r, 0) end
    if ok and r.stopped == "context" then
        io.stderr:write(("generate: context full (%d tokens); stopping\n"):format(session.n_ctx))
    end
    if not ok then   -- Ctrl-C: what was done so far
        local t_first = progress.t_first or clock()
        r = { n_prompt = progress.t_first and #ids or 0, t_prompt = t_first - t_start, n_generated = progress.n,
            t_generate = clock() - t_first }
    end
    io.stderr:write(("timings: prompt %d tok %.2f tok/s, generate %d tok %.2f tok/s, load %.3f s, rss %d MiB\n"):format(
        r.n_prompt, rate(r.n_prompt, r.t_prompt), r.n_generated, rate(r.n_generated, r.t_generate),
        t_load, math.floor(bt.peak_rss() / 1048576 + 0.5)))
    if interrupted then cli.fail("interrupted", 130) end
end

main(arg)
