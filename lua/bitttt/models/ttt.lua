-- models/ttt.lua - ttt-lm-pytorch's TTTForCausalLM (TTT-Linear) from a
-- safetensors folder: model.safetensors with the reference code's parameter
-- names, and its config.json.
--
-- Llama-style blocks around the TTT layer:
--   X = seq_norm(h);  h += o_proj(post_norm(TTT(X)))      (mixers/ttt_linear.lua)
--   h += down(silu(gate(ffn_norm(h))) * up(ffn_norm(h)))
--   logits = lm_head(norm(h)), lm_head = embed_tokens when tie_word_embeddings
-- Supported: ttt_layer_type "linear", pre_conv, use_gate and share_qk false.
local Decoder = require "bitttt.decoder"
local TTTLinear = require "bitttt.mixers.ttt_linear"
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

local function require_setting(file, cfg, key, want, default)
    local v = config(file, cfg, key, default)
    if v ~= want then
        error(("%s: config.json '%s' is %s; only %s is supported"):format(file:path(), key, tostring(v), tostring(want)), 0)
    end
end

function M.hparams(file, cfg)
    require_setting(file, cfg, "ttt_layer_type", "linear")
    require_setting(file, cfg, "pre_conv", false, false)
    require_setting(file, cfg, "use_gate", false, false)
    require_setting(file, cfg, "share_qk", false, false)
    require_setting(file, cfg, "hidden_act", "silu", "silu")
    local hp = {
        n_embd = config(file, cfg, "hidden_size"),
        n_layer = config(file, cfg, "num_hidden_layers"),
        n_head = config(file, cfg, "num_attention_heads"),
        n_ff = config(file, cfg, "intermediate_size"),
        n_vocab = config(file, cfg, "vocab_size"),
        n_ctx_train = config(file, cfg, "max_position_embeddings", 2048),
        rms_eps = W.meta_positive(file, cfg, "rms_norm_eps", 1e-6),
        rope_theta = W.meta_positive(file, cfg, "rope_theta", 10000),
        mini_batch = config(file, cfg, "mini_batch_size", 16),
        base_lr = config(file, cfg, "ttt_base_lr", 1.0),
        tied = config(file, cfg, "tie_word_embeddings", true),
        ffn_act = "silu",
    }
    if hp.n_embd % hp.n_head ~= 0 then
        error(("%s: %d heads do not divide hidden_size %d"):format(file:path(), hp.n_head, hp.n_embd), 0)
    end
    hp.head_dim = hp.n_embd / hp.n_head
    return hp
end

--- The TTT-Linear layer of block l (0-based) under the reference code's names.
function M.ttt_layer(file, hp, p)
    local d, H, hd = hp.n_embd, hp.n_head, hp.head_dim
    return TTTLinear.new {
        wq = W.tensor(file, p .. "q_proj.weight", { d, d }),
        wk = W.tensor(file, p .. "k_proj.weight", { d, d }),
        wv = W.tensor(file, p .. "v_proj.weight", { d, d }),
        wo = W.tensor(file, p .. "o_proj.weight", { d, d }),
        lr_weight = W.tensor(file, p .. "learnable_ttt_lr_weight", { H, 1, d }):reshape({ H, d }),
        lr_bias = W.tensor(file, p .. "learnable_ttt_lr_bias", { H, 1 }):reshape({ H }),
        token_idx = W.tensor(file, p .. "learnable_token_idx", { hp.mini_batch }),
        ln_weight = W.tensor(file, p .. "ttt_norm_weight", { H, hd }),
        ln_bias = W.tensor(file, p .. "ttt_norm_bias", { H, hd }),
        post_weight = W.tensor(file, p .. "post_norm.weight", { d }),
        post_bias = W.tensor(file, p .. "post_norm.bias", { d }),
        W1 = W.tensor(file, p .. "W1", { H, hd, hd }),
        b1 = W.tensor(file, p .. "b1", { H, 1, hd }),
        n_head = H, head_dim = hd, mini_batch = hp.mini_batch, base_lr = hp.base_lr,
        rope_theta = hp.rope_theta, ln_eps = 1e-6,
    }
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
        layer.mixer = M.ttt_layer(file, hp, p .. "seq_modeling_block.")
        w.layers[l + 1] = layer
    end
    hp.max_batch = opts.max_batch
    return Decoder.new(hp, w)
end

return M
