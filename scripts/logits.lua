-- logits.lua - writes the logits of every position of a token sequence.
--
--   bitttt-lua logits.lua -m MODEL [-z TOKENIZER] --ids "ID ID ..." [--prefill K] -o FILE
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
    { "-m", "--model", key = "model", type = "string", metavar = "FILE", help = "model file" },
    { "-z", "--tokenizer", key = "tokenizer", type = "string", metavar = "FILE", help = "tokenizer file (llama2.c)" },
    { nil, "--ids", key = "ids", type = "string", metavar = "\"ID ...\"", help = "token ids, space-separated" },
    { nil, "--prefill", key = "prefill", type = "number", metavar = "K", help = "first K ids as a batch, then one at a time" },
    { "-o", "--output", key = "output", type = "string", metavar = "FILE", help = "output file (float32 rows)" },
    { "-c", "--ctx-size", key = "ctx", type = "number", help = "context size (default: the model's)" },
    { "-t", "--threads", key = "threads", type = "number", help = "CPU threads" },
    { nil, "--ttt-lr", key = "ttt_lr", type = "number", metavar = "LR", help = "TTT inner base learning rate (default: the model's)" },
    { nil, "--ttt-schedule", key = "ttt_schedule", type = "string", metavar = "NAME|FILE.lua",
      help = "TTT learning-rate schedule (see lua/bitttt/schedules.lua)" },
    cli.gpu_layers_option,
    cli.head_option,
}, "usage: bitttt-lua logits.lua -m MODEL --ids \"ID ...\" [--prefill K] -o FILE")

if not o.model then error("no model: give -m MODEL", 0) end
if not o.ids then error("no ids: give --ids \"ID ID ...\"", 0) end
if not o.output then error("no output file: give -o FILE", 0) end
if o.threads then bt.set_threads(o.threads) end

local ids = {}
for word in o.ids:gmatch("%S+") do
    local id = tonumber(word)
    if not id or id ~= math.floor(id) or id < 0 then error(("--ids: '%s' is not a token id"):format(word), 0) end
    ids[#ids + 1] = id
end
if #ids == 0 then error("--ids: no token ids given", 0) end
local prefill = o.prefill or #ids
if prefill < 0 or prefill ~= math.floor(prefill) then error("--prefill must be a whole number >= 0", 0) end
if prefill > #ids then error(("--prefill %d is larger than the number of ids (%d)"):format(prefill, #ids), 0) end

local n_gpu_layers = cli.gpu_layers(o.n_gpu_layers)
local model = Model.load(o.model, { tokenizer = o.tokenizer, max_batch = math.max(prefill, 1), n_gpu_layers = n_gpu_layers,
    n_ctx = o.ctx })
for _, id in ipairs(ids) do
    if id >= model.cfg.n_vocab then error(("--ids: id %d is outside the vocabulary (%d)"):format(id, model.cfg.n_vocab), 0) end
end
local session = model:new_session { n_ctx = o.ctx or math.max(model.cfg.n_ctx_train, #ids) }
session:set_ttt_lr(o.ttt_lr)
if o.ttt_schedule then session:set_schedule(o.ttt_schedule) end

local f = assert(io.open(o.output, "wb"))
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
