-- main.lua - a LÖVE (love2d.org, LuaJIT) game that types a story into its
-- window while it keeps drawing at full frame rate: the model runs through
-- `require "bitttt"` with session:generate (the model's recommended sampling),
-- inside a coroutine that yields after each piece of text, so a frame does one
-- token at most and the text appears like a typewriter. See README.md.
--
--   BITTTT_HOME=/path/to/bitttt-lua love examples/love2d [MODEL]
--
-- Measuring (examples/love2d/measure.sh sets these): BITTTT_LOVE_MEASURE=SECONDS
-- runs that long, then prints frames per second while generating, saves a
-- screenshot (BITTTT_LOVE_SHOT, a file name in LÖVE's save folder) and quits.
local home = os.getenv("BITTTT_HOME") or "."
package.path = home .. "/lua/?.lua;" .. home .. "/lua/?/init.lua;" .. package.path
package.cpath = home .. "/bin/?.so;" .. package.cpath

local Model = require "bitttt.model"

local PROMPT = "Once upon a time"
local MAX_TOKENS = 400

local model, session, story
local text, n_tokens, finished = "", 0, false

-- A story in a coroutine: each resume runs until the next piece of text (one token).
local function new_story()
    session:reset()
    text, n_tokens, finished = PROMPT, 0, false
    story = coroutine.wrap(function()
        local _, result = session:generate(PROMPT, {
            n = MAX_TOKENS,
            on_text = function(piece)
                text = text .. piece
                coroutine.yield()
            end,
        })
        n_tokens, finished = result.n_generated, true
    end)
end

function love.load(args)
    model = Model.load(args[1] or (home .. "/models/default.gguf"))
    session = model:new_session { n_ctx = math.min(1024, model.cfg.n_ctx_train) }
    love.graphics.setFont(love.graphics.newFont(18))
    new_story()
end

---------------------------------------------------------------- measuring (optional)

-- Frames and their time while a story is being generated, pieces of text streamed;
-- when the time is up, the screenshot waits for the story on screen to end.
local measure = tonumber(os.getenv("BITTTT_LOVE_MEASURE") or "")
local m = { frames = 0, time = 0, pieces = 0, stories = 0 }

local function report()
    local name = os.getenv("BITTTT_LOVE_SHOT") or "bitttt-love.png"
    love.graphics.captureScreenshot(function(image)
        image:encode("png", name)
        print(("while generating: %d frames in %.2f s, %.1f fps; %d pieces of text (%.0f per second), %d stories; screenshot %s/%s")
            :format(m.frames, m.time, m.frames / math.max(m.time, 1e-9), m.pieces, m.pieces / math.max(m.time, 1e-9),
                m.stories, love.filesystem.getSaveDirectory(), name))
        io.stdout:flush()
        love.event.quit()
    end)
end

local function measure_frame(dt, generating)
    if m.time >= measure then
        if finished and not m.done then m.done = true report() end
        return
    end
    if generating then m.frames, m.time = m.frames + 1, m.time + dt end
    if finished then m.stories = m.stories + 1 new_story() end   -- keep generating while measuring
end

---------------------------------------------------------------- the game loop

function love.update(dt)
    local generating = not finished
    if generating then
        story()
        if not finished then n_tokens, m.pieces = n_tokens + 1, m.pieces + 1 end
    end
    if measure then measure_frame(dt, generating) end
end

function love.draw()
    love.graphics.clear(0.08, 0.08, 0.1)
    love.graphics.setColor(0.9, 0.9, 0.85)
    love.graphics.printf(text .. (finished and "" or "_"), 24, 24, love.graphics.getWidth() - 48)
    love.graphics.setColor(0.5, 0.5, 0.5)
    love.graphics.print(("%d tokens  %d fps%s"):format(n_tokens, love.timer.getFPS(),
        finished and "  (space: another story)" or ""), 24, love.graphics.getHeight() - 32)
end

function love.keypressed(key)
    if key == "escape" then love.event.quit() end
    if key == "space" and finished then new_story() end
end
