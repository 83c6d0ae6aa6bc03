-- recall.lua - does a model remember a document it has just read? Each text file
-- in DIR is read twice in a stream of its own, exactly as the trainer's stream
-- holds a repeated document: BOS, the document, EOS, the document again (the
-- bundled model's BOS and EOS are one token, <|endoftext|>). For each document it
-- prints the perplexity of the first copy (its tokens and the EOS after it) and
-- of the second, and their ratio; then the median ratio over the documents and
-- the token-weighted perplexity of all first and all second copies.
--
--   bitttt-lua scripts/train/recall.lua -m MODEL -d DIR [--ttt-lr LR] [-c CTX] [-t N]
--
-- A model with attention reads each stream in one window of CTX tokens (default:
-- long enough for both copies), so a second copy always has its first in view.
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Model = require "bitttt.model"
local Stats = require "bitttt.stats"

local o = cli.parse(arg, {
    { "-m", "--model", key = "model", type = "string", metavar = "FILE", help = "model file", default = bt.default_model },
    { "-d", "--dir", key = "dir", type = "string", metavar = "DIR", help = "folder of documents (*.txt)" },
    { "-c", "--ctx-size", key = "ctx", type = "number", whole = true, min = 2,
      help = "context of attention models (default: both copies)" },
    cli.threads_option,
    cli.ttt_lr_option,
}, "usage: bitttt-lua scripts/train/recall.lua -m MODEL -d DIR [--ttt-lr LR] [-c CTX]")
if not o.dir then cli.usage_error("no documents: give -d DIR") end
cli.prepare(o)

local function documents(dir)
    local names = {}
    local p = io.popen(("ls -1 '%s'"):format(dir:gsub("'", "'\\''")))
    for name in p:lines() do
        if name:match("%.txt$") then names[#names + 1] = dir .. "/" .. name end
    end
    p:close()
    if #names == 0 then error(("%s: no *.txt documents"):format(dir), 0) end
    return names
end

local function read(path)
    local f = io.open(path, "rb") or error(("cannot read '%s'"):format(path), 0)
    local text = f:read("*a")
    f:close()
    return text
end

local model = Model.load(o.model)
cli.warn_unused_ttt(model, o)
local tok = model.tokenizer or error(o.model .. ": the model has no vocabulary", 0)

-- the summed losses of the first copy (doc + EOS) and the second (doc), and their token counts
local function read_twice(doc_ids)
    local ids = { tok:bos() }
    for _, id in ipairs(doc_ids) do ids[#ids + 1] = id end
    ids[#ids + 1] = tok:eos()
    for _, id in ipairs(doc_ids) do ids[#ids + 1] = id end
    local session = model:new_session { n_ctx = o.ctx or #ids }
    session:set_ttt_lr(o.ttt_lr)
    local first_n = #doc_ids + 1
    local sums = { 0, 0 }
    for a = 1, #ids - 1, 512 do
        local b = math.min(a + 511, #ids - 1)
        local chunk = {}
        for i = a, b do chunk[#chunk + 1] = ids[i] end
        for k, row in ipairs(session:forward(chunk, "all")) do
            local i = a + k - 1   -- row i predicts ids[i + 1]
            local copy = i <= first_n and 1 or 2
            sums[copy] = sums[copy] + Stats.nll(row, ids[i + 1])
        end
    end
    return sums, { first_n, #doc_ids }
end

local ratios, totals, counts = {}, { 0, 0 }, { 0, 0 }
for _, path in ipairs(documents(o.dir)) do
    local sums, n = read_twice(tok:encode(read(path), { bos = false }))
    local ppl1, ppl2 = math.exp(sums[1] / n[1]), math.exp(sums[2] / n[2])
    ratios[#ratios + 1] = ppl2 / ppl1
    for c = 1, 2 do totals[c], counts[c] = totals[c] + sums[c], counts[c] + n[c] end
    print(("%s: %d tokens, first copy %.2f, second copy %.2f, ratio %.3f"):format(
        path:match("[^/]+$"), n[2], ppl1, ppl2, ppl2 / ppl1))
end
print(("all %d documents: first copy %.2f, second copy %.2f (%d and %d tokens)"):format(
    #ratios, math.exp(totals[1] / counts[1]), math.exp(totals[2] / counts[2]), counts[1], counts[2]))
print(("median ratio: %.3f"):format(Stats.median(ratios)))
