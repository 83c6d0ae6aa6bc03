"""model.py - BitLlama in PyTorch, the graph of lua/bitttt/models/bitttt.lua
(docs/bitttt-format.md), trained with quantization-aware training:

  BitLinear: weights absmean-ternary (w ~ s * round(w / s) clamped to [-1, 1],
  s = mean|w|), activations int8 per token (scale 127 / max|x|, round half to
  even, clamp [-128, 127]), both with the straight-through estimator.
  RMSNorm, SwiGLU FFN, a mixer per layer: "ttt_linear" (TTT-Linear, dual form
  over mini-batches, exactly as kernels/cpu/ttt_linear.h), "ttt_mlp" (TTT-MLP,
  kernels/cpu/ttt_mlp.h) or "attention"
  (causal multi-head attention, RoPE on interleaved pairs at absolute positions).
  Tied embedding and head.

`export_values=True` (set by export) makes every BitLinear use the values the
GGUF holds: ternary codes times the scale rounded to f16, and the embedding
rounded to f16, so the fixture logits are what the runtime should compute.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def f16_round(t):
    return t.to(torch.float16).to(torch.float32)


def ternary_codes(w):
    """(codes in {-1, 0, 1}, scale) by absmean, as bt_ternary_quantize_absmean."""
    scale = w.abs().mean().clamp(min=1e-5)
    return (w / scale).round().clamp(-1, 1), scale


def quantize_activations(x):
    """x with each row rounded to int8 steps of max|row| / 127 (runtime/act_quant)."""
    s = 127.0 / x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    return (x * s).round().clamp(-128, 127) / s


class BitLinear(nn.Linear):
    export_values = False
    quantize_inputs = True   # False: float activations (the runtime's activation_quant = false)

    def __init__(self, n_in, n_out):
        super().__init__(n_in, n_out, bias=False)
        nn.init.normal_(self.weight, std=0.02)

    def quantized_weight(self):
        codes, scale = ternary_codes(self.weight)
        if BitLinear.export_values:
            scale = f16_round(scale)
        return codes * scale

    def forward(self, x):
        w = self.weight + (self.quantized_weight() - self.weight).detach()
        if BitLinear.quantize_inputs:
            x = x + (quantize_activations(x) - x).detach()
        return F.linear(x, w)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_interleaved(x, pos, theta):
    """x [..., n, hd] rotated in pairs (2j, 2j+1) by angle pos * theta^(-2j/hd); pos [n]."""
    hd = x.shape[-1]
    inv = theta ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    ang = pos.to(torch.float32)[:, None] * inv[None, :]            # [n, hd/2]
    cos, sin = ang.cos(), ang.sin()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x1 * cos + x0 * sin), dim=-1).flatten(-2)


def layer_norm_rows(z, w, b, eps):
    """LayerNorm over the last dim with per-head weight/bias w, b [H, 1, hd] (biased variance)."""
    mu = z.mean(-1, keepdim=True)
    var = (z - mu).pow(2).mean(-1, keepdim=True)
    return (z - mu) / torch.sqrt(var + eps) * w + b


def layer_norm_l2_grad(z, target, w, b, eps):
    """d/dz 1/2 ||LN(z) - target||^2 (bt_ttt_ln_l2_grad), z, target [..., hd]."""
    hd = z.shape[-1]
    mu = z.mean(-1, keepdim=True)
    var = (z - mu).pow(2).mean(-1, keepdim=True)
    std = torch.sqrt(var + eps)
    xhat = (z - mu) / std
    g_xhat = (xhat * w + b - target) * w
    return (hd * g_xhat - g_xhat.sum(-1, keepdim=True) - xhat * (g_xhat * xhat).sum(-1, keepdim=True)) / (hd * std)


def causal_conv(x, w, b):
    """Depthwise causal conv over time: x [b, n, C], w [K, C], b [C];
    out[t] = b + sum_j w[j] * x[t - (K-1) + j] (rows before the start are zero)."""
    K, C = w.shape
    xt = F.pad(x.transpose(1, 2), (K - 1, 0))                       # [b, C, n + K - 1]
    return F.conv1d(xt, w.t().unsqueeze(1), b, groups=C).transpose(1, 2)


class CausalConv(nn.Module):
    """The ttt_q_conv / ttt_k_conv of docs/bitttt-format.md, initialised to pass the
    token `lag` steps back (0: the identity)."""

    def __init__(self, width, kernel, lag):
        super().__init__()
        w = torch.zeros(kernel, width)
        w[kernel - 1 - lag] = 1.0
        self.weight = nn.Parameter(w)
        self.bias = nn.Parameter(torch.zeros(width))

    def forward(self, x):
        return causal_conv(x, self.weight, self.bias)


class TTTLinear(nn.Module):
    """TTT-Linear (ttt-lm-pytorch without pre_conv, gate or shared QK, optionally with
    its conv_q / conv_k: depthwise causal convs on the query and key projections, which
    let a key hold the tokens before its value's), mixers/ttt_linear.lua."""

    def __init__(self, d, n_head, mini_batch, base_lr, rope_theta, eps, conv_kernel=0, share_qk=False, forget=1.0,
                 learn_forget=False, forget_gate=False):
        super().__init__()
        hd = d // n_head
        self.H, self.hd, self.B = n_head, hd, mini_batch
        self.base_lr, self.theta, self.eps = base_lr, rope_theta, eps
        self.q, self.k, self.v, self.o = (BitLinear(d, d) for _ in range(4))
        if share_qk:   # ttt-lm-pytorch's share_qk: one projection for both (the GGUF stores it twice)
            self.k = self.q
        # Queries start as the current token, keys as the previous one (values are always the
        # current token's), so from the start the fast weights store what followed each token;
        # with share_qk a query then finds the key of the token after its earlier occurrence.
        assert conv_kernel == 0 or conv_kernel >= 2, "a conv needs 2 taps or more (the key starts one token back)"
        self.conv_q = CausalConv(d, conv_kernel, 0) if conv_kernel else None
        self.conv_k = CausalConv(d, conv_kernel, 1) if conv_kernel else None
        self.lr_weight = nn.Parameter(torch.randn(n_head, d) * 0.02)
        self.lr_bias = nn.Parameter(torch.zeros(n_head))
        self.token_idx = nn.Parameter(torch.zeros(mini_batch))
        self.ln_weight = nn.Parameter(torch.ones(n_head, hd))
        self.ln_bias = nn.Parameter(torch.zeros(n_head, hd))
        self.post_norm = nn.LayerNorm(d, eps=eps)
        self.W1 = nn.Parameter(torch.randn(n_head, hd, hd) * 0.02)
        self.b1 = nn.Parameter(torch.zeros(n_head, hd))
        self.lr_mult = 1.0   # the runtime's --ttt-lr / base_lr (0 freezes learning)
        self.forget = forget
        # learned forgetting: one value per layer, sigmoid of a logit that starts at `forget`
        # (exported as blk.N.ttt_forget)
        self.forget_logit = nn.Parameter(torch.logit(torch.tensor(forget, dtype=torch.float32))) \
            if learn_forget else None

        # gated forgetting: each head keeps sigmoid(h . forget_weight + forget_bias) of its change after a
        # mini-batch, h the mini-batch's last input row (so a document's end can clear what it wrote)
        self.forget_weight = nn.Parameter(torch.zeros(n_head, d)) if forget_gate else None
        self.forget_bias = nn.Parameter(torch.full((n_head,), float(torch.logit(torch.tensor(forget))))) \
            if forget_gate else None

    def forget_value(self):
        """This layer's forgetting (a tensor when learned), or None for none."""
        if self.forget_logit is not None:
            return torch.sigmoid(self.forget_logit)
        return self.forget if self.forget < 1 else None

    def heads(self, x):   # [b, n, H*hd] -> [b, H, n, hd]
        b, n, _ = x.shape
        return x.view(b, n, self.H, self.hd).transpose(1, 2)

    def inputs(self, h, pos0):
        """XQ, XK (after convs and RoPE), XV [b, H, n, hd]; eta [b, H, n]; the position scales [B]."""
        b, n, d = h.shape
        H, hd, B = self.H, self.hd, self.B
        pos = (torch.arange(n) + pos0) % B
        xq, xk = self.q(h), self.k(h)
        if self.conv_q is not None:
            xq, xk = self.conv_q(xq), self.conv_k(xk)
        xq = rope_interleaved(self.heads(xq), pos, self.theta)
        xk = rope_interleaved(self.heads(xk), pos, self.theta)
        xv = self.heads(self.v(h))
        eta = (self.base_lr * self.lr_mult / hd) * torch.sigmoid(h @ self.lr_weight.t() + self.lr_bias)   # [b, n, H]
        scale = (1.0 / torch.arange(1, B + 1, dtype=torch.float32) + self.token_idx).clamp(min=0)     # [B]
        return xq, xk, xv, eta.transpose(1, 2), scale

    def forward(self, h, pos0=0):
        b, n, d = h.shape
        xq, xk, xv, eta, scale = self.inputs(h, pos0)
        keep = None
        if self.forget_weight is not None:   # [b, H, n]: what each head keeps after a mini-batch ending here
            keep = torch.sigmoid(h @ self.forget_weight.t() + self.forget_bias).transpose(1, 2)
        outs = self.inner(xq, xk, xv, eta, scale, b, keep)
        z = torch.cat(outs, dim=2).transpose(1, 2).reshape(b, n, self.H * self.hd)
        return self.o(self.post_norm(z))

    def inner(self, xq, xk, xv, eta, scale, b, keep=None):
        """The inner model's outputs XQ + LN(...) per mini-batch, [b, H, m, hd] each (dual form);
        keep [b, H, n]: gated forgetting (else the layer's forget_value())."""
        H, hd, B, n = self.H, self.hd, self.B, xq.shape[2]
        lnw, lnb = self.ln_weight[:, None, :], self.ln_bias[:, None, :]
        W0 = W = self.W1.expand(b, H, hd, hd)
        bias0 = bias = self.b1[None, :, None, :].expand(b, H, 1, hd)
        forget = self.forget_value()
        outs = []
        for t0 in range(0, n, B):
            m = min(B, n - t0)
            q, k, v = xq[:, :, t0:t0 + m], xk[:, :, t0:t0 + m], xv[:, :, t0:t0 + m]
            e = eta[:, :, t0:t0 + m]                                     # [b, H, m]
            s = scale[:m]
            g = layer_norm_l2_grad(k @ W + bias, v - k, lnw, lnb, self.eps)          # [b, H, m, hd]
            mix = torch.tril(q @ k.transpose(-1, -2) + 1.0) * e[:, :, None, :] * s[:, None]   # [b, H, m, m]
            z = q @ W + bias - mix @ g
            outs.append(q + layer_norm_rows(z, lnw, lnb, self.eps))
            if m == B:
                eg = e[..., None] * g                                    # [b, H, B, hd]
                W = W - s[-1] * (k.transpose(-1, -2) @ eg)
                bias = bias - s[-1] * eg.sum(2, keepdim=True)
                if keep is not None:
                    f = keep[:, :, t0 + B - 1, None, None]                  # [b, H, 1, 1]
                    W = W0 + f * (W - W0)
                    bias = bias0 + f * (bias - bias0)
                elif forget is not None:   # decay toward the initial fast weights
                    W = W0 + forget * (W - W0)
                    bias = bias0 + forget * (bias - bias0)
        return outs


def gelu_tanh_grad(x):
    """d/dx of F.gelu(x, approximate="tanh") (ttt-lm-pytorch's gelu_bwd)."""
    t = torch.tanh(0.79788456 * x * (1 + 0.044715 * x * x))
    return 0.5 * x * ((1 - t * t) * (0.79788456 + 0.1070322243 * x * x)) + 0.5 * (1 + t)


class TTTMLP(TTTLinear):
    """TTT-MLP (ttt-lm-pytorch's TTTMLP, mixers/ttt_mlp.lua): TTT-Linear's layer with a
    two-layer MLP per head as the inner model, f(x) = gelu_tanh(x W1 + b1) W2 + b2,
    W1 [hd, 4 hd], W2 [4 hd, hd]; dual form over each mini-batch."""

    def __init__(self, d, n_head, mini_batch, base_lr, rope_theta, eps, conv_kernel=0, share_qk=False):
        super().__init__(d, n_head, mini_batch, base_lr, rope_theta, eps, conv_kernel, share_qk, 1.0)
        hd = d // n_head
        F_ = 4 * hd
        self.W1 = nn.Parameter(torch.randn(n_head, hd, F_) * 0.02)
        self.b1 = nn.Parameter(torch.zeros(n_head, F_))
        self.W2 = nn.Parameter(torch.randn(n_head, F_, hd) * 0.02)
        self.b2 = nn.Parameter(torch.zeros(n_head, hd))

    def inner(self, xq, xk, xv, eta, scale, b, keep=None):
        assert keep is None, "ttt_mlp has no forgetting"
        H, B, n = self.H, self.B, xq.shape[2]
        lnw, lnb = self.ln_weight[:, None, :], self.ln_bias[:, None, :]
        W1, b1 = self.W1.expand(b, *self.W1.shape), self.b1[None, :, None, :]
        W2, b2 = self.W2.expand(b, *self.W2.shape), self.b2[None, :, None, :]
        outs = []
        for t0 in range(0, n, B):
            m = min(B, n - t0)
            q, k, v = xq[:, :, t0:t0 + m], xk[:, :, t0:t0 + m], xv[:, :, t0:t0 + m]
            e = eta[:, :, t0:t0 + m]
            s = scale[:m]
            z1 = k @ W1 + b1                                             # [b, H, m, F]
            x2 = F.gelu(z1, approximate="tanh")
            g2 = layer_norm_l2_grad(x2 @ W2 + b2, v - k, lnw, lnb, self.eps)       # [b, H, m, hd]
            g1 = (g2 @ W2.transpose(-1, -2)) * gelu_tanh_grad(z1)                  # [b, H, m, F]
            weights = e[:, :, None, :] * s[:, None]                                 # [b, H, m, m]: s_i eta_j
            z1q = q @ W1 + b1 - (torch.tril(q @ k.transpose(-1, -2) + 1.0) * weights) @ g1
            x2q = F.gelu(z1q, approximate="tanh")
            z2q = x2q @ W2 + b2 - (torch.tril(x2q @ x2.transpose(-1, -2) + 1.0) * weights) @ g2
            outs.append(q + layer_norm_rows(z2q, lnw, lnb, self.eps))
            if m == B:
                eg1, eg2 = e[..., None] * g1, e[..., None] * g2
                W1 = W1 - s[-1] * (k.transpose(-1, -2) @ eg1)
                b1 = b1 - s[-1] * eg1.sum(2, keepdim=True)
                W2 = W2 - s[-1] * (x2.transpose(-1, -2) @ eg2)
                b2 = b2 - s[-1] * eg2.sum(2, keepdim=True)
        return outs


class Attention(nn.Module):
    def __init__(self, d, n_head, rope_theta):
        super().__init__()
        self.H, self.hd, self.theta = n_head, d // n_head, rope_theta
        self.q, self.k, self.v, self.o = (BitLinear(d, d) for _ in range(4))

    def forward(self, h, pos0=0):
        b, n, d = h.shape
        pos = torch.arange(n) + pos0
        split = lambda x: x.view(b, n, self.H, self.hd).transpose(1, 2)
        q = rope_interleaved(split(self.q(h)), pos, self.theta)
        k = rope_interleaved(split(self.k(h)), pos, self.theta)
        v = split(self.v(h))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
        att = att.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
        y = att.softmax(-1) @ v
        return self.o(y.transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    def __init__(self, cfg, mixer):
        super().__init__()
        d = cfg["dim"]
        self.attn_norm = RMSNorm(d, cfg["rms_eps"])
        self.ffn_norm = RMSNorm(d, cfg["rms_eps"])
        if mixer == "ttt_linear":
            self.mixer = TTTLinear(d, cfg["heads"], cfg["mini_batch"], cfg["ttt_base_lr"], cfg["rope_theta"], cfg["ttt_eps"],
                                   cfg.get("ttt_conv_kernel", 0), cfg.get("ttt_share_qk", False), cfg.get("ttt_forget", 1.0),
                                   cfg.get("ttt_learn_forget", False), cfg.get("ttt_forget_gate", False))
        elif mixer == "ttt_mlp":
            self.mixer = TTTMLP(d, cfg["heads"], cfg["mini_batch"], cfg["ttt_base_lr"], cfg["rope_theta"], cfg["ttt_eps"],
                                cfg.get("ttt_conv_kernel", 0), cfg.get("ttt_share_qk", False))
        else:
            self.mixer = Attention(d, cfg["heads"], cfg["rope_theta"])
        self.gate, self.up = BitLinear(d, cfg["ff"]), BitLinear(d, cfg["ff"])
        self.down = BitLinear(cfg["ff"], d)

    def forward(self, x):
        x = x + self.mixer(self.attn_norm(x))
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class BitLlama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg["vocab"], cfg["dim"])
        nn.init.normal_(self.embed.weight, std=0.02)
        self.blocks = nn.ModuleList(Block(cfg, m) for m in cfg["mixers"])
        self.norm = RMSNorm(cfg["dim"], cfg["rms_eps"])

    def embedding(self):
        return f16_round(self.embed.weight) if BitLinear.export_values else self.embed.weight

    def forward(self, ids):
        e = self.embedding()
        x = e[ids]
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x) @ e.t()

    def set_ttt_lr_mult(self, mult):
        for blk in self.blocks:
            if isinstance(blk.mixer, TTTLinear):
                blk.mixer.lr_mult = mult
