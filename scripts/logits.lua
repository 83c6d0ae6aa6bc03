-- logits.lua - writes the logits of every position of a token sequence.
--
--   bitttt-lua logits.lua [-m MODEL] [-z TOKENIZER] (--ids "ID ID ..." | -p TEXT) [--prefill K] -o FILE
--                         [--ttt-lr LR] [--ttt-schedule NAME|FILE.lua] [--n-gpu-layers N|auto]
--
-- FILE: little-endian float32, shape [n_ids, n_vocab]; row p is the prediction
-- after ids[0..p]. By default the ids go in as one prompt batch; with --prefill K
-- the first K go in as a batch and the rest one at a time, as in generation
-- (for TTT layers: the dual form for the batch, the primal form after it).
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Model = require "bitttt.model"

local o = cli.parse(arg, {
    { "-m", "--model", key = "model", type = "string", metavar = "FILE", help = "model file", default = bt.default_model },
    cli.tokenizer_option,
    { nil, "--ids", key = "ids", type = "string", metavar = "\"ID ...\"", help = "token ids, space-separated" },
    { "-p", "--prompt", key = "prompt", type = "string", help = "text to tokenize instead of --ids (BOS as the vocabulary says)" },
    { nil, "--prefill", key = "prefill", type = "number", whole = true, min = 0, metavar = "K",
      help = "first K ids as a batch, then one at a time" },
    { "-o", "--output", key = "output", type = "string", metavar = "FILE", help = "output file (float32 rows)" },
    cli.ctx_option,
    cli.threads_option,
    cli.ttt_lr_option,
    cli.ttt_schedule_option,
    cli.kv_type_option,
    cli.gpu_layers_option,
    cli.gpu_mem_option,
    cli.head_option,
}, "usage: bitttt-lua logits.lua [-m MODEL] (--ids \"ID ...\" | -p TEXT) [--prefill K] -o FILE")

if not o.model then cli.usage_error("no model: give -m MODEL") end
if not o.ids and not o.prompt then cli.usage_error("no input: give --ids \"ID ID ...\" or -p TEXT") end
if o.ids and o.prompt then cli.usage_error("give --ids or -p, not both") end
if not o.output then cli.usage_error("no output file: give -o FILE") end

local ids = {}
for word in (o.ids or ""):gmatch("%S+") do
    local id = tonumber(word)
    if not id or id ~= math.floor(id) or id < 0 or id >= 2 ^ 31 then cli.usage_error(("--ids: '%s' is not a token id"):format(word)) end
    ids[#ids + 1] = id
end
if o.ids and #ids == 0 then cli.usage_error("--ids: no token ids given") end
if o.prefill and o.ids and o.prefill > #ids then
    cli.usage_error(("--prefill %d is larger than the number of ids (%d)"):format(o.prefill, #ids))
end
cli.prepare(o)

local model = Model.load(o.model, { tokenizer = o.tokenizer, max_batch = math.max(o.prefill or #ids, o.prompt and 64 or 1),
    n_gpu_layers = o.gpu_layers, gpu_mem = o.gpu_mem_bytes, n_ctx = o.ctx, kv_type = o.kv_type, head = o.head })
cli.warn_unused_ttt(model, o)
if o.prompt then
    local tok = model.tokenizer or error(o.model .. ": the model has no vocabulary; give its tokenizer with -z", 0)
    ids = tok:encode(o.prompt, { bos = tok:add_bos() })
    if #ids == 0 then error("-p: the text gives no tokens", 0) end
    if o.prefill and o.prefill > #ids then error(("--prefill %d is larger than the prompt's %d tokens"):format(o.prefill, #ids), 0) end
end
local prefill = o.prefill or #ids
for _, id in ipairs(ids) do
    if id >= model.cfg.n_vocab then error(("--ids: id %d is outside the vocabulary (%d)"):format(id, model.cfg.n_vocab), 0) end
end
local session = model:new_session { n_ctx = o.ctx or math.max(model:default_context(), #ids) }
session:set_ttt_lr(o.ttt_lr)
if o.schedule then session:set_schedule(o.schedule) end

local f, err = io.open(o.output, "wb")
if not f then error(err, 0) end
local function write_rows(rows) for _, r in ipairs(rows) do f:write(r:tobytes()) end end
if prefill > 0 then
    local first = {}
    for i = 1, prefill do first[i] = ids[i] end
    write_rows(session:forward(first, "all"))
end
for i = prefill + 1, #ids do
    f:write(session:forward({ ids[i] }, "last"):clone():tobytes())
end
f:close()
