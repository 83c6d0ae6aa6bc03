#!/usr/bin/python3
"""train.py - trains a small BitLlama (bitttt architecture) with QAT on Debian's
fortunes and writes the hand-off for export.lua.

  /usr/bin/python3 scripts/train/train.py prepare --data DIR
      trains the BPE tokenizer, tokenizes the corpus, writes DIR/heldout.txt
  /usr/bin/python3 scripts/train/train.py train --data DIR --out RUN [--mixer ttt_linear|attention] [options]
      trains (resuming from RUN/ckpt.pt when it exists), logs loss and tokens/s,
      checkpoints every --ckpt-every steps, and at the end writes RUN/model.safetensors
  /usr/bin/python3 scripts/train/train.py handoff --data DIR --out RUN
      writes RUN/model.safetensors from the last checkpoint (e.g. of an unfinished run)

Deterministic for a seed: the initial weights, the document order and every
batch (a function of seed and step alone, so a resumed run sees what an
uninterrupted one would) depend on nothing else; torch uses --threads threads.
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe          # noqa: E402
import data         # noqa: E402
import handoff      # noqa: E402
import model as M   # noqa: E402
import safetensors_io  # noqa: E402

# the held-out domain's recall documents: RECALL_COUNT of RECALL_MIN..RECALL_MAX tokens
RECALL_MIN, RECALL_MAX, RECALL_COUNT = 500, 1500, 40


def prepare(args):
    os.makedirs(args.data, exist_ok=True)
    train_docs, heldout_docs = data.split_documents(data.read_documents())
    tok = bpe.train([d.text for d in train_docs], args.vocab)
    tok.save(os.path.join(args.data, "tokenizer.json"))
    in_domain = [d for d in heldout_docs if d.domain != data.HELDOUT_DOMAIN]
    recall = [d for d in heldout_docs if d.domain == data.HELDOUT_DOMAIN]
    ids = {name: [tok.encode(d.text) for d in docs] for name, docs in
           (("train", train_docs), ("heldout", in_domain), ("recall", recall))}
    torch.save(ids, os.path.join(args.data, "tokens.pt"))
    cookies = [d.text for d in in_domain if d.domain == "fortunes"]
    # held-out cookies as one file, separated by fortune's "%" lines (repeated.sh, the stream perplexity)
    with open(os.path.join(args.data, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write("\n%\n".join(cookies) + "\n")
    write_repeated_document(args.data, tok, cookies)
    write_recall_set(os.path.join(args.data, "recall"), recall, ids["recall"])
    for name, docs in ids.items():
        print(f"prepare: {name}: {len(docs)} documents, {sum(map(len, docs))} tokens", flush=True)
    print(f"prepare: vocab {len(tok.tokens)}", flush=True)


def recall_choice(lengths, lo=RECALL_MIN, hi=RECALL_MAX, count=RECALL_COUNT):
    """Indexes of `count` documents of lo..hi tokens, evenly spread over the held-out domain."""
    fit = [i for i, n in enumerate(lengths) if lo <= n <= hi]
    step = max(1, len(fit) // count)
    return fit[::step][:count]


def write_recall_set(directory, docs, ids):
    """DIR/NNN.txt: the held-out domain's recall documents (scripts/train/recall.lua reads each twice)."""
    os.makedirs(directory, exist_ok=True)
    for n, i in enumerate(recall_choice([len(x) for x in ids])):
        with open(os.path.join(directory, f"{n:03d}.txt"), "w", encoding="utf-8") as f:
            f.write(docs[i].text)


def write_repeated_document(directory, tok, heldout_docs):
    """DIR/repeated.txt: the longest held-out document twice (each followed by a '%' line),
    and DIR/repeated.from: the token index (BOS = 0) where the second copy starts."""
    doc = max(heldout_docs, key=lambda d: len(tok.encode(d)))
    once = doc + "\n%\n"
    first = tok.encode(once)
    assert tok.encode(once + once) == first + first, "the two copies must tokenize alike"
    with open(os.path.join(directory, "repeated.txt"), "w", encoding="utf-8") as f:
        f.write(once + once)
    with open(os.path.join(directory, "repeated.from"), "w") as f:
        f.write(f"{1 + len(first)}\n")


