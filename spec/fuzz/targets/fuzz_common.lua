-- fuzz_common.lua - what the Lua fuzz targets share: writing an input to a scratch file
-- and running a loaded model for a token (small context: the harness looks for memory
-- errors in the build and the first step, not for how much a large context costs).
local helper = require "helper"   -- spec/helper.lua: the specs' file helpers

local M = {}

M.read = helper.read_file

--- Writes bytes to path; returns path.
function M.write(path, bytes)
    helper.write_file(path, bytes)
    return path
end

--- Loads the model at path (opts as Model.load's), makes a session of 8 positions and
-- feeds it one token, then two more (prefill and decode paths). Errors propagate.
function M.load_and_step(path, opts)
    local model = require("bitttt.model").load(path, opts)
    local s = model:new_session { n_ctx = 8 }
    local last = model.cfg.n_vocab - 1
    s:forward({ math.min(1, last) }, "last")
    s:forward({ 0, last }, "all")
    if model.tokenizer then model.tokenizer:decode(model.tokenizer:encode("Hi there")) end
end

return M
