-- bench-compare-info.lua - what bench-compare.sh needs to know about a GGUF:
--   bitttt-lua bench-compare-info.lua FILE arch              general.architecture
--   bitttt-lua bench-compare-info.lua FILE bytes [q8_0]      tensor bytes read per decoded token
--       (every tensor but the embedding, of which one row; a tied head counts the
--       embedding once as the head; with q8_0 the head as --head q8_0 stores it)
--   bitttt-lua bench-compare-info.lua FILE prompt N          a text of at most N tokens (as many as fit)
local bt = require "bitttt"

local path, what, extra = arg[1], arg[2], arg[3]
local usage = "usage: bitttt-lua bench-compare-info.lua FILE arch|bytes [q8_0]|prompt N\n"
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
    if extra == "q8_0" and head:dtype() ~= "q8_0" then
        total = total + head:numel() / 32 * 34
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
