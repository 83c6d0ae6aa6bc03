-- repl_spec.lua - the interactive REPL driven through a pseudo-terminal (a tmux
-- pane on a private tmux server): typed expressions, completion, errors, Ctrl-C
-- during long work, and history kept across runs. Plain piped input is covered by
-- host_spec.lua; the Ctrl-C path without a terminal is checked here too.
local helper = require "helper"

local Pane = require "tmux_pane"
local has_tmux = Pane.available


--- Types a line, then waits for the next prompt after it; returns the text printed in between.
function Pane:eval(line, seconds)
    local before = #self:text()
    self:send(line, "Enter")
    local text = self:wait_for("\n>$", before, seconds)
    local echo_at = text:find(line, before, true)
    local out = text:sub(echo_at + #line + 1)
    return (out:gsub("\n?>$", ""))
end

-- Runs fn(pane) with a REPL in a tmux pane; `state_dir` becomes XDG_STATE_HOME.
local function with_pane(state_dir, fn)
    local cmd = ("env XDG_STATE_HOME=%s BITTTT_HOME=%s %s"):format(helper.quote(state_dir),
        helper.quote(helper.root), helper.quote(helper.host))
    Pane.with(cmd, "Ctrl%-D quits", fn)
end

describe("REPL on a terminal", function()
    local dir
    before_each(function()
        helper.seed_random()
        dir = helper.tmpdir()
    end)
    after_each(function() helper.rmdir(dir) end)

    local function skip_without_tmux()
        if has_tmux then return false end
        pending("skipped: tmux not found (apt-get install tmux)")
        return true
    end

    it("prints expressions, tensors and tables", function()
        if skip_without_tmux() then return end
        with_pane(dir, function(p)
            local a, b = math.random(100, 999), math.random(100, 999)
            assert.equals(tostring(a + b), p:eval(("%d + %d"):format(a, b)))
            assert.equals("tensor f32 [2, 2] cpu\n[[1, 2],\n [3, 4]]", p:eval("bitttt.tensor{{1, 2}, {3, 4}}"))
            assert.equals('{ 1, "two", k = { 3 } }', p:eval('{1, "two", k = {3}}'))
            assert.equals("", p:eval("local x = 1"))
            local before = #p:text()
            p:send("y = 1 +", "Enter")
            p:wait_for("\n>>$", before)
            assert.equals("", p:eval("2"))
            assert.equals("3", p:eval("y"))
        end)
    end)

    it("completes globals, fields and tensor methods with Tab", function()
        if skip_without_tmux() then return end
        with_pane(dir, function(p)
            p:send("bitttt.ze", "Tab")
            p:wait_for("> bitttt%.zeros")
            p:send("C-u")
            p:wait_for("\n>$")   -- the line is cleared before the next one is typed
            p:eval("t = bitttt.zeros{3, 4}")
            local before = #p:text()
            p:send("t:resh", "Tab")
            p:wait_for("> t:reshape", before)
            assert.equals("tensor f32 [2, 6] cpu", p:eval("{2, 6}"):match("^[^\n]*"))
            before = #p:text()
            p:send("bitttt.ten", "Tab", "Tab")   -- two candidates: the common part, then the list
            p:wait_for("tensor%s+tensor_methods", before)
            p:send("C-u")
        end)
    end)

    it("prints an error's message and returns to the prompt", function()
        if skip_without_tmux() then return end
        with_pane(dir, function(p)
            assert.truthy(p:eval('error("no luck here")'):find("no luck here", 1, true))
            assert.truthy(p:eval("nil + 1"):find("attempt to perform arithmetic", 1, true))
            assert.truthy(p:eval("x = = 1"):find("unexpected symbol", 1, true))
            assert.equals("42", p:eval("6 * 7"))
        end)
    end)

    it("clears the line on Ctrl-C at the prompt and shows :help", function()
        if skip_without_tmux() then return end
        with_pane(dir, function(p)
            local before = #p:text()
            p:send("this is not lua", "C-c")
            p:wait_for("%^C\n>$", before)
            assert.truthy(p:eval(":help"):find("Topics", 1, true))
            assert.truthy(p:eval("help(bitttt.zeros)"):find("bitttt.zeros(shape", 1, true))
        end)
    end)

    it("stops a loop of C ops on Ctrl-C and stays in the REPL", function()
        if skip_without_tmux() then return end
        with_pane(dir, function(p)
            p:eval("t = bitttt.zeros{64, 64}; n = 0")
            local before = #p:text()
            p:send("for i = 1, 1e12 do t:fill(i); n = i end", "Enter")
            p:wait_for("for i = 1, 1e12 do t:fill%(i%); n = i end$", before)
            os.execute("sleep 0.3")
            p:send("C-c")
            p:wait_for("\ninterrupted\n>$", before)
            assert.equals("true", p:eval("n > 0 and n < 1e12"))
        end)
    end)

    it("stops a running generation on Ctrl-C", function()
        if skip_without_tmux() then return end
        local model = dir .. "/tiny.gguf"
        local _, err, rc = helper.run_host("make-tiny-model.lua", model)
        assert.equals(0, rc, err)
        with_pane(dir, function(p)
            p:eval(("m = require('bitttt.model').load(%q); s = m:new_session{}; tok = m.tokenizer"):format(model))
            p:eval("G = require 'bitttt.generation'; S = require 'bitttt.sampling'; h = {}")
            local before = #p:text()
            p:send("for i = 1, 1e9 do s:reset(); G.run{ session = s, tokenizer = tok, sampler = S.new{seed = i}, " ..
                "prompt_ids = {1}, n_predict = 200, stop_at = {}, history = h, on_text = function() end } end", "Enter")
            os.execute("sleep 0.5")
            p:send("C-c")
            p:wait_for("\ninterrupted\n>$", before)
            assert.equals("true", p:eval("#h > 1"))   -- tokens were generated before Ctrl-C
            assert.equals("true", p:eval("#s:forward({1, 2, 3}, 'last'):shape() == 1"))   -- the session still works
        end)
    end)

    it("keeps history across runs in XDG_STATE_HOME/bitttt/history", function()
        if skip_without_tmux() then return end
        local marker = ("history_marker_%d = 1"):format(math.random(1, 1e6))
        with_pane(dir, function(p)
            p:eval(marker)
            p:send("C-d")
        end)
        local f = io.open(dir .. "/bitttt/history", "r")
        assert.truthy(f, "history file missing")
        local saved = f:read("*a")
        f:close()
        assert.truthy(saved:find(marker, 1, true))
        with_pane(dir, function(p)
            local before = #p:text()
            p:send("Up")
            p:wait_for("> " .. marker:gsub("%p", "%%%0") .. "$", before)
            p:send("C-u")
        end)
    end)
end)

describe("REPL interrupts without a terminal", function()
    it("stops Lua code on SIGINT and clears the flag for the next input", function()
        local code = table.concat({
            "ffi = require 'ffi'; ffi.cdef 'int getpid(void); int kill(int, int);'",
            "ok, err = pcall(function() ffi.C.kill(ffi.C.getpid(), 2); for i = 1, 1e9 do require('bitttt.interrupt').check() end end)",
            "err",
            "require('bitttt.interrupt').interrupted()",
        }, "\n")
        local out, err, rc = helper.run("printf '%s\\n' " .. helper.quote(code) .. " | " .. helper.quote(helper.host))
        assert.equals(0, rc, err)
        assert.equals("interrupted\nfalse\n", out)
    end)

    it("has the check module in the host and leaves the flag clear", function()
        local out, err, rc = helper.run_host("-e", "print(require('bitttt.interrupt').interrupted())")
        assert.equals(0, rc, err)
        assert.equals("false\n", out)
    end)
end)
