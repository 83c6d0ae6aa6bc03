-- tokenize.lua - prints the token ids of a text on one line, separated by spaces.
--
--   bitttt-lua tokenize.lua [-m FILE] [--no-bos] [--special] TEXT
--
-- FILE: any GGUF with a vocabulary (vocab-only files too) or a llama2.c
-- tokenizer .bin (default: the bundled model). TEXT is one argument, taken literally; special-token names in
-- it are matched only with --special. BOS is added when the vocabulary says so,
-- unless --no-bos.
local bt = require "bitttt"
local cli = require "bitttt.cli"

local o, pos = cli.parse(arg, {
    { "-m", "--model", key = "model", type = "string", metavar = "FILE", help = "GGUF file or llama2.c tokenizer.bin",
      default = bt.default_model },
    { nil, "--no-bos", key = "no_bos", type = "flag", help = "never add BOS" },
    { nil, "--special", key = "special", type = "flag", help = "match special-token names in TEXT" },
}, "usage: bitttt-lua tokenize.lua -m FILE [--no-bos] [--special] TEXT")
if not o.model then cli.usage_error("no vocabulary: give -m FILE") end
if #pos ~= 1 then cli.usage_error(("expected exactly one TEXT argument, got %d (quote the text)"):format(#pos)) end
require("bitttt.file_kind").check(o.model, "tokenizer")

local tok = bt.tokenizer_open(o.model)
local ids = tok:encode(pos[1], { bos = tok:add_bos() and not o.no_bos, special = o.special or false })
io.write(table.concat(ids, " "), "\n")
