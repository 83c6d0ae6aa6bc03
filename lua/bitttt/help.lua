-- help.lua - short reference text for the REPL's `:help` and `help(obj)`.
--
--   Help.text()            the overview: topics and how to ask for more
--   Help.text("session")   a topic, an entry ("tensor:reshape", "generate"), or a search
--   Help.text(obj)         the entry for a function, or the topic of an object's kind
--   Help.kind_of(v)        "tensor", "session", "model", "sampler", "tokenizer", ... or nil
local Help = {}

-- Topics in the order the overview lists them; each entry: name, signature, what it does,
-- and `also`: the other functions the entry describes. Entry names say where a function
-- lives (Help.owners): bitttt.x, tensor:x, model.x (require "bitttt.model"), model:x,
-- session:x, tokenizer:x, sampling.x / sampler:x, schedules.x, generation.x,
-- chat_templates.x, chat.x / chat:x. spec/help_spec.lua checks that every function
-- of these has an entry (or is listed in Help.internal).
Help.topics = {
    { name = "tensor", title = "Tensors (bitttt.*, methods with t:name())", entries = {
        { "bitttt.tensor", "bitttt.tensor(values [, dtype]) -> t", "a tensor from a nested table of numbers (f32 unless dtype)",
          also = { "bitttt.from_table" } },
        { "bitttt.zeros", "bitttt.zeros(shape [, dtype [, device]]) -> t", "zero-filled tensor; shape {d1, d2, ...}" },
        { "bitttt.full", "bitttt.full(shape, value [, dtype [, device]]) -> t", "tensor filled with value" },
        { "bitttt.empty", "bitttt.empty(shape [, dtype [, device]]) -> t", "new (zeroed) tensor" },
        { "bitttt.from_bytes", "bitttt.from_bytes(bytes, dtype, shape) -> t", "a tensor holding a copy of raw little-endian bytes" },
        { "bitttt.is_tensor", "bitttt.is_tensor(v) -> bool", "whether v is a tensor" },
        { "bitttt.bytes_allocated", "bitttt.bytes_allocated() -> bytes", "memory held by tensors now (all devices' host side)" },
        { "tensor:shape", "t:shape() -> {d1, ...}", "sizes (also t:size(dim), t:dim(), t:numel(), t:nbytes(), t:stride(), #t)",
          also = { "tensor:size", "tensor:dim", "tensor:numel", "tensor:nbytes", "tensor:stride" } },
        { "tensor:dtype", "t:dtype() -> name", "f32 f16 bf16 f64 i8 u8 i32 q8_0 q6_k tq2_0 tq1_0 i2_s; t:is_contiguous()",
          also = { "tensor:is_contiguous" } },
        { "tensor:device", "t:device() -> name", "\"cpu\" or \"cuda:N\"; t:to(device [, dtype]) copies", also = { "tensor:to" } },
        { "tensor:get", "t[{i, j}], t:get{i, j}, t:set({i, j}, v)", "one element (1-based); t[i] is row i (a view)",
          also = { "tensor:set" } },
        { "tensor:reshape", "t:reshape(shape) / t:view(shape)", "same data, new shape (-1: inferred)", also = { "tensor:view" } },
        { "tensor:narrow", "t:narrow(dim, start, length)", "view of a slice; t:select(dim, i), t:transpose(d1, d2) (1-based)",
          also = { "tensor:select", "tensor:transpose" } },
        { "tensor:fill", "t:fill(v), t:copy(src), t:clone()", "in-place fill, copy from src, new copy",
          also = { "tensor:copy", "tensor:clone" } },
        { "tensor:normal_", "t:normal_(seed, std [, mean])", "fills t in place with normal random values (synthetic weights)" },
        { "tensor:totable", "t:totable() -> nested table", "the values as Lua numbers; t:tobytes() the raw bytes",
          also = { "tensor:tobytes" } },
        { "tensor:ptr", "t:ptr() -> FFI pointer", "zero-copy access to CPU data (LuaJIT); t:data_ptr() is the raw address",
          also = { "tensor:data_ptr" } },
        { "tensor:free", "t:free()", "releases the memory now (else the collector does)" },
    } },
    { name = "model", title = "Models (require \"bitttt.model\")", entries = {
        { "model.load", "Model.load(path [, {tokenizer = file, max_batch = 64, n_gpu_layers = N|\"auto\", n_ctx = N, kv_type = \"f16\"}]) -> model",
          "opens a GGUF file, safetensors folder or llama2.c .bin; bitttt.default_model is the bundled one;\n" ..
          "kv_type: what KV caches hold, f16 (default), f32 or q8_0; head = \"q8_0\"|\"q6_k\" quantizes a float output head" },
        { "model.head_types", "Model.head_types[kind](w) -> q; Model.check_head_type(kind) -> nil | message",
          "the output head types of opts.head / --head (q8_0, q6_k), each with its quantizer", also = { "model.check_head_type" } },
        { "model:generate", "model:generate(prompt [, {n = 64, on_text = f, stop = text, temp =, seed =, ...}]) -> text, result",
          "text from a prompt with the model's recommended sampling (see :help generate)" },
        { "model:new_session", "model:new_session{ n_ctx = N, kv_type = T } -> session",
          "a sequence's own state (KV cache, TTT fast weights); refused when it would not fit in memory" },
        { "model:keeps_cache", "model:keeps_cache() -> bool", "whether some layer keeps a cache that grows with the context (attention's KV cache)" },
        { "model:default_context", "model:default_context() -> n",
          "the context a session gets without n_ctx: min(file, 4096) with attention, math.huge (no limit) without" },
        { "model.tokenizer", "model.tokenizer", "the model's tokenizer: tok:encode(text, {bos = true}), tok:decode(ids), tok:eos()" },
        { "model:state_bytes", "model:state_bytes(n_ctx) -> bytes", "per-session state size at that context" },
        { "model:place", "model:place{ n_gpu_layers = N|\"auto\", n_ctx =, device =, reserve = } -> plan",
          "puts layers on a GPU (Model.load does it for n_gpu_layers)" },
        { "model:fingerprint", "model:fingerprint() -> hex", "a hash of the weights (state files check it)" },
        { "model.cfg", "model.cfg, model.meta, model.arch", "sizes, file metadata, architecture name" },
        { "model.hf_meta", "Model.hf_meta(file, path) / Model.llama2c_meta(cfg) -> meta",
          "GGUF-style metadata for a safetensors folder's config.json / a llama2.c header", also = { "model.llama2c_meta" } },
        { "bitttt.model_open", "bitttt.model_open(path) -> file", "a model file: f:format(), f:tensor(name), f:tensor_names(), f:config()" },
        { "bitttt.gguf_meta", "bitttt.gguf_meta(path) -> {key = value}; bitttt.gguf_tensors(path) -> {{name, type, shape, ...}}",
          "a GGUF file's metadata and tensor list", also = { "bitttt.gguf_tensors" } },
        { "bitttt.gguf_write", "bitttt.gguf_write(path, meta, tensors)", "writes a GGUF file (converters, quantize)" },
        { "bitttt.safetensors_load", "bitttt.safetensors_load(path) -> tensors, meta, names; bitttt.safetensors_save(path, {{name, t}}, meta)",
          "safetensors files (session states)", also = { "bitttt.safetensors_save" } },
        { "bitttt.hash64", "bitttt.hash64(prev, string_or_tensor [, max_bytes]) -> hex", "64-bit FNV-1a (model fingerprints)" },
    } },
    { name = "session", title = "Sessions (model:new_session)", entries = {
        { "session:generate", "session:generate([prompt,] {n =, on_text =, ...}) -> text, result",
          "continues the session with the model's recommended sampling (see :help generate)" },
        { "session:forward", "session:forward(ids [, want]) -> logits",
          "feeds token ids; want = \"last\" (a [vocab] row), \"all\" (a row per token) or \"none\"" },
        { "session:step", "session:step{ sampler =, budget_ms =, history = } -> id or nil",
          "one token within a time budget (game loops): nil while the token is still in progress" },
        { "session:reset", "session:reset()", "back to position 0, state cleared" },
        { "session.pos", "session.pos, session.n_ctx", "tokens fed so far, context size (math.huge: no limit)" },
        { "session:context_text", "session:context_text() -> text", "the context size for people: \"unlimited\" or the number" },
        { "session:rewindable", "session:rewindable() -> bool",
          "true when a failed forward moves the session back (KV caches only); else it is unusable until reset()" },
    } },
    { name = "tokenizer", title = "Tokenizers (model.tokenizer, bitttt.tokenizer_open)", entries = {
        { "bitttt.tokenizer_open", "bitttt.tokenizer_open(path [, vocab_size]) -> tok", "a GGUF file's vocabulary or a llama2.c tokenizer.bin" },
        { "tokenizer:encode", "tok:encode(text [, {bos =, eos =, special =}]) -> {ids}", "token ids (0-based); special: match <|...|> names" },
        { "tokenizer:decode", "tok:decode(ids [, {special =}]) -> text", "the text of token ids" },
        { "tokenizer:piece", "tok:piece(id), tok:text(id), tok:score(id), tok:type(id)",
          "a token's bytes, its spelling in the vocabulary, its score, its kind", also = { "tokenizer:text", "tokenizer:score", "tokenizer:type" } },
        { "tokenizer:bos", "tok:bos(), tok:eos(), tok:add_bos(), tok:add_eos(), tok:vocab_size()",
          "special ids and whether encode adds them by default", also = { "tokenizer:eos", "tokenizer:add_bos", "tokenizer:add_eos", "tokenizer:vocab_size" } },
        { "tokenizer:stream", "tok:stream([{special =}]) -> s; s:push(id) -> text; s:flush() -> text", "decoding token by token (whole UTF-8 characters)" },
        { "tokenizer:free", "tok:free()", "releases the vocabulary now" },
    } },
    { name = "generate", title = "Generation (model:generate, session:generate; require \"bitttt.generation\")", entries = {
        { "generate", "model:generate(prompt, {n = 64, on_text = f}) -> text, result",
          "samples with the model's recommended settings (GGUF general.sampling.*) unless temp, top_k, top_p, min_p,\n" ..
          "repeat_penalty, ..., seed or sampler are given; n = -1 runs to the end of text; stop = text or {texts};\n" ..
          "on_text(piece) streams, returning false stops; Ctrl-C stops; result.stopped says why. Example:\n" ..
          "  m = require('bitttt.model').load(bitttt.default_model)\n" ..
          "  m:generate('Once upon a time', {n = 50, on_text = io.write})\n" ..
          "  s = m:new_session{}; s:generate{prompt = 'The', n = 20}; s:generate{n = 20}   -- goes on" },
        { "generation.run", "Generation.run{ session =, sampler =, tokenizer =, prompt_ids =, n_predict =, on_text =, stop_at =, stops = }",
          "the token loop under generate: your own sampler and stop tokens" },
        { "generation.generate", "Generation.generate(session, [prompt,] opts)", "what session:generate calls" },
    } },
    { name = "sampling", alias = "sampler", title = "Sampling (require \"bitttt.sampling\")", entries = {
        { "sampling.new", "Sampler.new{ temp, top_k, top_p, min_p, repeat_penalty, repeat_last_n, frequency_penalty, presence_penalty, seed }",
          "a sampler (llama.cpp's order: penalties, top-k, top-p, min-p, temperature); temp = 0 is greedy" },
        { "sampler:sample", "sampler:sample(logits_row, history) -> id", "picks the next token id from a [vocab] f32 row" },
        { "sampler:penalties", "sampler:penalties(read, history) -> {id = logit}", "the repetition penalties' adjusted logits" },
        { "sampling.model_defaults", "Sampler.model_defaults(meta [, source]) -> opts", "what a model file recommends (general.sampling.*)" },
        { "sampling.choose", "Sampler.choose(given, recommended [, fallback]) -> opts", "given options over the model's over fallback" },
    } },
    { name = "schedules", title = "TTT learning-rate schedules (require \"bitttt.schedules\")", entries = {
        { "schedules.constant", "S.constant(m)", "multiplier m everywhere (0 freezes learning)" },
        { "schedules.linear_warmup", "S.linear_warmup(n [, from])", "from -> 1 over the first n positions" },
        { "schedules.cosine", "S.cosine(n [, min])", "1 -> min over n positions" },
        { "schedules.inverse_sqrt", "S.inverse_sqrt(n)", "1, then sqrt(n / (position + 1))" },
        { "schedules.piecewise", "S.piecewise({{pos, m}, ...})", "piecewise linear" },
        { "schedules.per_layer", "S.per_layer(default, {[layer] = schedule})", "per-layer overrides" },
        { "schedules.parse", "S.parse(\"cosine:4096,0.1\")", "a schedule from text (what --ttt-schedule takes)" },
        { "schedules.fill", "S.fill(out, schedule, m, pos0, layer [, step_of])", "a schedule's multipliers for m positions" },
    } },
    { name = "ttt", title = "Test-time training state (session methods)", entries = {
        { "session:learn", "session:learn(text_or_ids)", "reads input to adapt the fast weights, no output" },
        { "session:set_ttt_lr", "session:set_ttt_lr(lr)", "inner base learning rate (nil: the model's)" },
        { "session:set_schedule", "session:set_schedule(schedule)", "a schedule function or text (see :help schedules)" },
        { "session:snapshot", "session:snapshot() -> snap; session:restore(snap)", "in-memory copy of the state and back",
          also = { "session:restore" } },
        { "session:fork", "session:fork() -> session", "a new session continuing from this state" },
        { "session:save_state", "session:save_state(path); session:load_state(path)", "state files (safetensors + model fingerprint)",
          also = { "session:load_state" } },
    } },
    { name = "chat", title = "Chat (require \"bitttt.chat_templates\", \"bitttt.chat\")", entries = {
        { "chat_templates.prompt", "T.prompt(model, {{role =, content =}, ...} [, {template = name}]) -> {ids, text, stop_ids, stops, template}",
          "a conversation laid out for the model (its template, else plain User:/Assistant: turns)" },
        { "chat_templates.for_model", "T.for_model(model [, name]) -> template, notice", "the template a model gets; T.get(name), T.detect(jinja)",
          also = { "chat_templates.get", "chat_templates.detect" } },
        { "chat_templates.pieces", "T.pieces(template, messages [, {open = false}]) -> pieces; T.encode(tok, pieces, bos) -> ids",
          "the conversation as template and message pieces, and their token ids", also = { "chat_templates.encode" } },
        { "chat_templates.stop_rules", "T.stop_rules(tok, template) -> stop_at, stops; T.end_token(tok, template); T.wants_bos(tok, template)",
          "where an answer ends, the end-of-turn token, whether BOS opens", also = { "chat_templates.end_token", "chat_templates.wants_bos" } },
        { "chat.new", "Chat.new{ model =, session =, sampler =, template = [, system =, stops =, n_predict =, ignore_eos =] } -> chat",
          "a conversation that keeps its session between turns (what chat.lua runs)" },
        { "chat:say", "chat:say(text [, on_text]) -> answer, result", "one turn: the message in, the streamed answer out" },
        { "chat:reset", "chat:reset(); chat:used() -> tokens, n_ctx", "a new conversation; the context in use", also = { "chat:used" } },
        { "chat:save", "chat:save(path); chat:load(path); Chat.read_transcript(path)", "conversations as text transcripts",
          also = { "chat:load", "chat.read_transcript" } },
        { "chat:encode", "chat:encode(messages, open, bos) -> ids", "messages in the chat's template as token ids" },
    } },
    { name = "ops", title = "Layer operations (bitttt.op_*: the model graphs' building blocks; out is written)", entries = {
        { "bitttt.op_linear", "bitttt.op_linear(out, w, x [, act_quant]); bitttt.op_linear_group({out...}, {w...}, x)",
          "out = x w^T ([m, k] x [n, k] -> [m, n]); ternary, float, q8_0 or q6_k weights", also = { "bitttt.op_linear_group" } },
        { "bitttt.op_rmsnorm", "bitttt.op_rmsnorm(out, x, w, eps); bitttt.op_layernorm(out, x, w, b, eps)", "row norms",
          also = { "bitttt.op_layernorm" } },
        { "bitttt.op_rope", "bitttt.op_rope(x, pos, n_heads, head_dim, rot_dim, theta, \"interleaved\"|\"neox\")", "rotary positions, in place" },
        { "bitttt.op_attention", "bitttt.op_attention(out, q, k, v, k_cache, v_cache, pos0, n_head, scale)", "causal attention over a KV cache" },
        { "bitttt.op_gated", "bitttt.op_gated(out, gate, up, act); bitttt.op_activate(out, x, act)", "act(gate) * up; act(x) (silu, relu2)",
          also = { "bitttt.op_activate" } },
        { "bitttt.op_add", "bitttt.op_add(out, a, b); op_mul(out, a, b); op_scale(out, x, s)", "elementwise",
          also = { "bitttt.op_mul", "bitttt.op_scale" } },
        { "bitttt.op_get_rows", "bitttt.op_get_rows(out, table, ids)", "embedding lookup (0-based ids)" },
        { "bitttt.op_ttt_linear", "bitttt.op_ttt_linear(out, W, grads, xq, xk, xv, eta, token_scale, ln_w, ln_b, eps, pos0, scratch [, form])",
          "the TTT-Linear inner loop; bitttt.ttt_linear_scratch_floats(max_tok, n_head, head_dim) sizes its scratch",
          also = { "bitttt.ttt_linear_scratch_floats" } },
        { "bitttt.op_ttt_mlp", "bitttt.op_ttt_mlp(out, W, grads, xq, xk, xv, eta, token_scale, ln_w, ln_b, eps, pos0, hidden, scratch [, form])",
          "the TTT-MLP inner loop (per head a two-layer GELU MLP as fast weights); bitttt.ttt_mlp_scratch_floats(max_tok, n_head, head_dim, hidden) sizes its scratch",
          also = { "bitttt.ttt_mlp_scratch_floats" } },
        { "bitttt.op_gelu_gate", "bitttt.op_gelu_gate(x, gate)", "x *= gelu(gate) in place (tanh approximation; TTT use_gate)" },
        { "bitttt.op_ttt_eta", "bitttt.op_ttt_eta(eta, bias, mult, scale); bitttt.op_fastweight(p, W, k, eta)",
          "TTT learning rates per token; a fast-weight update", also = { "bitttt.op_fastweight" } },
        { "bitttt.op_causal_conv", "bitttt.op_causal_conv(x, history, w, bias)", "a causal depthwise convolution over positions" },
        { "bitttt.ternary_quantize", "bitttt.ternary_quantize(w) -> wq, scale; ternary_pack(w, fmt); ternary_dequantize(w)",
          "BitNet absmean quantization, packing to tq2_0/tq1_0 and back", also = { "bitttt.ternary_pack", "bitttt.ternary_dequantize" } },
        { "bitttt.ternary_random", "bitttt.ternary_random({n, k}, fmt, seed, scale) -> w", "random packed ternary weights (synthetic models)" },
        { "bitttt.quantize_q8_0", "bitttt.quantize_q8_0(w) -> q",
          "a 2-d f32/f16/bf16 matrix (rows a multiple of 32) as q8_0, llama.cpp's layout and rounding (output heads)" },
        { "bitttt.quantize_q6_k", "bitttt.quantize_q6_k(w) -> q",
          "a 2-d f32/f16/bf16 matrix (rows a multiple of 256) as q6_k, llama.cpp's layout and rule (output heads)" },
        { "bitttt.ternary_from_hf", "bitttt.ternary_from_hf(packed, scale, rule) -> w; bitttt.ternary_to_hf(w) -> packed, s",
          "Hugging Face packed BitNet weights", also = { "bitttt.ternary_to_hf" } },
    } },
    { name = "devices", title = "Devices and placement", entries = {
        { "bitttt.device_info", "bitttt.device_info([device]) -> {compiled, devices, available, name, free, total}", "CUDA devices" },
        { "bitttt.place_plan", "bitttt.place_plan{ layers =, head =, free =, n_gpu_layers = } -> plan", "which layers fit on the GPU" },
        { "bitttt.place_weight", "bitttt.place_weight(w, device) -> w; bitttt.placed_bytes(w, device) -> bytes",
          "a weight on a device in its kernels' layout", also = { "bitttt.placed_bytes" } },
        { "bitttt.linear_unsupported", "bitttt.linear_unsupported(w, act_quant, device); attention_unsupported(...)",
          "nil, or why the op cannot run on the device", also = { "bitttt.attention_unsupported" } },
        { "bitttt.op_scratch_bytes", "bitttt.op_scratch_bytes(device, rows, k, n_head, head_dim, ctx) -> bytes", "the ops' device scratch" },
    } },
    { name = "repl", title = "The REPL and the runtime", entries = {
        { ":help", ":help [topic or name]", "this help; help(obj) for an object or function" },
        { ":quit", ":quit (or Ctrl-D)", "leaves; history is kept in $XDG_STATE_HOME/bitttt/history" },
        { "keys", "Tab, Up/Down, Ctrl-A/E/K/U/W, Ctrl-C", "completion, history, editing; Ctrl-C clears the line or stops running code" },
        { "bitttt.info", "bitttt.info()", "version, SIMD level, CUDA devices, threads" },
        { "bitttt.set_threads", "bitttt.set_threads(n); bitttt.get_threads()", "CPU threads for the kernels", also = { "bitttt.get_threads" } },
        { "bitttt.set_simd", "bitttt.set_simd(\"scalar\"|\"avx2\"|\"avx512\")", "caps the SIMD level (tests, benchmarks)" },
        { "bitttt.clock", "bitttt.clock() -> seconds; bitttt.peak_rss() -> bytes", "a monotonic clock; the process's peak memory",
          also = { "bitttt.peak_rss" } },
        { "bitttt.read_all", "bitttt.read_all(t) -> checksum", "reads a tensor's bytes once (page-in for benchmarks)" },
        { "bitttt.memory_available", "bitttt.memory_available() -> bytes", "memory this machine can still give (sessions are refused past it)" },
        { "bitttt.first_non_finite", "bitttt.first_non_finite(t) -> index | nil", "the 1-based index of the first NaN or infinity of an f32 CPU tensor (the logits check)" },
        { "bitttt.suggest_threads", "bitttt.suggest_threads(n) -> threads in force", "the thread count to use unless the user chose one (-t, set_threads, BITTTT_THREADS); model loading suggests one from the layer sizes" },
        { "bitttt.path_kind", "bitttt.path_kind(path) -> kind | nil, message", "\"file\", \"directory\", \"fifo\", ... (links followed), asked before opening since a FIFO would block" },
        { "bitttt.prepare_weight", "bitttt.prepare_weight(w)", "prepares a ternary weight's kernel layout once (model loading does it; a second call changes nothing)" },
        { "bitttt.weight_prepared", "bitttt.weight_prepared(w) -> boolean", "whether w already carries its prepared kernel layout" },
    } },
}

