#!/usr/bin/python3
"""fixture.py - the agreement fixture for spec/default_model_spec.lua: the
PyTorch logits of a trained run on a fixed held-out sequence, computed with the
exact values the exported GGUF holds, and the trainer tokenizer's ids for a
held-out text.

  /usr/bin/python3 scripts/train/fixture.py --run RUN --data DATA -o FILE.safetensors

FILE holds `ids` [n] (as f32), `logits` [n, cols] (row p: the prediction after
ids[0..p], vocabulary ids 0 .. cols-1 only, to stay small), `logits_float` [n, cols]
(the same with float activations into the projections: no int8 rounding, so no
rounding ties that f32 summation order could break either way), `text_ids` [m], and
metadata `text` (the held-out text of text_ids), `prefill` (where the spec
switches from the batch to one token at a time), `recall_text` (the shortest of
the held-out domain's recall documents, which the spec reads twice).
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe              # noqa: E402
import data             # noqa: E402
import model as M       # noqa: E402
import safetensors_io   # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--n", type=int, default=37, help="sequence length (BOS included)")
    ap.add_argument("--cols", type=int, default=1024, help="vocabulary columns kept")
    ap.add_argument("--prefill", type=int, default=21)
    args = ap.parse_args()
    torch.set_num_threads(1)
    tok = bpe.Tokenizer.load(os.path.join(args.data, "tokenizer.json"))
    ck = torch.load(os.path.join(args.run, "ckpt.pt"))
    net = M.BitLlama(ck["config"])
    net.load_state_dict(ck["model"])
    net.eval()
    _, heldout = data.split_documents(data.read_documents())
    text = "\n%\n".join([d.text for d in heldout if d.domain == "fortunes"][:6])
    text_ids = tok.encode(text)
    ids = torch.tensor([tok.bos] + text_ids[:args.n - 1])
    M.BitLinear.export_values = True
    with torch.no_grad():
        logits = net(ids[None])[0, :, :args.cols]
        M.BitLinear.quantize_inputs = False
        logits_float = net(ids[None])[0, :, :args.cols]
    recall_dir = os.path.join(args.data, "recall")
    recall = [open(os.path.join(recall_dir, n), encoding="utf-8").read() for n in sorted(os.listdir(recall_dir))]
    recall_text = min(recall, key=lambda t: len(tok.encode(t)))
    safetensors_io.save(args.output, [("ids", ids.float()), ("logits", logits), ("logits_float", logits_float),
                                      ("text_ids", torch.tensor(text_ids).float())],
                        {"text": text, "prefill": str(args.prefill), "recall_text": recall_text, "run": os.path.basename(os.path.normpath(args.run))})
    print(f"wrote {args.output}: {len(ids)} ids, logits [{len(ids)}, {args.cols}], {len(text_ids)} text ids")


if __name__ == "__main__":
    main()