def token_stream(docs, eos, seed, repeat_prob, max_gap=0):
    """All documents in a seeded order, each after an EOS. With probability
    repeat_prob a document is read a second time, after 0 to max_gap other
    documents (so recall is trained at distances of up to a few thousand tokens)."""
    rng = random.Random(seed)
    order = list(range(len(docs)))
    rng.shuffle(order)
    out, pending = [], []   # pending: [due after this many documents, index]
    for n, i in enumerate(order):
        out.append(eos)
        out.extend(docs[i])
        if rng.random() < repeat_prob:
            pending.append((n + rng.randint(0, max_gap), i))
        while pending and min(pending)[0] <= n:
            _, j = pending.pop(pending.index(min(pending)))
            out.append(eos)
            out.extend(docs[j])
    return torch.tensor(out, dtype=torch.long)


def batch_at(stream, step, args):
    g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
    starts = torch.randint(0, len(stream) - args.seq - 1, (args.batch,), generator=g)
    rows = torch.stack([stream[s:s + args.seq + 1] for s in starts.tolist()])
    return rows[:, :-1], rows[:, 1:]


def lr_at(step, args):
    warm = max(1, args.steps // 20)
    if step < warm:
        return args.lr * (step + 1) / warm
    t = (step - warm) / max(1, args.steps - warm)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def config(args, vocab):
    return {"vocab": vocab, "dim": args.dim, "heads": args.heads, "ff": args.ff, "mini_batch": args.mini_batch,
            "ttt_base_lr": args.ttt_base_lr, "ttt_conv_kernel": args.ttt_conv_kernel,
            "ttt_share_qk": bool(args.ttt_share_qk), "ttt_forget": args.ttt_forget,
            "ttt_learn_forget": bool(args.ttt_learn_forget), "ttt_forget_gate": bool(args.ttt_forget_gate),
            "ttt_learn_token_idx": bool(args.ttt_learn_token_idx), "rope_theta": 10000.0, "ttt_eps": 1e-6, "rms_eps": 1e-5,
            "context": args.seq, "mixers": [args.mixer] * args.layers}


@torch.no_grad()
def heldout_loss(net, docs, eos, seq):
    """Mean loss over the held-out documents, in rows of seq tokens."""
    stream = token_stream(docs, eos, 0, 0.0)
    n = (len(stream) - 1) // seq
    x = stream[:n * seq].view(n, seq)
    y = stream[1:n * seq + 1].view(n, seq)
    total = 0.0
    for i in range(0, n, 8):
        logits = net(x[i:i + 8])
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[i:i + 8].reshape(-1), reduction="sum").item()
    return total / (n * seq)


@torch.no_grad()
def recall_report(net, docs, eos):
    """The held-out domain's documents read twice each (EOS doc EOS doc): the median of
    second-copy over first-copy perplexity, and each learned forgetting."""
    net.eval()
    ratios = []
    for d in docs:
        x = torch.tensor([eos] + d + [eos] + d)
        nll = F.cross_entropy(net(x[None, :-1])[0], x[1:], reduction="none")
        n = len(d) + 1   # first copy: the doc's tokens and the EOS after it
        ratios.append(math.exp(nll[n:].mean().item() - nll[:n].mean().item()))
    net.train()
    def forget(mixer):   # the learned value, or with a gate the mean of its starting point over the heads
        if getattr(mixer, "forget_weight", None) is not None:
            return torch.sigmoid(mixer.forget_bias).mean()
        return mixer.forget_value() if hasattr(mixer, "forget_value") else None
    shown = " ".join(f"{float(f):.4f}" for f in map(forget, (blk.mixer for blk in net.blocks)) if f is not None)
    return f"recall ratio median {sorted(ratios)[len(ratios) // 2]:.3f} over {len(ratios)} documents; forget {shown}"