-- Functions of the walked tables that are implementation details, with why.
Help.internal = {
    ["model:new"] = "Decoder.new: architectures (lua/bitttt/models/*.lua) build models with it",
    ["model:scratch_widths"] = "sizes of a session's buffers",
    ["session:forward_chunk"] = "one batch of session:forward",
    ["session:forward_chunks"] = "the chunked body of session:forward (its caller restores the session on failure)",
    ["session:grow_buffers"] = "grows a session's batch buffers to the longest chunk fed",
    ["session:views_for"] = "cached buffer views of session:forward",
    ["generation.arguments"] = "argument handling of generate",
    ["generation.fail"] = "error reporting of generate",
}

--- The tables whose functions have entries, by the owner part of entry names; `sep` is
-- the separator entries use (":" methods, "." functions).
function Help.owners()
    local bt = require "bitttt"
    local Decoder = require "bitttt.decoder"
    local tokenizer_mt = debug.getregistry()["bitttt.tokenizer"]
    local Chat = require "bitttt.chat"
    return {
        { "bitttt", ".", bt },
        { "tensor", ":", bt.tensor_methods },
        { "model", ".", require "bitttt.model" },
        { "model", ":", Decoder },
        { "session", ":", Decoder.Session },
        { "tokenizer", ":", tokenizer_mt and tokenizer_mt.__index or {} },
        { "sampling", ".", require "bitttt.sampling" },
        { "sampler", ":", require "bitttt.sampling" },
        { "schedules", ".", require "bitttt.schedules" },
        { "generation", ".", require "bitttt.generation" },
        { "chat_templates", ".", require "bitttt.chat_templates" },
        { "chat", ".", Chat },
        { "chat", ":", Chat },
    }
