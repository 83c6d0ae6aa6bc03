-- conf.lua - LÖVE settings: a window with a title, and no audio (the example makes
-- no sound, and machines without a sound card would print errors).
function love.conf(t)
    t.window.title = "bitttt: a story typed by a model"
    t.modules.audio = false
    t.modules.sound = false
end
