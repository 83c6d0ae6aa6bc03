-- model_gguf.lua - fuzz target: a GGUF model through Model.load (the architecture's
-- build from the file's keys and tensors), a session and a few tokens.
local common = require "fuzz_common"
return function(data, dir)
    common.load_and_step(common.write(dir .. "/model.gguf", data))
end
