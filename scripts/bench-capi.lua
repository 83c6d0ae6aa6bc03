-- bench-capi.lua - prefill and decode tokens/s of the C API (runtime/bitttt.h,
-- called through the FFI in this process: the same libbitttt.so the host links)
-- against generate.lua's loop (bitttt.generation: what generate.lua runs), on
-- one model. Rounds are interleaved (Lua, C, Lua, C, ...) so drift in machine
-- load hits both sides alike; the table shows the median of the rounds and the
-- ratio C / Lua, by wall-clock time and by the process's CPU time (os.clock:
-- with -t 1 that is the work itself, unaffected by other processes on a busy machine).
--
--   bitttt-lua bench-capi.lua -m MODEL [-n DECODE] [--prompt-tokens P] [--rounds 5] [-t THREADS]
local bt = require "bitttt"
local cli = require "bitttt.cli"
local Model = require "bitttt.model"
local Sampler = require "bitttt.sampling"
local Generation = require "bitttt.generation"
local ffi = require "ffi"

local o = cli.parse(arg, {
    { "-m", "--model", key = "model", type = "string", default = bt.default_model, help = "model file" },
    { "-n", "--n-predict", key = "n", type = "number", default = 32, help = "decoded tokens per round" },
    { nil, "--prompt-tokens", key = "prompt", type = "number", default = 64, help = "prompt tokens per round" },
    { nil, "--rounds", key = "rounds", type = "number", default = 5, help = "rounds per side" },
    { "-t", "--threads", key = "threads", type = "number", help = "CPU threads" },
}, "usage: bitttt-lua bench-capi.lua -m MODEL [options]")
if not o.model then error("no model: give -m MODEL", 0) end
if o.threads then bt.set_threads(o.threads) end

ffi.cdef [[
typedef struct bt_model bt_model; typedef struct bt_session bt_session;
typedef struct { int n_ctx; } bt_session_options;
typedef struct {
    double temp; int top_k; double top_p; double min_p; double repeat_penalty; int repeat_last_n;
    double frequency_penalty; double presence_penalty; uint64_t seed;
} bt_sampling;
const char *bt_last_error(void);
int bt_model_load(bt_model **out, const char *path, const void *opts);
void bt_model_free(bt_model *m);
int bt_session_new(bt_session **out, bt_model *m, const bt_session_options *opts);
void bt_session_free(bt_session *s);
int bt_session_feed(bt_session *s, const int32_t *ids, size_t n);
int bt_session_step(bt_session *s, int32_t *id);
int bt_model_sampling(const bt_model *m, bt_sampling *out);
int bt_session_set_sampling(bt_session *s, const bt_sampling *o);
]]
local C = ffi.C   -- bitttt-lua links libbitttt.so: the one runtime of this process

local function check(st)
    if st ~= 0 then error("C API: " .. ffi.string(C.bt_last_error()), 2) end
end

-- Both clocks at once: wall seconds and process CPU seconds.
local function now() return { bt.clock(), os.clock() } end
local function since(t0) local t = now() return { t[1] - t0[1], t[2] - t0[2] } end
local n_ctx = o.prompt + o.n + 1
local lua_model = Model.load(o.model)
local ids = {}
for i = 1, o.prompt do ids[i] = 1 + (i * 7919) % (lua_model.cfg.n_vocab - 1) end   -- any valid ids
local seed = 42

-- tok/s from {wall, cpu} seconds
local function rates(n, t) return { n / t[1], n / t[2] } end

-- One generate.lua round: prompt as a batch, then n sampled tokens; returns prefill and decode
-- {wall, cpu} tok/s. Generation.run takes one clock: it runs twice, timed by each.
local function lua_round()
    local out = {}
    for k, clock in ipairs { bt.clock, os.clock } do
        local session = lua_model:new_session { n_ctx = n_ctx }
        local sampler = Sampler.new(Sampler.choose({ seed = seed }, Sampler.model_defaults(lua_model.meta, o.model)))
        local r = Generation.run {
            session = session, sampler = sampler, tokenizer = lua_model.tokenizer, prompt_ids = ids, n_predict = o.n,
            stop_at = {}, on_text = function() end, clock = clock,
        }
        out[k] = { o.prompt / r.t_prompt, (r.n_generated - 1) / r.t_generate }   -- the first token needs no forward
    end
    return { out[1][1], out[2][1] }, { out[1][2], out[2][2] }
end

local cm_box = ffi.new("bt_model *[1]")
check(C.bt_model_load(cm_box, o.model, nil))
local cm = ffi.gc(cm_box[0], C.bt_model_free)
local c_ids = ffi.new("int32_t[?]", #ids, ids)

-- The same through the C API: bt_session_feed, then bt_session_step per token.
local function c_round()
    local box = ffi.new("bt_session *[1]")
    check(C.bt_session_new(box, cm, ffi.new("bt_session_options", { n_ctx = n_ctx })))
    local s = ffi.gc(box[0], C.bt_session_free)
    local sp = ffi.new("bt_sampling")
    check(C.bt_model_sampling(cm, sp))
    sp.seed = seed
    check(C.bt_session_set_sampling(s, sp))
    local t0 = now()
    check(C.bt_session_feed(s, c_ids, #ids))
    local t_prompt = since(t0)
    local id = ffi.new("int32_t[1]")
    t0 = now()
    for _ = 1, o.n - 1 do check(C.bt_session_step(s, id)) end
    local t_decode = since(t0)
    C.bt_session_free(ffi.gc(s, nil))
    return rates(o.prompt, t_prompt), rates(o.n - 1, t_decode)
end

local function median(t)
    table.sort(t)
    local n = #t
    return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

lua_round() c_round()   -- warm-up (JIT traces, page cache)
local lua_p, lua_d, c_p, c_d = {}, {}, {}, {}
for r = 1, o.rounds do
    lua_p[r], lua_d[r] = lua_round()
    c_p[r], c_d[r] = c_round()
end
print(("model %s, threads %d, prompt %d tokens, decode %d tokens, median of %d interleaved rounds"):format(
    o.model, bt.get_threads(), o.prompt, o.n - 1, o.rounds))
print(("%-16s %14s %14s %8s"):format("", "generate.lua", "C API", "C/Lua"))
for _, row in ipairs { { "prefill", lua_p, c_p }, { "decode", lua_d, c_d } } do
    for k, clock in ipairs { "wall", "cpu" } do
        local function col(rounds) local v = {} for r, x in ipairs(rounds) do v[r] = x[k] end return median(v) end
        local l, c = col(row[2]), col(row[3])
        print(("%-16s %10.2f t/s %10.2f t/s %8.3f"):format(row[1] .. " (" .. clock .. ")", l, c, c / l))
    end
end
