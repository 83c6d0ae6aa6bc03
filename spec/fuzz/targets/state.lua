-- state.lua - fuzz target: session state files (safetensors + fingerprint, see
-- Session:load_state) loaded into sessions of the tiny attention and TTT models of the
-- seed corpora (spec/fuzz/corpus: model_gguf/llama.gguf, model_safetensors/ttt-tiny);
-- after a load that succeeds the session must still run.
local Model = require "bitttt.model"
local common = require "fuzz_common"
local corpus = BITTTT_HOME .. "/spec/fuzz/corpus/"

-- the TTT seed is config.json, "\n--\n", model.safetensors: unpacked into a folder of its own
local ttt_dir = os.tmpname()
os.remove(ttt_dir)
assert(os.execute("mkdir -p " .. ttt_dir) == 0)
local ttt = common.read(corpus .. "model_safetensors/ttt-tiny")
local at = assert(ttt:find("\n--\n", 1, true))
common.write(ttt_dir .. "/config.json", ttt:sub(1, at - 1))
common.write(ttt_dir .. "/model.safetensors", ttt:sub(at + 4))

local models = { Model.load(corpus .. "model_gguf/llama.gguf"), Model.load(ttt_dir .. "/model.safetensors") }
os.remove(ttt_dir .. "/config.json")
os.remove(ttt_dir .. "/model.safetensors")
os.remove(ttt_dir)

return function(data, dir)
    local path = common.write(dir .. "/state.safetensors", data)
    -- A session of its own per input: a state that loads may replace the session's caches,
    -- and what one input leaves must not outlive it (the harness checks for leaks per input).
    for _, model in ipairs(models) do
        local s = model:new_session { n_ctx = 8 }
        if pcall(s.load_state, s, path) and s.pos < s.n_ctx then s:forward({ 1 }, "last") end
    end
end
