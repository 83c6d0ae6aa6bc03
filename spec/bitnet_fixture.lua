-- bitnet_fixture.lua - shared by the BitNet specs: the reference fixture in
-- spec/data/reference/bitnet (teacher-forced ids, numpy logits, the F32 GGUF).
local bt = require "bitttt"
local helper = require "helper"

local M = {}
M.dir = "reference/bitnet/"
-- prompt + the first 9 llama.cpp F32 greedy tokens (the numpy references' teacher-forced input)
M.tf_ids = { 1, 403, 407, 261, 378, 319, 187, 386, 15, 138, 338, 82, 389, 88 }

--- A numpy reference logits file as an f32 tensor [rows, 512].
function M.read_logits(name)
    local s = helper.read_file(helper.data_file(M.dir .. name))
    return bt.from_bytes(s, "f32", { #s / 2048, 512 })
end

--- Largest |difference| between logits rows (Lua array of [512] tensors) and a reference tensor.
function M.max_diff(rows, ref)
    local worst = 0
    for r = 1, #rows do
        for j = 1, 512 do worst = math.max(worst, math.abs(rows[r][j] - ref[{ r, j }])) end
    end
    return worst
end

--- n greedy token ids after prompt (argmax of each step's logits).
function M.greedy(model, prompt, n)
    local s = model:new_session { n_ctx = 64 }
    local logits = s:forward(prompt, "last")
    local out = {}
    for _ = 1, n do
        local best, id = -math.huge, 0
        for j = 1, logits:size(1) do if logits[j] > best then best, id = logits[j], j - 1 end end
        out[#out + 1] = id
        logits = s:forward({ id }, "last")
    end
    return out
end

local f32_path
--- The F32 GGUF, decompressed once per process into a temporary file.
function M.f32_file()
    if not f32_path then
        f32_path = os.tmpname()
        assert(os.execute(("gzip -dc %s > %s"):format(helper.quote(helper.data_file(M.dir .. "bitnet-s4321-f32.gguf.gz")),
            helper.quote(f32_path))) == 0)
    end
    return f32_path
end

function M.cleanup()
    if f32_path then os.remove(f32_path) f32_path = nil end
end

return M
