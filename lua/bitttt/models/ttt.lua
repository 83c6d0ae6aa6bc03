-- models/ttt.lua - ttt-lm-pytorch's TTTForCausalLM from a safetensors folder:
-- model.safetensors with the reference code's parameter names, and its config.json.
--
-- Llama-style blocks around the TTT layer:
--   [pre_conv: h += conv(conv.norm(h))]               (depthwise causal conv, kernel conv_kernel)
--   X = seq_norm(h);  h += o_proj(post_norm(TTT(X)) [* gelu(g_proj(X))])   (mixers/ttt_linear.lua,
--                                                                           mixers/ttt_mlp.lua)
--   h += down(silu(gate(ffn_norm(h))) * up(ffn_norm(h)))
--   logits = lm_head(norm(h)), lm_head = embed_tokens when tie_word_embeddings
-- Every TTTConfig option that changes inference is read: ttt_layer_type ("linear" or
-- "mlp"), pre_conv, conv_kernel, share_qk (one projection, conv_q / conv_k), use_gate,
-- mini_batch_size, ttt_base_lr, rope_theta, rms_norm_eps, tie_word_embeddings; a value we
-- cannot run is refused by name.
local core = require "bitttt.core"
local Decoder = require "bitttt.decoder"
local TTTLinear = require "bitttt.mixers.ttt_linear"
local TTTMLP = require "bitttt.mixers.ttt_mlp"
local W = require "bitttt.weights"

-- ttt-lm-pytorch's names of a block's FFN weights
local ffn_names = { norm = "ffn_norm.weight", gate = "mlp.gate_proj.weight", up = "mlp.up_proj.weight",
    down = "mlp.down_proj.weight" }

local M = {}

-- A config.json value; `default` when absent (nil default: required).
local function config(file, cfg, key, default)
    local v = cfg[key]
    if v == nil then v = default end
    if v == nil then error(("%s: config.json lacks '%s'"):format(file:path(), key), 0) end
    return v
end

-- A config.json value that must be one of `allowed` (a list).
local function config_choice(file, cfg, key, default, allowed)
    local v = config(file, cfg, key, default)
    for _, a in ipairs(allowed) do
        if v == a then return v end
    end
    local names = {}
    for i, a in ipairs(allowed) do names[i] = tostring(a) end
    error(("%s: config.json '%s' is %s; supported: %s"):format(file:path(), key, tostring(v), table.concat(names, ", ")), 0)
end

-- A config.json whole number >= lo (and <= hi when given).
local function config_int(file, cfg, key, default, lo, hi)
    local v = config(file, cfg, key, default)
    if type(v) ~= "number" or v ~= math.floor(v) or v < lo or (hi and v > hi) then
        error(("%s: config.json '%s' is %s; expected a whole number from %d%s"):format(file:path(), key,
            tostring(v), lo, hi and (" to " .. hi) or ""), 0)
    end
    return v
end

-- A config.json number (finite; >= lo when given).
local function config_number(file, cfg, key, default, lo)
    local v = config(file, cfg, key, default)
    if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge or (lo and v < lo) then
        error(("%s: config.json '%s' is %s; expected a number%s"):format(file:path(), key, tostring(v),
            lo and (" >= " .. lo) or ""), 0)
    end
    return v
end

function M.hparams(file, cfg)
    local hp = {
        ttt_type = config_choice(file, cfg, "ttt_layer_type", "linear", { "linear", "mlp" }),
        pre_conv = config_choice(file, cfg, "pre_conv", false, { false, true }),
        share_qk = config_choice(file, cfg, "share_qk", false, { false, true }),
        use_gate = config_choice(file, cfg, "use_gate", false, { false, true }),
        conv_kernel = config_int(file, cfg, "conv_kernel", 4, 1, core.causal_conv_max_kernel),
        ffn_act = config_choice(file, cfg, "hidden_act", "silu", { "silu" }),
        n_embd = config_int(file, cfg, "hidden_size", nil, 1),
        n_layer = config_int(file, cfg, "num_hidden_layers", nil, 1),
        n_head = config_int(file, cfg, "num_attention_heads", nil, 1),
        n_ff = config_int(file, cfg, "intermediate_size", nil, 1),
        n_vocab = config_int(file, cfg, "vocab_size", nil, 1),
        n_ctx_train = config_int(file, cfg, "max_position_embeddings", 2048, 1),
        rms_eps = W.meta_positive(file, cfg, "rms_norm_eps", 1e-6),
        rope_theta = W.meta_positive(file, cfg, "rope_theta", 10000),
        mini_batch = config_int(file, cfg, "mini_batch_size", 16, 1),
        base_lr = config_number(file, cfg, "ttt_base_lr", 1.0, 0),
        tied = config_choice(file, cfg, "tie_word_embeddings", true, { true, false }),
    }
    if cfg.rope_scaling ~= nil and cfg.rope_scaling ~= false then
        error(file:path() .. ": config.json 'rope_scaling' is set; TTT layers take none (ttt.py ignores it too)", 0)
    end
    if hp.n_embd % hp.n_head ~= 0 then
        error(("%s: %d heads do not divide hidden_size %d"):format(file:path(), hp.n_head, hp.n_embd), 0)
    end
    hp.head_dim = hp.n_embd / hp.n_head
    return hp
