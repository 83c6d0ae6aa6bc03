-- ttt_fixtures.lua - shared by the TTT specs (spec/ttt*_spec.lua): random
-- tensors, small random TTT models built in memory, `bitttt` GGUF files written
-- on the fly (random, or converted from the ttt-lm-pytorch reference checkpoint),
-- and comparisons.
local bt = require "bitttt"
local Decoder = require "bitttt.decoder"
local Rng = require "bitttt.rng"
local TTTLinear = require "bitttt.mixers.ttt_linear"

local F = {}

--- A tensor of the shape with values uniform in [lo, hi) from rng.
function F.uniform(rng, shape, lo, hi)
    local t = bt.zeros(shape)
    local p, n = t:ptr(), t:numel()
    for i = 0, n - 1 do p[i] = lo + (hi - lo) * rng:next() end
    return t
end

--- Random ternary values {-1, 0, 1} * scale (float weights a BitLinear can take).
function F.ternary(rng, shape, scale)
    local t = bt.zeros(shape)
    local p, n = t:ptr(), t:numel()
    for i = 0, n - 1 do p[i] = (math.floor(rng:next() * 3) - 1) * scale end
    return t
end

--- max |a - b| over two tensors of the same element count.
function F.max_abs_diff(a, b)
    assert(a:numel() == b:numel(), ("element counts differ: %d vs %d"):format(a:numel(), b:numel()))
    a = a:is_contiguous() and a or a:clone()
    b = b:is_contiguous() and b or b:clone()
    local pa, pb = a:ptr(), b:ptr()
    local m = 0
    for i = 0, a:numel() - 1 do m = math.max(m, math.abs(pa[i] - pb[i])) end
    return m
end

--- Rows of logits (a Lua array of [vocab] tensors) as one [n, vocab] tensor.
function F.stack(rows)
    local n, v = #rows, rows[1]:numel()
    local t = bt.zeros({ n, v })
    for i, r in ipairs(rows) do t[i]:copy(r) end
    return t
end

