-- help.lua - short reference text for the REPL's `:help` and `help(obj)`.
--
--   Help.text()            the overview: topics and how to ask for more
--   Help.text("session")   a topic, an entry ("tensor:reshape", "generate"), or a search
--   Help.text(obj)         the entry for a function, or the topic of an object's kind
--   Help.kind_of(v)        "tensor", "session", "model", "sampler", "tokenizer", ... or nil
local Help = {}

-- Topics in the order the overview lists them; each entry: name, signature, what it does.
Help.topics = {
    { name = "tensor", title = "Tensors (bitttt.*, methods with t:name())", entries = {
        { "bitttt.tensor", "bitttt.tensor(values [, dtype]) -> t", "a tensor from a nested table of numbers (f32 unless dtype)" },
        { "bitttt.zeros", "bitttt.zeros(shape [, dtype [, device]]) -> t", "zero-filled tensor; shape {d1, d2, ...}" },
        { "bitttt.full", "bitttt.full(shape, value [, dtype [, device]]) -> t", "tensor filled with value" },
        { "bitttt.empty", "bitttt.empty(shape [, dtype [, device]]) -> t", "new (zeroed) tensor" },
        { "bitttt.is_tensor", "bitttt.is_tensor(v) -> bool", "whether v is a tensor" },
        { "tensor:shape", "t:shape() -> {d1, ...}", "sizes (also t:size(dim), t:dim(), t:numel(), #t)" },
        { "tensor:dtype", "t:dtype() -> name", "f32 f16 bf16 f64 i8 u8 i32 q8_0 tq2_0 tq1_0 i2_s" },
        { "tensor:device", "t:device() -> name", "\"cpu\" or \"cuda:N\"; t:to(device [, dtype]) copies" },
        { "tensor:get", "t[{i, j}], t:get{i, j}, t:set({i, j}, v)", "one element (1-based); t[i] is row i (a view)" },
        { "tensor:reshape", "t:reshape(shape) / t:view(shape)", "same data, new shape (-1: inferred)" },
        { "tensor:narrow", "t:narrow(dim, start, length)", "view of a slice; t:select(dim, i), t:transpose(d1, d2)" },
        { "tensor:fill", "t:fill(v), t:copy(src), t:clone()", "in-place fill, copy from src, new copy" },
        { "tensor:totable", "t:totable() -> nested table", "the values as Lua numbers" },
        { "tensor:ptr", "t:ptr() -> FFI pointer", "zero-copy access to CPU data (LuaJIT)" },
        { "tensor:free", "t:free()", "releases the memory now (else the collector does)" },
    } },
    { name = "model", title = "Models (require \"bitttt.model\")", entries = {
        { "model.load", "Model.load(path [, {tokenizer = file, max_batch = 64, kv_type = \"f16\"}]) -> model",
          "opens a GGUF file, safetensors folder or llama2.c .bin; bitttt.default_model is the bundled one;\n" ..
          "kv_type: what KV caches hold, f16 (default), f32 or q8_0" },
        { "model:new_session", "model:new_session{ n_ctx = N, kv_type = T } -> session",
          "a sequence's own state (KV cache, TTT fast weights); refused when it would not fit in memory" },
        { "model:default_context", "model:default_context() -> n",
          "the context a session gets without n_ctx: min(file, 4096) with attention, math.huge (no limit) without" },
        { "model.tokenizer", "model.tokenizer", "the model's tokenizer: tok:encode(text, {bos = true}), tok:decode(ids), tok:eos()" },
        { "model:state_bytes", "model:state_bytes(n_ctx) -> bytes", "per-session state size at that context" },
        { "model.cfg", "model.cfg, model.meta, model.arch", "sizes, file metadata, architecture name" },
    } },
    { name = "session", title = "Sessions (model:new_session)", entries = {
        { "session:forward", "session:forward(ids [, want]) -> logits",
          "feeds token ids; want = \"last\" (a [vocab] row), \"all\" (a row per token) or \"none\"" },
        { "session:reset", "session:reset()", "back to position 0, state cleared" },
        { "session.pos", "session.pos, session.n_ctx", "tokens fed so far, context size (math.huge: no limit)" },
        { "session:context_text", "session:context_text() -> text", "the context size for people: \"unlimited\" or the number" },
        { "session:rewindable", "session:rewindable() -> bool",
          "true when a failed forward moves the session back (KV caches only); else it is unusable until reset()" },
    } },
    { name = "generate", title = "Generation (require \"bitttt.generation\")", entries = {
        { "generate", "Generation.run{ session =, sampler =, tokenizer =, prompt_ids =, n_predict =, on_text =, stop_at = {} }",
          "feeds the prompt, then samples and streams n_predict tokens; Ctrl-C stops it. Example:\n" ..
          "  m = require('bitttt.model').load(bitttt.default_model); s = m:new_session{}\n" ..
          "  tok = m.tokenizer; G = require 'bitttt.generation'; S = require 'bitttt.sampling'\n" ..
          "  G.run{ session = s, tokenizer = tok, sampler = S.new{temp = 0.8}, prompt_ids = tok:encode('Once', {bos = true}),\n" ..
          "         n_predict = 50, on_text = io.write, stop_at = {[tok:eos()] = true} }" },
    } },
    { name = "sampling", title = "Sampling (require \"bitttt.sampling\")", entries = {
        { "sampling.new", "Sampler.new{ temp, top_k, top_p, min_p, repeat_penalty, repeat_last_n, frequency_penalty, presence_penalty, seed }",
          "a sampler (llama.cpp's order: penalties, top-k, top-p, min-p, temperature); temp = 0 is greedy" },
        { "sampler:sample", "sampler:sample(logits_row, history) -> id", "picks the next token id from a [vocab] f32 row" },
    } },
    { name = "schedules", title = "TTT learning-rate schedules (require \"bitttt.schedules\")", entries = {
        { "schedules.constant", "S.constant(m)", "multiplier m everywhere (0 freezes learning)" },
        { "schedules.linear_warmup", "S.linear_warmup(n [, from])", "from -> 1 over the first n positions" },
        { "schedules.cosine", "S.cosine(n [, min])", "1 -> min over n positions" },
        { "schedules.inverse_sqrt", "S.inverse_sqrt(n)", "1, then sqrt(n / (position + 1))" },
        { "schedules.piecewise", "S.piecewise({{pos, m}, ...})", "piecewise linear" },
        { "schedules.per_layer", "S.per_layer(default, {[layer] = schedule})", "per-layer overrides" },
        { "schedules.parse", "S.parse(\"cosine:4096,0.1\")", "a schedule from text (what --ttt-schedule takes)" },
    } },
    { name = "ttt", title = "Test-time training state (session methods)", entries = {
        { "session:learn", "session:learn(text_or_ids)", "reads input to adapt the fast weights, no output" },
        { "session:set_ttt_lr", "session:set_ttt_lr(lr)", "inner base learning rate (nil: the model's)" },
        { "session:set_schedule", "session:set_schedule(schedule)", "a schedule function or text (see :help schedules)" },
        { "session:snapshot", "session:snapshot() -> snap; session:restore(snap)", "in-memory copy of the state and back" },
        { "session:fork", "session:fork() -> session", "a new session continuing from this state" },
        { "session:save_state", "session:save_state(path); session:load_state(path)", "state files (safetensors + model fingerprint)" },
    } },
    { name = "repl", title = "The REPL", entries = {
        { ":help", ":help [topic or name]", "this help; help(obj) for an object or function" },
        { ":quit", ":quit (or Ctrl-D)", "leaves; history is kept in $XDG_STATE_HOME/bitttt/history" },
        { "keys", "Tab, Up/Down, Ctrl-A/E/K/U/W, Ctrl-C", "completion, history, editing; Ctrl-C clears the line or stops running code" },
        { "bitttt.info", "bitttt.info()", "version, SIMD level, CUDA devices, threads" },
        { "bitttt.set_threads", "bitttt.set_threads(n)", "CPU threads for the kernels" },
    } },
}