end

-- Entry names -> the function they name.
local function resolve(name)
    local owner, sep, field = name:match("^([%w_]+)([%.:])([%w_]+)$")
    if not owner then return nil end
    for _, o in ipairs(Help.owners()) do
        if o[1] == owner and o[2] == sep and type(o[3][field]) == "function" then return o[3][field] end
    end
end

-- A topic by name; "tensors" finds "tensor".
local function find_topic(name)
    for _, topic in ipairs(Help.topics) do
        if topic.name == name or topic.name .. "s" == name or topic.alias == name then return topic end
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

-- Where each function's help entry is: function value -> entry.
local function entry_of_function(fn)
    for _, topic in ipairs(Help.topics) do
        for _, e in ipairs(topic.entries) do
            if resolve(e[1]) == fn then return entry_text(e) end
            for _, other in ipairs(e.also or {}) do
                if resolve(other) == fn then return entry_text(e) end
            end
        end
    end
end

--- The functions the entries name ({ fn = entry name }) and those Help.internal names.
function Help.documented()
    local documented, internal = {}, {}
    for _, topic in ipairs(Help.topics) do
        for _, e in ipairs(topic.entries) do
            for _, name in ipairs({ e[1], unpack(e.also or {}) }) do
                local fn = resolve(name)
                if fn then documented[fn] = name end
            end
        end
    end
    for name in pairs(Help.internal) do
        local fn = resolve(name)
        if fn then internal[fn] = name end
    end
    return documented, internal
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
    if topic then
        local mt = getmetatable(what)
        local this = type(mt) == "table" and mt.__tostring and tostring(what)
        return (this and ("This is " .. this .. ".\n") or "") .. topic_text(topic)
    end
    return ("a %s value; :help lists the topics"):format(kind or type(what))
end

return Help