--- A little-endian f32 file as a 1-d tensor.
function F.read_f32(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("*a")
    f:close()
    return bt.from_bytes(s, "f32", { #s / 4 })
end

function F.write_file(path, text)
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
end

--- The ids of the reference run (0-based token ids).
function F.read_ids(path)
    local f = assert(io.open(path, "rb"))
    local ids = {}
    for w in f:read("*a"):gmatch("%d+") do ids[#ids + 1] = tonumber(w) end
    f:close()
    return ids
end

--- A random TTT-Linear decoder in memory (every layer TTT-Linear, float weights).
-- o: d, n_head, mini_batch, n_layer, n_vocab, n_ff, seed, base_lr
function F.random_ttt_model(o)
    local rng = Rng.new(o.seed or 1)
    local d, H, B = o.d or 24, o.n_head or 3, o.mini_batch or 4
    local hd, n_ff, n_vocab = d / H, o.n_ff or 2 * d, o.n_vocab or 37
    local s = 1 / math.sqrt(d)
    local function norm_weight(n) return F.uniform(rng, { n }, 0.8, 1.2) end
    local w = {
        tok_embd = F.uniform(rng, { n_vocab, d }, -1, 1),
        output_norm = norm_weight(d),
        output = F.uniform(rng, { n_vocab, d }, -s, s),
        layers = {},
    }
    for l = 1, o.n_layer or 2 do
        w.layers[l] = {
            attn_norm = norm_weight(d), ffn_norm = norm_weight(d),
            ffn_gate = F.uniform(rng, { n_ff, d }, -s, s), ffn_up = F.uniform(rng, { n_ff, d }, -s, s),
            ffn_down = F.uniform(rng, { d, n_ff }, -s, s),
            mixer = TTTLinear.new {
                wq = F.uniform(rng, { d, d }, -s, s), wk = F.uniform(rng, { d, d }, -s, s),
                wv = F.uniform(rng, { d, d }, -s, s), wo = F.uniform(rng, { d, d }, -s, s),
                lr_weight = F.uniform(rng, { H, d }, -0.3, 0.3), lr_bias = F.uniform(rng, { H }, -0.5, 0.5),
                token_idx = F.uniform(rng, { B }, -0.05, 0.05),
                ln_weight = F.uniform(rng, { H, hd }, 0.7, 1.3), ln_bias = F.uniform(rng, { H, hd }, -0.2, 0.2),
                post_weight = norm_weight(d), post_bias = F.uniform(rng, { d }, -0.1, 0.1),
                W1 = F.uniform(rng, { H, hd, hd }, -0.2, 0.2), b1 = F.uniform(rng, { H, hd }, -0.1, 0.1),
                n_head = H, head_dim = hd, mini_batch = B, base_lr = o.base_lr or 1.0, rope_theta = 10000,
            },
        }
    end
    return Decoder.new({ n_embd = d, n_vocab = n_vocab, n_ctx_train = 256, rms_eps = 1e-6, ffn_act = "silu",
        n_ff = n_ff, max_batch = o.max_batch or 64 }, w)
end

-- 259-token byte vocabulary (<unk> <s> </s> and the 256 bytes), llama SPM style.
local function byte_vocab_meta()
    local tokens, scores, types = { "<unk>", "<s>", "</s>" }, { 0, 0, 0 }, { 2, 3, 3 }
    for b = 0, 255 do
        tokens[#tokens + 1] = ("<0x%02X>"):format(b)
        scores[#scores + 1] = 0
        types[#types + 1] = 6
    end
    return {
        { "tokenizer.ggml.model", "str", "llama" },
        { "tokenizer.ggml.tokens", "[str]", tokens },
        { "tokenizer.ggml.scores", "[f32]", scores },
        { "tokenizer.ggml.token_type", "[i32]", types },
        { "tokenizer.ggml.bos_token_id", "u32", 1 },
        { "tokenizer.ggml.eos_token_id", "u32", 2 },
        { "tokenizer.ggml.unknown_token_id", "u32", 0 },
    }
end

--- Writes a random `bitttt` GGUF (ternary-valued f32 projections, byte vocabulary).
-- o: path, mixers (array of kinds), d, n_head, mini_batch, n_ff, seed, conv_kernel (TTT q/k convs; default none),
-- forget (TTT forgetting; default none), layer_forget (an array: each TTT-Linear layer's own
-- forgetting, as the tensor blk.N.ttt_forget), pre_conv_kernel, share_qk, use_gate (TTT options; default off),
-- meta (further { key, type, value } entries)
function F.write_random_bitttt(o)
    local rng = Rng.new(o.seed or 7)
    local d, H, B, n_ff, n_vocab = o.d or 32, o.n_head or 4, o.mini_batch or 4, o.n_ff or 64, 259
    local hd, ds = d / H, d / 4
    local s = 1 / math.sqrt(d)
    local meta = {
        { "general.architecture", "str", "bitttt" },
        { "bitttt.embedding_length", "u32", d }, { "bitttt.block_count", "u32", #o.mixers },
        { "bitttt.feed_forward_length", "u32", n_ff }, { "bitttt.context_length", "u32", 256 },
        { "bitttt.attention.head_count", "u32", H }, { "bitttt.attention.layer_norm_rms_epsilon", "f32", 1e-5 },
        { "bitttt.mixers", "[str]", o.mixers }, { "bitttt.ttt.mini_batch_size", "u32", B },
        { "bitttt.ttt.base_lr", "f32", 1.0 }, { "bitttt.fastweight.inner_lr", "f32", 0.5 },
    }
    local K = o.conv_kernel or 0
    if K > 0 then meta[#meta + 1] = { "bitttt.ttt.conv_kernel", "u32", K } end
    if o.forget then meta[#meta + 1] = { "bitttt.ttt.forget", "f32", o.forget } end
    local KP = o.pre_conv_kernel or 0
    if KP > 0 then meta[#meta + 1] = { "bitttt.ttt.pre_conv_kernel", "u32", KP } end
    if o.share_qk then meta[#meta + 1] = { "bitttt.ttt.share_qk", "bool", true } end
    if o.use_gate then meta[#meta + 1] = { "bitttt.ttt.use_gate", "bool", true } end
    for _, m in ipairs(o.meta or {}) do meta[#meta + 1] = m end
    for _, m in ipairs(byte_vocab_meta()) do meta[#meta + 1] = m end
    local tensors = {
        { "token_embd.weight", F.uniform(rng, { n_vocab, d }, -1, 1) },
        { "output_norm.weight", bt.full({ d }, 1) },
    }
    local function add(name, t) tensors[#tensors + 1] = { name, t } end
    for l, kind in ipairs(o.mixers) do
        local p = "blk." .. (l - 1) .. "."
        add(p .. "attn_norm.weight", bt.full({ d }, 1))
        add(p .. "ffn_norm.weight", bt.full({ d }, 1))
        add(p .. "ffn_gate.weight", F.ternary(rng, { n_ff, d }, s))
        add(p .. "ffn_up.weight", F.ternary(rng, { n_ff, d }, s))
        add(p .. "ffn_down.weight", F.ternary(rng, { d, n_ff }, 1 / math.sqrt(n_ff)))
        if kind == "attention" then
            for _, n in ipairs({ "attn_q", "attn_k", "attn_v", "attn_output" }) do
                add(p .. n .. ".weight", F.ternary(rng, { d, d }, s))
            end
        elseif kind == "ttt_linear" or kind == "ttt_mlp" then
            for _, n in ipairs({ "ttt_q", "ttt_k", "ttt_v", "ttt_output", "ttt_gate" }) do
                if (n ~= "ttt_k" or not o.share_qk) and (n ~= "ttt_gate" or o.use_gate) then
                    add(p .. n .. ".weight", F.ternary(rng, { d, d }, s))
                end
            end
            add(p .. "ttt_lr.weight", F.uniform(rng, { H, d }, -0.3, 0.3))
            add(p .. "ttt_lr.bias", F.uniform(rng, { H }, -0.5, 0.5))
            add(p .. "ttt_token_idx", F.uniform(rng, { B }, -0.05, 0.05))
            add(p .. "ttt_norm.weight", F.uniform(rng, { H, hd }, 0.7, 1.3))
            add(p .. "ttt_norm.bias", F.uniform(rng, { H, hd }, -0.2, 0.2))
            add(p .. "ttt_post_norm.weight", bt.full({ d }, 1))
            add(p .. "ttt_post_norm.bias", bt.zeros({ d }))
            local hidden = kind == "ttt_mlp" and 4 * hd or hd
            add(p .. "ttt_w1", F.uniform(rng, { H, hd, hidden }, -0.2, 0.2))
            add(p .. "ttt_b1", F.uniform(rng, { H, hidden }, -0.1, 0.1))
            if kind == "ttt_mlp" then
                add(p .. "ttt_w2", F.uniform(rng, { H, hidden, hd }, -0.2, 0.2))
                add(p .. "ttt_b2", F.uniform(rng, { H, hd }, -0.1, 0.1))
            end
            if o.layer_forget then add(p .. "ttt_forget", bt.full({ 1 }, o.layer_forget[l])) end
            for _, n in ipairs(K > 0 and { "ttt_q_conv", "ttt_k_conv" } or {}) do
                add(p .. n .. ".weight", F.uniform(rng, { K, d }, -0.8, 0.8))
                add(p .. n .. ".bias", F.uniform(rng, { d }, -0.2, 0.2))
            end
            if KP > 0 then
                add(p .. "ttt_pre_conv_norm.weight", F.uniform(rng, { d }, 0.8, 1.2))
                add(p .. "ttt_pre_conv.weight", F.uniform(rng, { KP, d }, -0.5, 0.5))
                add(p .. "ttt_pre_conv.bias", F.uniform(rng, { d }, -0.1, 0.1))
            end
        elseif kind == "fastweight" then
            add(p .. "fw_down.weight", F.ternary(rng, { ds, d }, s))
            add(p .. "fw_up.weight", F.ternary(rng, { d, ds }, 2 / math.sqrt(ds)))
        end
    end
    bt.gguf_write(o.path, meta, tensors)
end

--- Converts a ttt-lm-pytorch folder (TTTForCausalLM: TTT-Linear or TTT-MLP, with any of
-- pre_conv, share_qk, use_gate, tied or not) to a float `bitttt` GGUF with
-- activation_quant = false (so it must give the reference's logits).
function F.convert_reference_to_bitttt(ref_dir, path)
    local file = bt.model_open(ref_dir)
    local cfg = file:config()
    local d, H, L = cfg.hidden_size, cfg.num_attention_heads, cfg.num_hidden_layers
    local hd, K = d / H, cfg.conv_kernel or 4
    local kind = cfg.ttt_layer_type == "mlp" and "ttt_mlp" or "ttt_linear"
    local mixers = {}
    for l = 1, L do mixers[l] = kind end
    local meta = {
        { "general.architecture", "str", "bitttt" },
        { "bitttt.embedding_length", "u32", d }, { "bitttt.block_count", "u32", L },
        { "bitttt.feed_forward_length", "u32", cfg.intermediate_size },
        { "bitttt.context_length", "u32", cfg.max_position_embeddings },
        { "bitttt.attention.head_count", "u32", H },
        { "bitttt.attention.layer_norm_rms_epsilon", "f32", cfg.rms_norm_eps },
        { "bitttt.mixers", "[str]", mixers }, { "bitttt.activation_quant", "bool", false },
        { "bitttt.ttt.mini_batch_size", "u32", cfg.mini_batch_size },
        { "bitttt.ttt.base_lr", "f32", cfg.ttt_base_lr }, { "bitttt.ttt.rope.freq_base", "f32", cfg.rope_theta },
    }
    if cfg.share_qk then
        meta[#meta + 1] = { "bitttt.ttt.share_qk", "bool", true }
        meta[#meta + 1] = { "bitttt.ttt.conv_kernel", "u32", K }
    end
    if cfg.use_gate then meta[#meta + 1] = { "bitttt.ttt.use_gate", "bool", true } end
    if cfg.pre_conv then meta[#meta + 1] = { "bitttt.ttt.pre_conv_kernel", "u32", K } end
    local function t(name, shape)
        local x = file:tensor(name):clone()
        return shape and x:reshape(shape) or x
    end
    -- nn.Conv1d [C, 1, K] -> [K, C]
    local function conv(name) return file:tensor(name):reshape({ d, K }):transpose(1, 2):clone() end
    local tensors = {
        { "token_embd.weight", t("model.embed_tokens.weight") },
        { "output_norm.weight", t("model.norm.weight") },
    }
    if not cfg.tie_word_embeddings then tensors[#tensors + 1] = { "output.weight", t("lm_head.weight") } end
    for l = 0, L - 1 do
        local p, q = "blk." .. l .. ".", "model.layers." .. l .. "."
        local b = q .. "seq_modeling_block."
        local pairs_ = {
            { "attn_norm.weight", q .. "seq_norm.weight" }, { "ffn_norm.weight", q .. "ffn_norm.weight" },
            { "ffn_gate.weight", q .. "mlp.gate_proj.weight" }, { "ffn_up.weight", q .. "mlp.up_proj.weight" },
            { "ffn_down.weight", q .. "mlp.down_proj.weight" },
            { "ttt_q.weight", b .. "q_proj.weight" },
            { "ttt_v.weight", b .. "v_proj.weight" }, { "ttt_output.weight", b .. "o_proj.weight" },
            { "ttt_lr.weight", b .. "learnable_ttt_lr_weight", { H, d } },
            { "ttt_lr.bias", b .. "learnable_ttt_lr_bias", { H } },
            { "ttt_token_idx", b .. "learnable_token_idx" },
            { "ttt_norm.weight", b .. "ttt_norm_weight" }, { "ttt_norm.bias", b .. "ttt_norm_bias" },
            { "ttt_post_norm.weight", b .. "post_norm.weight" }, { "ttt_post_norm.bias", b .. "post_norm.bias" },
            { "ttt_w1", b .. "W1" }, { "ttt_b1", b .. "b1", { H, kind == "ttt_mlp" and 4 * hd or hd } },
        }
        if kind == "ttt_mlp" then
            pairs_[#pairs_ + 1] = { "ttt_w2", b .. "W2" }
            pairs_[#pairs_ + 1] = { "ttt_b2", b .. "b2", { H, hd } }
        end
        if not cfg.share_qk then pairs_[#pairs_ + 1] = { "ttt_k.weight", b .. "k_proj.weight" } end
        if cfg.use_gate then pairs_[#pairs_ + 1] = { "ttt_gate.weight", b .. "g_proj.weight" } end
        if cfg.pre_conv then pairs_[#pairs_ + 1] = { "ttt_pre_conv_norm.weight", q .. "conv.norm.weight" } end
        for _, pair in ipairs(pairs_) do
            tensors[#tensors + 1] = { p .. pair[1], t(pair[2], pair[3]) }
        end
        local convs = {}
        if cfg.share_qk then
            convs = { { "ttt_q_conv", b .. "conv_q" }, { "ttt_k_conv", b .. "conv_k" } }
        end
        if cfg.pre_conv then convs[#convs + 1] = { "ttt_pre_conv", q .. "conv.conv" } end
        for _, c in ipairs(convs) do
            tensors[#tensors + 1] = { p .. c[1] .. ".weight", conv(c[2] .. ".weight") }
            tensors[#tensors + 1] = { p .. c[1] .. ".bias", t(c[2] .. ".bias") }
        end
    end
    bt.gguf_write(path, meta, tensors)
end

--- The float values of a weight of any dtype op_linear takes: with act_quant, the
-- rows of the identity quantize exactly, so I W^T = W^T.
function F.dequantize(w)
    local n, k = w:shape()[1], w:shape()[2]
    local eye = bt.zeros({ k, k })
    for i = 1, k do eye[{ i, i }] = 1 end
    local wt = bt.zeros({ k, n })
    bt.op_linear(wt, w, eye, true)
    return wt:transpose(1, 2):clone()
end

--- A copy of the GGUF at `src` with every ternary projection as f32 (its exact values) and
-- activation_quant = false: the projections then take float activations.
function F.float_copy(src, dst)
    local file = bt.model_open(src)
    local meta = {}
    for key in pairs(bt.gguf_meta(src)) do
        if key ~= "bitttt.activation_quant" then meta[#meta + 1] = { key, "from", src } end
    end
    table.sort(meta, function(a, b) return a[1] == "general.architecture" or (b[1] ~= "general.architecture" and a[1] < b[1]) end)
    meta[#meta + 1] = { "bitttt.activation_quant", "bool", false }
    local tensors = {}
    for _, name in ipairs(file:tensor_names()) do
        local t = file:tensor(name)
        if t:dtype() == "tq2_0" then t = F.dequantize(t) end
        tensors[#tensors + 1] = { name, t }
    end
    bt.gguf_write(dst, meta, tensors)
end

--- A hybrid `bitttt` GGUF (ttt_linear, attention, fastweight) whose projections are
-- the TQ2_0 tensors of the BitNet reference model (n_embd 256, 4 heads, 2 kv heads),
-- or their float values when as_float; the small TTT and fastweight tensors are random.
function F.write_bitttt_from_bitnet(src_path, path, as_float)
    local src = bt.model_open(src_path)
    local rng = Rng.new(5)
    local d, H, hd, B, n_ff, ds = 256, 4, 64, 4, 768, 64
    local function w(name)
        local t = src:tensor(name)
        return as_float and F.dequantize(t) or t
    end
    local meta = {
        { "general.architecture", "str", "bitttt" },
        { "bitttt.embedding_length", "u32", d }, { "bitttt.block_count", "u32", 3 },
        { "bitttt.feed_forward_length", "u32", n_ff }, { "bitttt.context_length", "u32", 256 },
        { "bitttt.attention.head_count", "u32", H }, { "bitttt.attention.head_count_kv", "u32", 2 },
        { "bitttt.mixers", "[str]", { "ttt_linear", "attention", "fastweight" } },
        { "bitttt.ttt.mini_batch_size", "u32", B }, { "bitttt.fastweight.dim", "u32", ds },
    }
    local tensors = {
        { "token_embd.weight", src:tensor("token_embd.weight") },
        { "output_norm.weight", src:tensor("output_norm.weight") },
    }
    local function add(name, t) tensors[#tensors + 1] = { name, t } end
    for l = 0, 2 do
        local p = "blk." .. l .. "."
        for _, n in ipairs({ "attn_norm", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down" }) do
            add(p .. n .. ".weight", n:find("norm") and src:tensor(p .. n .. ".weight") or w(p .. n .. ".weight"))
        end
    end
    add("blk.0.ttt_q.weight", w("blk.0.attn_q.weight"))
    add("blk.0.ttt_k.weight", w("blk.1.attn_q.weight"))
    add("blk.0.ttt_v.weight", w("blk.2.attn_q.weight"))
    add("blk.0.ttt_output.weight", w("blk.0.attn_output.weight"))
    add("blk.0.ttt_lr.weight", F.uniform(rng, { H, d }, -0.1, 0.1))
    add("blk.0.ttt_lr.bias", F.uniform(rng, { H }, -0.5, 0.5))
    add("blk.0.ttt_token_idx", bt.zeros({ B }))
    add("blk.0.ttt_norm.weight", bt.full({ H, hd }, 1))
    add("blk.0.ttt_norm.bias", bt.zeros({ H, hd }))
    add("blk.0.ttt_post_norm.weight", bt.full({ d }, 1))
    add("blk.0.ttt_post_norm.bias", bt.zeros({ d }))
    add("blk.0.ttt_w1", F.uniform(rng, { H, hd, hd }, -0.05, 0.05))
    add("blk.0.ttt_b1", bt.zeros({ H, hd }))
    for _, n in ipairs({ "attn_q", "attn_k", "attn_v", "attn_output" }) do
        add("blk.1." .. n .. ".weight", w("blk.1." .. n .. ".weight"))
    end
    add("blk.2.fw_down.weight", F.ternary(rng, { ds, d }, 1 / 16))
    add("blk.2.fw_up.weight", F.ternary(rng, { d, ds }, 1 / 8))
    bt.gguf_write(path, meta, tensors)
end

return F