local function find_topic(name)
    for _, topic in ipairs(Help.topics) do
        if topic.name == name then return topic end
    end
end

local function entry_text(e) return e[2] .. "\n    " .. e[3]:gsub("\n", "\n    ") end

local function topic_text(topic)
    local lines = { topic.title }
    for _, e in ipairs(topic.entries) do lines[#lines + 1] = "  " .. entry_text(e):gsub("\n", "\n  ") end
    return table.concat(lines, "\n")
end

local function overview()
    local lines = { "bitttt-lua: ternary language models and test-time training, scripted in Lua.",
        "The package is the global `bitttt`. Topics (:help TOPIC or help(\"TOPIC\")):" }
    for _, topic in ipairs(Help.topics) do lines[#lines + 1] = ("  %-10s %s"):format(topic.name, topic.title) end
    lines[#lines + 1] = "help(obj) describes a tensor, session, model or function; Tab completes names."
    return table.concat(lines, "\n")
end

-- Entries whose name or signature mentions `word`.
local function search(word)
    local hits = {}
    for _, topic in ipairs(Help.topics) do
        for _, e in ipairs(topic.entries) do
            if e[1] == word then return entry_text(e) end
            if e[1]:find(word, 1, true) or e[2]:find(word, 1, true) then hits[#hits + 1] = entry_text(e) end
        end
    end
    if #hits == 0 then return ("no help for '%s'; :help lists the topics"):format(word) end
    return table.concat(hits, "\n")
end

-- The registry name of a userdata's metatable ("bitttt.tensor", "FILE*", ...).
local function registry_name(mt)
    for k, v in pairs(debug.getregistry()) do
        if v == mt and type(k) == "string" then return k end
    end
end

--- What kind of bitttt object v is, or nil.
function Help.kind_of(v)
    local kind = type(v)
    if kind == "userdata" then
        local mt = getmetatable(v)
        local name = mt and registry_name(mt)
        return name and name:match("^bitttt%.(.+)$")
    end
    if kind ~= "table" then return nil end
    local function has(key) return type(v[key]) ~= "nil" end
    if has("forward") and has("n_ctx") and has("pos") then return "session" end
    if has("new_session") and has("cfg") then return "model" end
    if has("sample") and has("temp") then return "sampler" end
    return nil
end

-- Where each bitttt.* function's help entry is: function value -> entry.
local function entry_of_function(fn)
    local ok, bt = pcall(require, "bitttt")
    for _, topic in ipairs(Help.topics) do
        for _, e in ipairs(topic.entries) do
            local field = e[1]:match("^bitttt%.([%w_]+)$")
            local method = e[1]:match("^tensor:([%w_]+)$")
            if (ok and field and bt[field] == fn) or (ok and method and bt.tensor_methods[method] == fn) then
                return entry_text(e)
            end
        end
    end
end

--- Help text for no argument (the overview), a string (a topic, name or search word)
-- or an object (its kind's topic; a function's entry).
function Help.text(...)
    if select("#", ...) == 0 then return overview() end
    local what = ...
    if type(what) == "string" then
        local topic = find_topic(what)
        return topic and topic_text(topic) or search(what)
    end
    if type(what) == "function" then
        return entry_of_function(what) or "a function without a help entry (see :help for the topics)"
    end
    local kind = Help.kind_of(what)
    local topic = kind and find_topic(kind)
    if topic then return topic_text(topic) end
    return ("a %s value; :help lists the topics"):format(kind or type(what))
end

return Help
