-- tmux_pane.lua - a program in a pseudo-terminal (a tmux pane on a private tmux
-- server) for the specs of interactive programs (the REPL, chat): keys in, screen out.
--
--   local Pane = require "tmux_pane"
--   if not Pane.available then pending("...") end
--   local p = Pane.start("env X=1 program args", "ready text pattern")
--   p:send("typed text", "Enter", "C-c", "Up"); p:wait_for(pattern [, from [, seconds]]); p:close()
local helper = require "helper"

local Pane = {}
Pane.__index = Pane

local rc = os.execute("command -v tmux >/dev/null 2>&1")
Pane.available = rc == 0 or rc == true   -- Lua 5.1 / LuaJIT with 5.2 extensions

local socket_counter = 0

--- Runs the shell command `cmd` in a 120x50 pane and waits for `ready` (a Lua pattern).
function Pane.start(cmd, ready)
    socket_counter = socket_counter + 1
    local self = setmetatable({}, Pane)
    self.tmux = ("tmux -L bitttt-spec-%d-%d -f /dev/null"):format(math.random(1, 1e9), socket_counter)
    local _, err, code = helper.run(self.tmux .. " new-session -d -x 120 -y 50 -s pane " .. helper.quote(cmd))
    assert(code == 0, "tmux new-session failed: " .. err)
    if ready then self:wait_for(ready) end
    return self
end

local key_names = { Enter = 1, Tab = 1, Up = 1, Down = 1, Left = 1, Right = 1, Home = 1, End = 1, BSpace = 1 }

--- Sends keys (tmux key names: "Enter", "Tab", "C-c", "Up", "Left"; other strings are typed literally).
function Pane:send(...)
    for _, key in ipairs({ ... }) do
        local literal = not key:match("^[%u]%-%a$") and not key_names[key]
        helper.run(self.tmux .. " send-keys -t pane " .. (literal and "-l " or "") .. helper.quote(key))
    end
end

--- The pane's text, each line without trailing blanks (tmux trims them), no trailing empty lines.
function Pane:text()
    local out = helper.run(self.tmux .. " capture-pane -p -J -t pane -S -2000")
    return (out:gsub("[ \t]+\n", "\n"):gsub("\n+$", ""))
end

--- Waits until the pane's text matches `pattern` (searched from `from` onwards); returns the text.
function Pane:wait_for(pattern, from, seconds)
    local tries = math.floor((seconds or 20) / 0.05)
    local text
    for _ = 1, tries do
        text = self:text()
        if text:find(pattern, from or 1) then return text end
        os.execute("sleep 0.05")
    end
    error(("timed out waiting for %q in the pane:\n%s"):format(pattern, text), 2)
end

--- Whether the pane's program is still running.
function Pane:alive()
    local _, _, code = helper.run(self.tmux .. " has-session -t pane")
    return code == 0
end

function Pane:close() helper.run(self.tmux .. " kill-server") end

--- Runs fn(pane) and closes the pane, also when fn fails.
function Pane.with(cmd, ready, fn)
    local pane = Pane.start(cmd, ready)
    local ok, err = pcall(fn, pane)
    pane:close()
    if not ok then error(err, 0) end
end

return Pane
