-- main.lua - a LÖVE (love2d.org, LuaJIT) game that types a story into its
-- window while it keeps drawing at full frame rate: the model runs through
-- `require "bitttt"`, one token per frame at most, and text appears like a
-- typewriter. See README.md for how to run it.
--
--   BITTTT_HOME=/path/to/bitttt-lua love examples/love2d [MODEL]
local home = os.getenv("BITTTT_HOME") or "."
package.path = home .. "/lua/?.lua;" .. home .. "/lua/?/init.lua;" .. package.path
package.cpath = home .. "/bin/?.so;" .. package.cpath

local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"

local PROMPT = "Once upon a time"
local MAX_TOKENS = 400

local model, session, sampler, stream, logits
local text, history, n_generated, finished = "", {}, 0, false

function love.load(args)
    local path = args[1] or (home .. "/models/default.gguf")
    model = Model.load(path)
    session = model:new_session { n_ctx = math.min(512, model.cfg.n_ctx_train) }
    sampler = Sampler.new { temp = 0.8, top_k = 40, top_p = 0.95, seed = os.time() }
    stream = model.tokenizer:stream()
    local ids = model.tokenizer:encode(PROMPT, { bos = model.tokenizer:add_bos() })
    for _, id in ipairs(ids) do history[#history + 1] = id end
    logits = session:forward(ids, "last")
    text = PROMPT
    love.graphics.setFont(love.graphics.newFont(18))
end

-- One token per frame: sample, show, feed. (A model whose token takes longer than a
-- frame would use the C API's budgeted step; see examples/embed_c.)
function love.update()
    if finished then return end
    local id = sampler:sample(logits, history)
    history[#history + 1] = id
    n_generated = n_generated + 1
    if id == model.tokenizer:eos() or n_generated >= MAX_TOKENS or session.pos + 1 >= session.n_ctx then
        finished = true
        text = text .. stream:flush()
        return
    end
    text = text .. stream:push(id)
    logits = session:forward({ id }, "last")
end

function love.draw()
    love.graphics.clear(0.08, 0.08, 0.1)
    love.graphics.setColor(0.9, 0.9, 0.85)
    love.graphics.printf(text .. (finished and "" or "_"), 24, 24, love.graphics.getWidth() - 48)
    love.graphics.setColor(0.5, 0.5, 0.5)
    love.graphics.print(("%d tokens  %d fps%s"):format(n_generated, love.timer.getFPS(),
        finished and "  (space: another story)" or ""), 24, love.graphics.getHeight() - 32)
end

function love.keypressed(key)
    if key == "escape" then love.event.quit() end
    if key == "space" and finished then
        session:reset()
        text, history, n_generated, finished = "", {}, 0, false
        stream = model.tokenizer:stream()
        local ids = model.tokenizer:encode(PROMPT, { bos = model.tokenizer:add_bos() })
        for _, id in ipairs(ids) do history[#history + 1] = id end
        logits = session:forward(ids, "last")
        text = PROMPT
    end
end