def train(args):
    torch.set_num_threads(args.threads)
    tok = bpe.Tokenizer.load(os.path.join(args.data, "tokenizer.json"))
    corpus = torch.load(os.path.join(args.data, "tokens.pt"))
    stream = token_stream(corpus["train"], tok.eos, args.seed, args.repeat_prob, args.repeat_gap)
    recall_docs = [corpus["recall"][i] for i in recall_choice([len(x) for x in corpus["recall"]])][::8]
    cfg = config(args, len(tok.tokens))
    torch.manual_seed(args.seed)
    net = M.BitLlama(cfg)
    for blk in net.blocks:
        if hasattr(blk.mixer, "token_idx"):
            blk.mixer.token_idx.requires_grad_(cfg["ttt_learn_token_idx"])
    # weight decay on the projection matrices only (not the embedding, the initial fast weights or the convs)
    decays = lambda n, p: p.dim() >= 2 and not any(s in n for s in ("W1", "embed", "conv"))
    decay = [p for n, p in net.named_parameters() if decays(n, p)]
    other = [p for n, p in net.named_parameters() if not decays(n, p)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": other, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    step = 0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print(f"resumed from {ckpt_path} at step {step}", flush=True)
    n_params = sum(p.numel() for p in net.parameters())
    print(f"train: {args.mixer} x{args.layers}, d {args.dim}, ff {args.ff}, {n_params} parameters, "
          f"stream {len(stream)} tokens, {args.steps} steps of {args.batch}x{args.seq}", flush=True)
    t0, tokens, loss_sum, loss_n, last_loss = time.time(), 0, 0.0, 0, float("nan")
    while step < args.steps:
        x, y = batch_at(stream, step, args)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, args)
        logits = net(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += x.numel()
        last_loss = loss.item()
        loss_sum, loss_n = loss_sum + last_loss, loss_n + 1
        if step % args.log_every == 0 or step == args.steps:
            dt = time.time() - t0
            print(f"step {step}/{args.steps} loss {loss_sum / loss_n:.4f} lr {lr_at(step - 1, args):.2e} "
                  f"{tokens / dt:.0f} tok/s elapsed {dt:.0f}s", flush=True)
            loss_sum, loss_n = 0.0, 0
        if args.mixer != "attention" and (step % args.recall_every == 0 or step == args.steps):
            print(f"step {step} {recall_report(net, recall_docs, tok.eos)}", flush=True)
        if step % args.ckpt_every == 0 or step == args.steps:
            torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step, "config": cfg,
                        "loss": last_loss},
                       ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
    write_handoff(args, net, cfg, tok, corpus, step, last_loss)


def write_handoff(args, net, cfg, tok, corpus, step, final_loss):
    """Held-out loss, then RUN/model.safetensors for export.lua."""
    net.eval()
    ho = heldout_loss(net, corpus["heldout"], tok.eos, cfg["context"])
    print(f"held-out loss {ho:.4f} (perplexity {math.exp(ho):.2f}) over rows of {cfg['context']}", flush=True)
    meta = handoff.gguf_metadata(cfg, tok, args.name or f"bitttt-debian-{cfg['mixers'][0]}", step, args.seed)
    meta.update(sampling_metadata(args.sampling))   # what generate.lua uses unless told otherwise
    meta["train.step"] = str(step)
    meta["train.final_loss"] = f"{final_loss:.4f}"
    meta["train.heldout_loss"] = f"{ho:.4f}"
    meta["train.config"] = json.dumps(cfg)
    path = os.path.join(args.out, "model.safetensors")
    safetensors_io.save(path, handoff.gguf_tensors(net), meta)
    print(f"wrote {path}", flush=True)


SAMPLING_KEYS = {"temp": float, "top_k": int, "top_p": float, "min_p": float, "penalty_repeat": float,
                 "penalty_last_n": int, "penalty_freq": float, "penalty_present": float}


