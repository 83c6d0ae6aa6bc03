-- conf.lua - a headless-friendly LÖVE configuration for spec/one_runtime_spec.lua.
function love.conf(t)
    t.window.width, t.window.height = 64, 64
    t.modules.audio, t.modules.sound, t.modules.joystick, t.modules.physics = false, false, false, false
end
