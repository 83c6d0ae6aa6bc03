-- models/llama.lua - the Llama architecture (GGUF `llama`, llama2.c checkpoints):
-- RMSNorm, attention with RoPE on interleaved pairs and grouped-query heads,
-- SwiGLU FFN, tied or separate output head.
local Decoder = require "bitttt.decoder"
local Attention = require "bitttt.mixers.attention"
local W = require "bitttt.weights"

local M = {}

--- Hyperparameters from GGUF-style metadata under `prefix` (e.g. "llama.").
function M.hparams(file, meta, prefix)
    local hp = {
        n_embd = W.meta_int(file, meta, prefix .. "embedding_length"),
        n_layer = W.meta_int(file, meta, prefix .. "block_count"),
        n_head = W.meta_int(file, meta, prefix .. "attention.head_count"),
        n_ff = W.meta_int(file, meta, prefix .. "feed_forward_length"),
        n_ctx_train = W.meta_int(file, meta, prefix .. "context_length"),
        rms_eps = W.meta_positive(file, meta, prefix .. "attention.layer_norm_rms_epsilon", 1e-5),
        rope_theta = W.meta_positive(file, meta, prefix .. "rope.freq_base", 10000),
    }
    hp.n_head_kv = W.meta_int(file, meta, prefix .. "attention.head_count_kv", hp.n_head)
    if hp.n_embd % hp.n_head ~= 0 or hp.n_head % hp.n_head_kv ~= 0 then
        error(("%s: %d heads (%d kv heads) do not divide embedding length %d"):format(
            file:path(), hp.n_head, hp.n_head_kv, hp.n_embd), 0)
    end
    hp.head_dim = hp.n_embd / hp.n_head
    hp.rope_dim = W.meta_int(file, meta, prefix .. "rope.dimension_count", hp.head_dim)
    return hp
end

--- The per-layer weights common to Llama-like files; `extra(l, layer)` may add more.
function M.layers(file, hp, mixer_opts, extra)
    local d, hd = hp.n_embd, hp.head_dim
    local layers = {}
    for l = 0, hp.n_layer - 1 do
        local p = "blk." .. l .. "."
        local layer = W.ffn(file, p, d, hp.n_ff)
        layer.attn_norm = W.tensor(file, p .. "attn_norm.weight", { d })
        local attn = {
            wq = W.tensor(file, p .. "attn_q.weight", { hp.n_head * hd, d }),
            wk = W.tensor(file, p .. "attn_k.weight", { hp.n_head_kv * hd, d }),
            wv = W.tensor(file, p .. "attn_v.weight", { hp.n_head_kv * hd, d }),
            wo = W.tensor(file, p .. "attn_output.weight", { d, hp.n_head * hd }),
            n_head = hp.n_head, n_head_kv = hp.n_head_kv, head_dim = hd,
            rope_dim = hp.rope_dim, rope_theta = hp.rope_theta, eps = hp.rms_eps,
        }
        for k, v in pairs(mixer_opts) do attn[k] = v end
        if extra then extra(p, layer, attn) end
        layer.mixer = Attention.new(attn)
        layers[l + 1] = layer
    end
    return layers
end

--- Embedding, final norm and head (tied to the embedding when the file has no output.weight).
function M.io_weights(file, hp)
    local tok_embd = W.tensor(file, "token_embd.weight")
    local shape = tok_embd:shape()
    if #shape ~= 2 or shape[2] ~= hp.n_embd then
        error(("%s: tensor 'token_embd.weight' has shape [%s], expected [vocab, %d]"):format(
            file:path(), table.concat(shape, ", "), hp.n_embd), 0)
    end
    hp.n_vocab = shape[1]
    return {
        tok_embd = tok_embd,
        output_norm = W.tensor(file, "output_norm.weight", { hp.n_embd }),
        output = W.optional(file, "output.weight", { hp.n_vocab, hp.n_embd }) or tok_embd,
    }
end

function M.build(file, meta, opts)
    local arch = meta["general.architecture"]
    local hp = M.hparams(file, meta, arch .. ".")
    local w = M.io_weights(file, hp)
    w.layers = M.layers(file, hp, { rope_style = "interleaved" })
    hp.ffn_act = "silu"
    hp.max_batch = opts.max_batch
    return Decoder.new(hp, w)
end

return M