def sampling_metadata(settings):
    """GGUF general.sampling.* from ["KEY=VALUE", ...] (i32 for counts, f32 otherwise)."""
    meta = {}
    for setting in settings:
        key, _, value = setting.partition("=")
        kind = SAMPLING_KEYS.get(key)
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise SystemExit(f"train.py: --sampling {setting!r}: expected KEY=VALUE with KEY one of "
                             f"{', '.join(SAMPLING_KEYS)} and VALUE {'a whole number' if kind is int else 'a number'}")
        meta["general.sampling." + key] = f"{'i32' if kind is int else 'f32'}:{number!r}"
    return meta


def handoff_from_checkpoint(args):
    """RUN/model.safetensors from RUN/ckpt.pt (an unfinished run, or again)."""
    torch.set_num_threads(args.threads)
    tok = bpe.Tokenizer.load(os.path.join(args.data, "tokenizer.json"))
    corpus = torch.load(os.path.join(args.data, "tokens.pt"))
    ck = torch.load(os.path.join(args.out, "ckpt.pt"))
    net = M.BitLlama(ck["config"])
    net.load_state_dict(ck["model"])
    write_handoff(args, net, ck["config"], tok, corpus, ck["step"], ck.get("loss", float("nan")))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["prepare", "train", "handoff"])
    ap.add_argument("--data", default="/tmp/bitttt-train/data", help="prepared corpus and tokenizer")
    ap.add_argument("--out", default="/tmp/bitttt-train/run", help="run directory (checkpoint, hand-off)")
    ap.add_argument("--name", default=None)
    ap.add_argument("--mixer", default="ttt_linear", choices=["ttt_linear", "ttt_mlp", "attention"])
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ff", type=int, default=768)
    ap.add_argument("--mini-batch", type=int, default=16)
    ap.add_argument("--ttt-base-lr", type=float, default=1.0)
    ap.add_argument("--ttt-conv-kernel", type=int, default=4, help="causal conv on TTT queries and keys (0: none)")
    ap.add_argument("--ttt-share-qk", type=int, default=1, help="1: one projection for TTT queries and keys")
    ap.add_argument("--ttt-forget", type=float, default=None,
                    help="after each mini-batch the fast weights keep this fraction of their change (1: no decay; "
                         "default 0.97 for ttt_linear, 1 for ttt_mlp, which has no forgetting)")
    ap.add_argument("--ttt-learn-forget", type=int, default=0,
                    help="1: each ttt_linear layer learns its forgetting, starting at --ttt-forget")
    ap.add_argument("--ttt-learn-token-idx", type=int, default=1,
                    help="0: keep each TTT layer's token_idx at 0 (position scales 1/(i+1)); learned, it can drive "
                         "the last position's scale, and with it what a mini-batch leaves in the fast weights, to 0")
    ap.add_argument("--ttt-forget-gate", type=int, default=0,
                    help="1: each ttt_linear head's forgetting is gated by its mini-batch's last input (starting at "
                         "--ttt-forget; a PyTorch experiment: the runtime does not read it yet)")
    ap.add_argument("--seq", type=int, default=512)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=2400)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--repeat-prob", type=float, default=0.5)
    ap.add_argument("--repeat-gap", type=int, default=0, help="a repeated document comes back after 0 to this many others")
    ap.add_argument("--recall-every", type=int, default=100, help="steps between recall reports (PyTorch)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sampling", action="append", default=[], metavar="KEY=VALUE",
                    help="a sampling setting the exported model recommends (GGUF general.sampling.KEY, the keys "
                         "llama.cpp reads: temp, top_k, top_p, min_p, penalty_repeat, penalty_last_n, penalty_freq, "
                         "penalty_present); repeat it for several")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--ckpt-every", type=int, default=50)
    args = ap.parse_args()
    if args.ttt_forget is None:
        args.ttt_forget = 1.0 if args.mixer == "ttt_mlp" else 0.97
    if args.mixer == "ttt_mlp" and args.ttt_forget != 1.0:
        ap.error("--ttt-forget: ttt_mlp layers have no forgetting (use 1)")
    {"prepare": prepare, "train": train, "handoff": handoff_from_checkpoint}[args.command](args)


if __name__ == "__main__":
    main()
