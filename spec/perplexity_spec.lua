-- perplexity_spec.lua - scripts/perplexity.lua, the interface other checks use:
-- the last stdout line `perplexity: X` (4 decimals), per-position buckets, the
-- numbers themselves (recomputed here from the session's logits), TTT-only
-- models read as one stream and --ttt-lr 0, attention models in windows of -c,
-- --from, and errors. Models are random `bitttt` GGUFs written on the fly.
local helper = require "helper"
local F = require "ttt_fixtures"
local Model = require "bitttt.model"

-- -log softmax(row)[target] in double precision
local function nll(row, target)
    local v = row:totable()
    local max = -math.huge
    for _, x in ipairs(v) do if x > max then max = x end end
    local sum = 0
    for _, x in ipairs(v) do sum = sum + math.exp(x - max) end
    return max + math.log(sum) - v[target + 1]
end

local function ppl_line(out)
    local last = out:match("([^\n]*)\n?$")
    return last, tonumber(last:match("^perplexity: (%d+%.%d%d%d%d)$"))
end

describe("perplexity.lua", function()
    local dir, ttt_path, attn_path, text_path
    local seed = helper.seed_random()
    setup(function()
        dir = helper.tmpdir()
        ttt_path, attn_path, text_path = dir .. "/ttt.gguf", dir .. "/attn.gguf", dir .. "/text.txt"
        F.write_random_bitttt { path = ttt_path, mixers = { "ttt_linear", "ttt_linear" }, seed = seed % 1000 + 1 }
        F.write_random_bitttt { path = attn_path, mixers = { "attention", "ttt_linear" }, seed = seed % 1000 + 2 }
        local words = {}
        for i = 1, 90 do words[i] = ({ "the", "cat", "sat", "on", "a", "mat", "and", "dog" })[math.random(8)] end
        F.write_file(text_path, table.concat(words, " ") .. ".\n")   -- about 370 byte tokens
    end)
    teardown(function() helper.rmdir(dir) end)

    local function run(...)
        local out, err, rc = helper.run_host("perplexity.lua", ...)
        assert.equals(0, rc, err)
        return out
    end

    -- What perplexity.lua should print: the mean loss over windows of ctx (nil: one stream).
    local function expected(path, ctx, lr)
        local model = Model.load(path, { max_batch = 64 })
        local f = io.open(text_path, "rb")
        local ids = model.tokenizer:encode(f:read("*a"), { bos = model.tokenizer:add_bos() })
        f:close()
        local session = model:new_session { n_ctx = ctx or #ids }
        session:set_ttt_lr(lr)
        local losses, first = {}, 1
        while first < #ids do
            local last = ctx and math.min(first + ctx - 1, #ids) or #ids
            session:reset()
            local chunk = {}
            for i = first, last do chunk[#chunk + 1] = ids[i] end
            local rows = session:forward(chunk, "all")
            for k = 1, #rows - 1 do losses[#losses + 1] = nll(rows[k], chunk[k + 1]) end
            first = last
        end
        local sum = 0
        for _, l in ipairs(losses) do sum = sum + l end
        return math.exp(sum / #losses), #losses, ids[1] == model.tokenizer:bos()
    end

    it("scores a TTT-only model's text as one stream; the last line is `perplexity: X`", function()
        local out = run("-m", ttt_path, "-f", text_path, "-b", "37")
        local line, got = ppl_line(out)
        assert.is_not_nil(got, "last line: " .. line)
        local want, n, bos_first = expected(ttt_path)
        assert.is_true(bos_first, "the vocabulary adds a BOS")
        assert.is_true(math.abs(got - want) <= 1e-4 * want + 1e-4, ("perplexity %s, recomputed %.4f"):format(got, want))
        local lo, hi = 1, 128   -- buckets 1-128, 129-512, 513-2048, ... cut at the last token n
        while lo <= n do
            local top = math.min(hi, n)
            local pattern = ("tokens %d%%-%d: perplexity [%%d.]+ over %d tokens\n"):format(lo, top, top - lo + 1)
            assert.truthy(out:find(pattern), pattern .. " in:\n" .. out)
            lo, hi = hi + 1, hi * 4
        end
    end)

    it("freezes learning with --ttt-lr 0", function()
        local _, frozen = ppl_line(run("-m", ttt_path, "-f", text_path, "--ttt-lr", "0"))
        local _, learning = ppl_line(run("-m", ttt_path, "-f", text_path))
        local want = expected(ttt_path, nil, 0)
        assert.is_true(math.abs(frozen - want) <= 1e-4 * want + 1e-4, ("frozen %s, recomputed %.4f"):format(frozen, want))
        assert.are_not.equal(frozen, learning)
    end)

    it("reads attention models in windows of -c tokens, each token scored once", function()
        local ctx = 16 + math.random(0, 40)
        local out = run("-m", attn_path, "-f", text_path, "-c", tostring(ctx), "-b", "7")
        local _, got = ppl_line(out)
        local want = expected(attn_path, ctx)
        assert.is_true(math.abs(got - want) <= 1e-4 * want + 1e-4, ("-c %d: perplexity %s, recomputed %.4f"):format(ctx, got, want))
        local _, whole = ppl_line(run("-m", attn_path, "-f", text_path, "-c", "1000"))
        assert.are_not.equal(got, whole)
    end)

    it("--from K reports the tokens before K and from K apart, consistent with the total", function()
        local out = run("-m", ttt_path, "-f", text_path, "--from", "100")
        local a, na = out:match("tokens 1%-99: perplexity ([%d.]+) over (%d+) tokens")
        local b, nb = out:match("tokens 100%-%d+: perplexity ([%d.]+) over (%d+) tokens")
        assert.is_not_nil(a, out)
        assert.is_not_nil(b, out)
        local _, total = ppl_line(out)
        local mixed = math.exp((na * math.log(a) + nb * math.log(b)) / (na + nb))
        assert.is_true(math.abs(mixed - total) <= 1e-3 * total, ("parts %.4f, total %.4f"):format(mixed, total))
    end)

    it("fails clearly without a text file or with a missing one", function()
        local _, err, rc = helper.run_host("perplexity.lua", "-m", ttt_path)
        assert.are_not.equal(0, rc)
        assert.truthy(err:find("no text: give -f TEXT", 1, true), err)
        _, err, rc = helper.run_host("perplexity.lua", "-m", ttt_path, "-f", dir .. "/missing.txt")
        assert.are_not.equal(0, rc)
        assert.truthy(err:find("missing.txt: no such file or folder", 1, true), err)
    end)
end)
