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
      help = "model: GGUF file, llama2.c .bin (with -z)", default = bt.default_model },
    { "-z", "--tokenizer", key = "tokenizer", type = "string", metavar = "FILE", help = "tokenizer file (llama2.c tokenizer.bin)" },
    { "-p", "--prompt", key = "prompt", type = "string", default = "", help = "prompt text" },
    { "-n", "--n-predict", key = "n", type = "number", default = 256, help = "number of new tokens" },
    { "-c", "--ctx-size", key = "ctx", type = "number", help = "context size (default: the model's)" },
    -- sampling: unless given, what the model file recommends (general.sampling.*), else llama.cpp's defaults
    { nil, "--temp", key = "temp", type = "number", help = "temperature; 0 = greedy (default: the model's, else 0.8)" },
    { nil, "--top-k", key = "top_k", type = "number", help = "top-k cut; 0 = off (default: the model's, else 40)" },
    { nil, "--top-p", key = "top_p", type = "number", help = "top-p (nucleus) cut; 1 = off (default: the model's, else 0.95)" },
    { nil, "--min-p", key = "min_p", type = "number", help = "min-p cut; 0 = off (default: the model's, else 0.05)" },
    { nil, "--repeat-penalty", key = "repeat_penalty", type = "number",
      help = "repetition penalty; 1 = off (default: the model's, else 1)" },
    { nil, "--repeat-last-n", key = "repeat_last_n", type = "number",
      help = "tokens the penalties look back (default: the model's, else 64)" },
    { nil, "--frequency-penalty", key = "frequency_penalty", type = "number", help = "frequency penalty (default: the model's, else 0)" },
    { nil, "--presence-penalty", key = "presence_penalty", type = "number", help = "presence penalty (default: the model's, else 0)" },
    { nil, "--stop", key = "stop", type = "list", metavar = "TEXT", help = "stop when this text appears (repeatable)" },
    { nil, "--seed", key = "seed", type = "number", help = "random seed (default: the clock)" },
    { "-t", "--threads", key = "threads", type = "number", help = "CPU threads (default: BITTTT_THREADS or all cores)" },
    { "-b", "--batch-size", key = "batch", type = "number", default = 64, help = "prompt tokens per forward chunk" },
    cli.gpu_layers_option,
    cli.head_option,
    { nil, "--ttt-lr", key = "ttt_lr", type = "number", metavar = "LR", help = "TTT inner base learning rate (default: the model's)" },
    { nil, "--ttt-schedule", key = "ttt_schedule", type = "string", metavar = "NAME|FILE.lua",
      help = "TTT learning-rate schedule: constant[:M], warmup:N, cosine:N[,MIN], inv_sqrt:N, piecewise:P=M,..., FILE.lua" },
    { nil, "--verbose", key = "verbose", type = "flag", help = "print model and memory details to stderr" },
}
local usage = "usage: bitttt-lua generate.lua -m MODEL [-z TOKENIZER] [-p PROMPT] [-n N] [options]"

local function main(argv)
    local o = cli.parse(argv, spec, usage)
    if not o.model then error("no model: give -m MODEL (see --help)", 0) end
    if o.n < 0 then error("-n must be >= 0", 0) end
    if o.threads then bt.set_threads(o.threads) end
    local n_gpu_layers = cli.gpu_layers(o.n_gpu_layers)
    local clock = bt.clock

    local t_load = clock()
    local model = Model.load(o.model, { tokenizer = o.tokenizer, max_batch = o.batch, n_gpu_layers = n_gpu_layers,
        n_ctx = o.ctx, head = o.head })
    if not model.tokenizer then error(o.model .. ": the model has no vocabulary; give its tokenizer with -z", 0) end
    local recommended = Sampler.model_defaults(model.meta, o.model)
    local sampler = Sampler.new(Sampler.choose(o, recommended))
    local session = model:new_session { n_ctx = o.ctx }
    session:set_ttt_lr(o.ttt_lr)
    if o.ttt_schedule then session:set_schedule(o.ttt_schedule) end
    t_load = clock() - t_load

    local tok = model.tokenizer
    local ids = tok:encode(o.prompt, { bos = tok:add_bos() })
    if #ids == 0 then ids = { tok:bos() } end
    if #ids >= session.n_ctx then
        error(("prompt has %d tokens, the context holds %d (use -c)"):format(#ids, session.n_ctx), 0)
    end
    if o.verbose then
        io.stderr:write(("model: %s (%s), %d layers, d=%d, vocab %d, context %d\n"):format(
            o.model, model.arch, #model.w.layers, model.cfg.n_embd, model.cfg.n_vocab, session.n_ctx))
        io.stderr:write(("state: %d bytes (KV cache / TTT state at context %d)\n"):format(
            model:state_bytes(session.n_ctx), session.n_ctx))
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

    local stop_at = { [tok:eos()] = true }
    if model.stop_at_bos then stop_at[tok:bos()] = true end
    io.stdout:write(o.prompt)
    io.stdout:flush()
    local r = Generation.run {
        session = session, tokenizer = tok, prompt_ids = ids, n_predict = o.n,
        sampler = sampler,
        stop_at = stop_at, stops = o.stop, strip_leading_space = o.prompt == "",
        on_text = function(s) io.stdout:write(s) io.stdout:flush() end,
        clock = clock,
    }
    io.stdout:write("\n")
    if r.stopped == "context" then
        io.stderr:write(("generate: context full (%d tokens); stopping\n"):format(session.n_ctx))
    end
    local function rate(n, t) return (n > 0 and t > 0) and n / t or 0 end
    io.stderr:write(("timings: prompt %d tok %.2f tok/s, generate %d tok %.2f tok/s, load %.3f s, rss %d MiB\n"):format(
        r.n_prompt, rate(r.n_prompt, r.t_prompt), r.n_generated, rate(r.n_generated, r.t_generate),
        t_load, math.floor(bt.peak_rss() / 1048576 + 0.5)))
end

main(arg)
