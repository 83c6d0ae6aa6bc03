-- model_llama2c.lua - fuzz target: a llama2.c checkpoint (then the marker "\n--\n" and
-- its tokenizer.bin) through Model.load, a session and a few tokens.
local common = require "fuzz_common"
return function(data, dir)
    local at = data:find("\n--\n", 1, true)
    local ckpt, tok = data:sub(1, (at or #data + 1) - 1), at and data:sub(at + 4) or nil
    local opts = tok and { tokenizer = common.write(dir .. "/tokenizer.bin", tok) } or nil
    common.load_and_step(common.write(dir .. "/model.bin", ckpt), opts)
end
