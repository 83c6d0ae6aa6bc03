-- capi_models.lua - every model we ship or test with, for the C API specs
-- (capi_parity_spec, capi_leaks_spec): { name, path() -> path or nil when its
-- data is missing, tokenizer() -> file or nil }. The HF BitNet folder is written
-- on first use from the BitNet fixture (removed by cleanup()).
local bt = require "bitttt"
local helper = require "helper"
local fixture = require "bitnet_fixture"
local hf = require "hf_bitnet_fixture"

local M = {}

-- Reference data: spec/data (helper.data_file).
local function data(rel) return helper.data_file(rel) end

local tmp
M.list = {
    { name = "the bundled default model (TTT convs, forgetting)",
      path = function() local p = helper.root .. "/models/default.gguf" return helper.exists(p) and p or nil end },
    { name = "stories260K (llama2.c)", path = function() return data("models/stories260K.bin") end,
      tokenizer = function() return data("models/tok512.bin") end },
    { name = "the BitNet reference (TQ2_0 GGUF)", path = function() return data("reference/bitnet/bitnet-s4321-tq2_0.gguf") end },
    { name = "the TTT-Linear reference (safetensors)",
      path = function() return data("reference/ttt/model.safetensors") and data("reference/ttt/") end },
    { name = "an HF BitNet folder (BitNetForCausalLM)", path = function()
        if not data(fixture.dir .. "bitnet-s4321-f32.gguf.gz") then return nil end
        tmp = tmp or helper.tmpdir()
        return hf.folder(tmp, bt.model_open(fixture.f32_file()), "bitlinear", "bitlinear")
    end },
}

function M.cleanup()
    if tmp then helper.rmdir(tmp) tmp = nil end
    fixture.cleanup()
end

return M
