"""handoff.py - what the trainer hands to export.lua: the model's tensors under
their GGUF names (docs/bitttt-format.md) holding the exact values the GGUF will
hold (ternary codes times an f16 scale, f16 embedding), and every GGUF metadata
entry as a string "TYPE:VALUE" ("[str]"/"[i32]" arrays newline-separated)."""
import torch

import bpe
import model as M


def gguf_tensors(net):
    """[(gguf name, f32 tensor)] in file order."""
    prev = M.BitLinear.export_values
    M.BitLinear.export_values = True
    try:
        out = [("token_embd.weight", net.embedding()), ("output_norm.weight", net.norm.weight)]
        for l, blk in enumerate(net.blocks):
            p = f"blk.{l}."
            mix = blk.mixer
            out.append((p + "attn_norm.weight", blk.attn_norm.weight))
            if isinstance(mix, M.TTTLinear):
                out += [(p + "ttt_q.weight", mix.q.quantized_weight()), (p + "ttt_k.weight", mix.k.quantized_weight()),
                        (p + "ttt_v.weight", mix.v.quantized_weight()), (p + "ttt_output.weight", mix.o.quantized_weight()),
                        (p + "ttt_lr.weight", mix.lr_weight), (p + "ttt_lr.bias", mix.lr_bias),
                        (p + "ttt_token_idx", mix.token_idx),
                        (p + "ttt_norm.weight", mix.ln_weight), (p + "ttt_norm.bias", mix.ln_bias),
                        (p + "ttt_post_norm.weight", mix.post_norm.weight), (p + "ttt_post_norm.bias", mix.post_norm.bias),
                        (p + "ttt_w1", mix.W1), (p + "ttt_b1", mix.b1)]
                if mix.forget_weight is not None:
                    raise SystemExit("handoff: gated forgetting (--ttt-forget-gate) is a PyTorch experiment; "
                                     "the runtime does not read it yet")
                if mix.forget_logit is not None:
                    out.append((p + "ttt_forget", mix.forget_value().reshape(1)))
                if isinstance(mix, M.TTTMLP):
                    out += [(p + "ttt_w2", mix.W2), (p + "ttt_b2", mix.b2)]
                if mix.conv_q is not None:
                    out += [(p + "ttt_q_conv.weight", mix.conv_q.weight), (p + "ttt_q_conv.bias", mix.conv_q.bias),
                            (p + "ttt_k_conv.weight", mix.conv_k.weight), (p + "ttt_k_conv.bias", mix.conv_k.bias)]
            else:
                out += [(p + "attn_q.weight", mix.q.quantized_weight()), (p + "attn_k.weight", mix.k.quantized_weight()),
                        (p + "attn_v.weight", mix.v.quantized_weight()), (p + "attn_output.weight", mix.o.quantized_weight())]
            out += [(p + "ffn_norm.weight", blk.ffn_norm.weight), (p + "ffn_gate.weight", blk.gate.quantized_weight()),
                    (p + "ffn_up.weight", blk.up.quantized_weight()), (p + "ffn_down.weight", blk.down.quantized_weight())]
        return [(n, t.detach().clone()) for n, t in out]
    finally:
        M.BitLinear.export_values = prev


TERNARY_SUFFIXES = ("_q.weight", "_k.weight", "_v.weight", "_output.weight", "ffn_gate.weight", "ffn_up.weight",
                    "ffn_down.weight")


def gguf_metadata(cfg, tok, name, steps, seed):
    a = "bitttt."
    meta = {
        "general.architecture": "str:bitttt",
        "general.name": f"str:{name}",
        "general.description": f"str:BitLlama trained by scripts/train on English text from Debian packages "
                               f"(fortunes, Linux man-pages, Perl's manual, the Jargon File; {steps} steps, seed {seed})",
        "general.license": "str:BSD-3-Clause (weights); training text: fortunes (BSD), man-pages (GPL-2+ and others), "
                           "perl-doc (GPL-1+ or Artistic), Jargon File (public domain); see models/README.md",
        a + "vocab_size": f"u32:{cfg['vocab']}",
        a + "context_length": f"u32:{cfg['context']}",
        a + "embedding_length": f"u32:{cfg['dim']}",
        a + "block_count": f"u32:{len(cfg['mixers'])}",
        a + "feed_forward_length": f"u32:{cfg['ff']}",
        a + "attention.head_count": f"u32:{cfg['heads']}",
        a + "attention.head_count_kv": f"u32:{cfg['heads']}",
        a + "attention.layer_norm_rms_epsilon": f"f32:{cfg['rms_eps']!r}",
        a + "rope.freq_base": f"f32:{cfg['rope_theta']!r}",
        a + "rope.dimension_count": f"u32:{cfg['dim'] // cfg['heads']}",
        a + "mixers": "[str]:" + "\n".join(cfg["mixers"]),
        a + "activation_quant": "bool:true",
        a + "ttt.head_count": f"u32:{cfg['heads']}",
        a + "ttt.head_dim": f"u32:{cfg['dim'] // cfg['heads']}",
        a + "ttt.mini_batch_size": f"u32:{cfg['mini_batch']}",
        a + "ttt.base_lr": f"f32:{cfg['ttt_base_lr']!r}",
        a + "ttt.layer_norm_epsilon": f"f32:{cfg['ttt_eps']!r}",
        a + "ttt.rope.freq_base": f"f32:{cfg['rope_theta']!r}",
        a + "ttt.conv_kernel": f"u32:{cfg.get('ttt_conv_kernel', 0)}",
        a + "ttt.forget": f"f32:{cfg.get('ttt_forget', 1.0)!r}",
        "tokenizer.ggml.model": "str:gpt2",
        "tokenizer.ggml.pre": "str:gpt2",
        "tokenizer.ggml.tokens": "[str]:" + "\n".join(tok.tokens),
        "tokenizer.ggml.token_type": "[i32]:" + "\n".join("3" if i == tok.bos else "1" for i in range(len(tok.tokens))),
        "tokenizer.ggml.merges": "[str]:" + "\n".join(f"{x} {y}" for x, y in tok.merges),
        "tokenizer.ggml.bos_token_id": f"u32:{tok.bos}",
        "tokenizer.ggml.eos_token_id": f"u32:{tok.eos}",
        "tokenizer.ggml.add_bos_token": "bool:true",
        "tokenizer.ggml.add_eos_token": "bool:false",
    }
    return meta
