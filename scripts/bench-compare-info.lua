-- bench-compare-info.lua - what bench-compare.sh needs to know about a GGUF:
--   bitttt-lua bench-compare-info.lua FILE arch              general.architecture
--   bitttt-lua bench-compare-info.lua FILE bytes [q8_0|q6_k] tensor bytes read per decoded token
--       (every tensor but the embedding, of which one row; a tied head counts the
--       embedding once as the head; with q8_0 or q6_k the head as --head stores it)
--   bitttt-lua bench-compare-info.lua FILE prompt N          a text of at most N tokens (as many as fit)
local bt = require "bitttt"

local path, what, extra = arg[1], arg[2], arg[3]
local usage = "usage: bitttt-lua bench-compare-info.lua FILE arch|bytes [q8_0|q6_k]|prompt N\n"
if not (path and what) then io.stderr:write(usage) os.exit(2) end

if what == "arch" then
    print(bt.gguf_meta(path)["general.architecture"])
elseif what == "bytes" then
    local file = bt.model_open(path)
    local names, total = {}, 0
    for _, name in ipairs(file:tensor_names()) do names[name] = file:tensor(name) end
    local head = names["output.weight"] or names["token_embd.weight"]
    for name, t in pairs(names) do
        if name ~= "token_embd.weight" and t ~= head then total = total + t:nbytes() end
    end
    local head_bytes = { q8_0 = 34 / 32, q6_k = 210 / 256 }   -- per weight
    if head_bytes[extra] and head:dtype() ~= extra then
        total = total + head:numel() * head_bytes[extra]
    else
        total = total + head:nbytes()
    end
    print(("%.0f"):format(total))
elseif what == "prompt" then
    local n = tonumber(extra) or error("prompt: give a token count", 0)
    local tokenizer = bt.tokenizer_open(path)
    local words = {}
    for w in ("The quick brown fox jumps over the lazy dog. "):rep(200):gmatch("%S+") do words[#words + 1] = w end
    local lo, hi = 0, #words   -- the longest prefix of words that encodes to <= n tokens
    while lo < hi do
        local mid = math.ceil((lo + hi) / 2)
        if #tokenizer:encode(table.concat(words, " ", 1, mid)) <= n then lo = mid else hi = mid - 1 end
    end
    print(table.concat(words, " ", 1, lo))
else
    io.stderr:write(usage)
    os.exit(2)
end
