-- perplexity.lua - the perplexity of a model on a text file.
--
--   bitttt-lua perplexity.lua [-m MODEL] [-z TOKENIZER] -f TEXT [-c CTX] [-b N] [--ttt-lr LR] [--ttt-schedule S] [--from K]
--
-- The whole file is tokenized (BOS first when the vocabulary adds one) and every
-- token after the first is scored with its natural-log cross-entropy. Models with
-- an `attention` layer read the text in consecutive windows of CTX tokens (default:
-- the model's training context), each in a fresh session and overlapping the
-- previous one by one token, so that every token is scored once; models without
-- attention (TTT-only) read it as one stream, learning as they go (--ttt-lr 0
-- freezes the fast weights).
--
-- stdout: one line per position bucket (token index in the file, the first being
-- 0: 1-128, 129-512, 513-2048, 2049-8192, ...), with --from K the perplexity of
-- tokens 1..K-1 and K..end, and last `perplexity: X` (exp of the mean, 4 decimals).
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Model = require "bitttt.model"

local o = cli.parse(arg, {
    { "-m", "--model", key = "model", type = "string", metavar = "FILE", help = "model file", default = bt.default_model },
    cli.tokenizer_option,
    { "-f", "--file", key = "file", type = "string", metavar = "TEXT", help = "text file to score" },
    { "-c", "--ctx-size", key = "ctx", type = "number", whole = true, min = 2,
      help = "window of attention models (default: the model's training context)" },
    cli.batch_option(512),
    cli.threads_option,
    cli.ttt_lr_option,
    cli.ttt_schedule_option,
    { nil, "--from", key = "from", type = "number", whole = true, min = 2, metavar = "K",
      help = "also report tokens 1..K-1 and K..end apart" },
}, "usage: bitttt-lua perplexity.lua -m MODEL -f TEXT [-c CTX] [--ttt-lr LR] [--ttt-schedule S]")

if not o.model then cli.usage_error("no model: give -m MODEL") end
if not o.file then cli.usage_error("no text: give -f TEXT") end
cli.prepare(o)

local f = io.open(o.file, "rb") or error(("cannot read '%s'"):format(o.file), 0)
local text = f:read("*a")
f:close()

local model = Model.load(o.model, { tokenizer = o.tokenizer, max_batch = o.batch })
cli.warn_unused_ttt(model, o)
local tok = model.tokenizer or error(o.model .. ": the model has no vocabulary; give its tokenizer with -z", 0)
local ids = tok:encode(text, { bos = tok:add_bos() })
if #ids < 2 then error(("%s: %d token(s); at least 2 are needed"):format(o.file, #ids), 0) end
if o.from and o.from > #ids - 1 then error(("--from %d: %s has only %d scored tokens"):format(o.from, o.file, #ids - 1), 0) end

local has_attention = false
for _, layer in ipairs(model.w.layers) do
    if layer.mixer.kind == "attention" then has_attention = true end
end
local ctx = o.ctx or model.cfg.n_ctx_train

local nll = require("bitttt.stats").nll

local losses = {}   -- losses[i]: the loss of ids[i + 1] (token index i, 1-based after the first)
local function score(session, first, last)   -- feeds ids[first..last], scores ids[first+1..last]
    for a = first, last, o.batch do
        local b = math.min(a + o.batch - 1, last)
        local chunk = {}
        for i = a, b do chunk[#chunk + 1] = ids[i] end
        local rows = session:forward(chunk, "all")
        for k, row in ipairs(rows) do
            local i = a + k - 1          -- row predicts ids[i + 1]
            if i < last then losses[i] = nll(row, ids[i + 1]) end
        end
    end
end

local function new_session(n_ctx)
    local s = model:new_session { n_ctx = n_ctx }
    s:set_ttt_lr(o.ttt_lr)
    if o.schedule then s:set_schedule(o.schedule) end
    return s
end

if has_attention then
    local session = new_session(ctx)
    local first = 1
    while first < #ids do
        local last = math.min(first + ctx - 1, #ids)
        session:reset()
        score(session, first, last)
        first = last
    end
    io.stderr:write(("perplexity: %d tokens in windows of %d\n"):format(#ids, ctx))
else
    score(new_session(#ids), 1, #ids)
    io.stderr:write(("perplexity: %d tokens as one stream\n"):format(#ids))
end

local function report(label, from, to)   -- token indexes from..to (1-based after the first)
    local sum = 0
    for i = from, to do sum = sum + losses[i] end
    print(("%s: perplexity %.4f over %d tokens"):format(label, math.exp(sum / (to - from + 1)), to - from + 1))
end

local n = #ids - 1
local lo, hi = 1, 128
while lo <= n do
    report(("tokens %d-%d"):format(lo, math.min(hi, n)), lo, math.min(hi, n))
    lo, hi = hi + 1, hi * 4
end
if o.from then
    report(("tokens 1-%d"):format(o.from - 1), 1, o.from - 1)
    report(("tokens %d-%d"):format(o.from, n), o.from, n)
end
local total = 0
for i = 1, n do total = total + losses[i] end
print(("perplexity: %.4f"):format(math.exp(total / n)))
