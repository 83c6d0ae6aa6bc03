-- model_safetensors.lua - fuzz target: a Hugging Face folder (config.json, the marker
-- "\n--\n", then model.safetensors) through Model.load, a session and a few tokens.
local common = require "fuzz_common"
return function(data, dir)
    local at = data:find("\n--\n", 1, true)
    local config, weights = data:sub(1, (at or #data + 1) - 1), at and data:sub(at + 4) or ""
    common.write(dir .. "/config.json", config)
    common.load_and_step(common.write(dir .. "/model.safetensors", weights))
end
