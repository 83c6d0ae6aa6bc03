-- chat_spec.lua - scripts/chat.lua with the bundled model: on a terminal (a tmux pane)
-- like llama-cli -cnv (banner, prompt, line editor and history, Ctrl-C stopping an
-- answer, /commands), and on piped input (answers only), and bitttt.chat's transcripts.
local helper = require "helper"
local Pane = require "tmux_pane"

local model_path = helper.root .. "/models/default.gguf"

-- The transcript's messages as { {role, text}, ... }.
local function read_transcript(path)
    local messages = {}
    for line in io.lines(path) do
        local role, text = line:match("^(%a+): (.*)$")
        if role then messages[#messages + 1] = { role, text } end
    end
    return messages
end

describe("chat.lua on a terminal", function()
    local dir
    before_each(function()
        helper.seed_random()
        dir = helper.tmpdir()
    end)
    after_each(function() helper.rmdir(dir) end)

    it("chats for three turns with arrow keys, Ctrl-C during an answer and /reset", function()
        if not Pane.available then pending("skipped: tmux not found (apt-get install tmux)") return end
        -- --ignore-eos: every answer runs to -n (1500 tokens), long enough to be stopped by Ctrl-C
        local cmd = ("env XDG_STATE_HOME=%s BITTTT_HOME=%s BITTTT_THREADS=1 %s chat.lua -m %s -s %d -n 1500 -c 8192 --ignore-eos --verbose")
            :format(helper.quote(dir), helper.quote(helper.root), helper.quote(helper.host), helper.quote(model_path),
                math.random(1, 1e6))
        Pane.with(cmd, "/exit or Ctrl%-D leaves", function(p)
            local text = p:text()
            assert.truthy(text:find("template plain", 1, true), text)
            assert.truthy(text:find("using the plain template", 1, true), text)
            local function turn_done(before) return p:wait_for("context %d+/8192.-\n>$", before, 120) end

            -- turn 1, typed with a fix: Left twice, then the missing letter
            local before = #p:text()
            p:send("Hello thre", "Left", "Left", "e", "Enter")
            turn_done(before)
            assert.truthy(p:text():find("\n> Hello there\n", before - 5, true))
            p:send("", "Enter")                               -- an empty line does not end the chat
            -- turn 2: Ctrl-C as soon as the answer streams
            before = #p:text()
            p:send("Tell me a story", "Enter")
            p:wait_for("> Tell me a story\n[^\n]*%S", before, 90)   -- the ASan host on a loaded machine is slow
            p:send("C-c")
            text = p:wait_for("%(stopped%).-\n>$", before, 60)
            local generated = tonumber(text:match("generated (%d+) %(interrupted%)", before))
            assert.truthy(generated and generated < 1500, text:sub(before))
            -- turn 3: Up recalls the last message from the history
            before = #p:text()
            p:send("Up")
            p:wait_for("> Tell me a story$", before)
            p:send("Enter")
            turn_done(before)
            assert.truthy(p:text():find("generated 1500 %(length%)", before))
            p:send("/save " .. dir .. "/three.txt", "Enter")
            p:wait_for("%(saved 6 messages", before)
            -- /reset, and the chat goes on from an empty context
            before = #p:text()
            p:send("/reset", "Enter")
            p:wait_for("%(a new conversation%)", before)
            p:send("Hi again", "Enter")
            text = turn_done(before)
            local fed, gen, pos = text:match("turn: fed (%d+) tokens, generated (%d+) %(%a+%), context (%d+)/", before)
            assert.equals(tonumber(fed) + tonumber(gen) - 1, tonumber(pos))   -- nothing before this turn
            p:send("/exit", "Enter")
            for _ = 1, 100 do
                if not p:alive() then break end
                os.execute("sleep 0.05")
            end
            assert.is_false(p:alive())
        end)
        local m = read_transcript(dir .. "/three.txt")
        assert.equals(6, #m)
        assert.are.same({ "user", "Hello there" }, m[1])
        assert.are.same({ "user", "Tell me a story" }, m[3])
        assert.are.same({ "user", "Tell me a story" }, m[5])
        assert.equals("assistant", m[4][1])
        -- the history file keeps what was typed
        local history = helper.read_file(dir .. "/bitttt/chat_history")
        assert.truthy(history:find("Hello there\n", 1, true))
    end)
end)

describe("chat.lua on piped input", function()
    it("answers one message per line, joins lines ending in \\, skips empty lines, and stops at /exit", function()
        local dir = helper.tmpdir()
        local input = "Hello\n\nWhat is \\\nlove?\n/save " .. dir .. "/t.txt\n/exit\nnot read\n"
        local out, err, rc = helper.run(("printf '%%s' %s | BITTTT_THREADS=1 %s chat.lua -m %s -s 7 -n 40 --verbose")
            :format(helper.quote(input), helper.quote(helper.host), helper.quote(model_path)))
        assert.equals(0, rc, err)
        local turns = select(2, err:gsub("turn: fed", ""))
        assert.equals(2, turns, err)
        assert.truthy(err:find("(saved 4 messages", 1, true), err)
        assert.is_nil(out:find("> ", 1, true))   -- no prompt, no banner on a pipe
        local m = read_transcript(dir .. "/t.txt")
        assert.are.same({ "user", "What is \\nlove?" }, m[3])
        helper.rmdir(dir)
    end)

    it("continues a saved conversation with /load and refuses a file that is not a transcript", function()
        local dir = helper.tmpdir()
        helper.write_file(dir .. "/t.txt", "# bitttt chat transcript: one message per line, role: text (\\n is a newline)\n" ..
            "user: Hi\nassistant: Hello.\n")
        helper.write_file(dir .. "/bad.txt", "user: Hi\n")
        local input = ("/load %s/bad.txt\n/load %s/t.txt\nAnd then?\n"):format(dir, dir)
        local _, err, rc = helper.run(("printf '%%s' %s | BITTTT_THREADS=1 %s chat.lua -m %s -s 7 -n 20 --verbose")
            :format(helper.quote(input), helper.quote(helper.host), helper.quote(model_path)))
        assert.equals(0, rc, err)
        assert.truthy(err:find("bad.txt: not a chat transcript", 1, true), err)
        assert.truthy(err:find("(loaded 2 messages", 1, true), err)
        -- the loaded conversation is fed with the next message: more than the message itself
        local fed = tonumber(err:match("turn: fed (%d+) tokens"))
        assert.truthy(fed > 12, err)
        helper.rmdir(dir)
    end)
end)