end

-- A depthwise nn.Conv1d weight [C, 1, K] as the causal conv op takes it, [K, C].
local function conv_weight(file, name, C, K)
    return W.tensor(file, name, { C, 1, K }):reshape({ C, K }):transpose(1, 2):clone()
end

--- The TTT layer of a block under the reference code's names (p: "model.layers.N.");
-- TTT-Linear or TTT-MLP as hp.ttt_type says.
function M.ttt_layer(file, hp, p)
    local d, H, hd, K = hp.n_embd, hp.n_head, hp.head_dim, hp.conv_kernel
    local s = p .. "seq_modeling_block."
    local layer = {
        wq = W.tensor(file, s .. "q_proj.weight", { d, d }),
        wk = not hp.share_qk and W.tensor(file, s .. "k_proj.weight", { d, d }) or nil,
        wv = W.tensor(file, s .. "v_proj.weight", { d, d }),
        wo = W.tensor(file, s .. "o_proj.weight", { d, d }),
        lr_weight = W.tensor(file, s .. "learnable_ttt_lr_weight", { H, 1, d }):reshape({ H, d }),
        lr_bias = W.tensor(file, s .. "learnable_ttt_lr_bias", { H, 1 }):reshape({ H }),
        token_idx = W.tensor(file, s .. "learnable_token_idx", { hp.mini_batch }),
        ln_weight = W.tensor(file, s .. "ttt_norm_weight", { H, hd }),
        ln_bias = W.tensor(file, s .. "ttt_norm_bias", { H, hd }),
        post_weight = W.tensor(file, s .. "post_norm.weight", { d }),
        post_bias = W.tensor(file, s .. "post_norm.bias", { d }),
        n_head = H, head_dim = hd, mini_batch = hp.mini_batch, base_lr = hp.base_lr,
        rope_theta = hp.rope_theta, ln_eps = 1e-6, rms_eps = hp.rms_eps,
    }
    if hp.share_qk then
        layer.conv_q, layer.conv_q_bias = conv_weight(file, s .. "conv_q.weight", d, K), W.tensor(file, s .. "conv_q.bias", { d })
        layer.conv_k, layer.conv_k_bias = conv_weight(file, s .. "conv_k.weight", d, K), W.tensor(file, s .. "conv_k.bias", { d })
    end
    if hp.use_gate then layer.wg = W.tensor(file, s .. "g_proj.weight", { d, d }) end
    if hp.pre_conv then
        layer.pre_norm = W.tensor(file, p .. "conv.norm.weight", { d })
        layer.pre_conv, layer.pre_conv_bias = conv_weight(file, p .. "conv.conv.weight", d, K), W.tensor(file, p .. "conv.conv.bias", { d })
    end
    if hp.ttt_type == "mlp" then
        local F = 4 * hd
        layer.hidden = F
        layer.W1, layer.b1 = W.tensor(file, s .. "W1", { H, hd, F }), W.tensor(file, s .. "b1", { H, 1, F })
        layer.W2, layer.b2 = W.tensor(file, s .. "W2", { H, F, hd }), W.tensor(file, s .. "b2", { H, 1, hd })
        return TTTMLP.new(layer)
    end
    layer.W1, layer.b1 = W.tensor(file, s .. "W1", { H, hd, hd }), W.tensor(file, s .. "b1", { H, 1, hd })
    return TTTLinear.new(layer)
end

function M.build(file, cfg, opts)
    local hp = M.hparams(file, cfg)
    local d, n_ff = hp.n_embd, hp.n_ff
    local tok_embd = W.tensor(file, "model.embed_tokens.weight", { hp.n_vocab, d })
    local output = W.optional(file, "lm_head.weight", { hp.n_vocab, d })
    if not output and not hp.tied then
        error(file:path() .. ": missing tensor 'lm_head.weight' (tie_word_embeddings is false)", 0)
    end
    local w = {
        tok_embd = tok_embd,
        output_norm = W.tensor(file, "model.norm.weight", { d }),
        output = output or tok_embd,
        layers = {},
    }
    for l = 0, hp.n_layer - 1 do
        local p = "model.layers." .. l .. "."
        local layer = W.ffn(file, p, d, n_ff, ffn_names)
        layer.attn_norm = W.tensor(file, p .. "seq_norm.weight", { d })
        layer.mixer = M.ttt_layer(file, hp, p)
        w.layers[l + 1] = layer
    end
    hp.max_batch = opts.max_batch
    return Decoder.new(hp, w)
end

return M
