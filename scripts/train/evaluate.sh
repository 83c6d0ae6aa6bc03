#!/usr/bin/env bash
# evaluate.sh - the numbers of models/README.md, with scripts/perplexity.lua on
# the exported GGUFs of train.sh (WORK/ttt_linear.gguf, WORK/attention.gguf):
#   held-out perplexity per position bucket: TTT (one stream, learning), TTT frozen
#   (--ttt-lr 0), the attention baseline (windows of its training context);
#   the repeated held-out document: learning, frozen, attention (-c 2048 and -c 1024);
#   every held-out cookie of 100 tokens or more read twice (scripts/train/repeated.sh):
#   learning, frozen, attention (-c 1024: both copies in view);
#   the held-out domain's recall documents read twice (scripts/train/recall.lua):
#   learning, frozen, attention (both copies in view);
#   the outside check: the first paragraphs (up to 3,000 characters) of seven licence texts
#   in /usr/share/common-licenses, which no training domain holds, read twice the same way;
#   generation with the file's recommended sampling: 20 prompts, 200 tokens each,
#   how many samples loop (scripts/train/loops.sh).
#
#   scripts/train/evaluate.sh [WORK_DIR]      (default /tmp/bitttt-train); results in WORK/eval/
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/bitttt-train}
out="$work/eval"
mkdir -p "$out"
ppl() { local name=$1; shift; bin/bitttt-lua scripts/perplexity.lua "$@" > "$out/$name.txt"; echo "== $name"; cat "$out/$name.txt"; }
heldout="$work/data/heldout.txt" twice="$work/data/repeated.txt" from=$(cat "$work/data/repeated.from")
ppl heldout-ttt -m "$work/ttt_linear.gguf" -f "$heldout"
ppl heldout-ttt-frozen -m "$work/ttt_linear.gguf" -f "$heldout" --ttt-lr 0
ppl heldout-attention -m "$work/attention.gguf" -f "$heldout"
ppl repeated-ttt -m "$work/ttt_linear.gguf" -f "$twice" --from "$from"
ppl repeated-ttt-frozen -m "$work/ttt_linear.gguf" -f "$twice" --from "$from" --ttt-lr 0
ppl repeated-attention-2048 -m "$work/attention.gguf" -f "$twice" --from "$from" -c 2048
ppl repeated-attention-1024 -m "$work/attention.gguf" -f "$twice" --from "$from" -c 1024
rep() { local name=$1; shift; scripts/train/repeated.sh "$@" > "$out/$name.txt"; echo "== $name"; cat "$out/$name.txt"; }
rep repeated-docs-ttt "$work/ttt_linear.gguf" "$heldout" 100
rep repeated-docs-ttt-frozen "$work/ttt_linear.gguf" "$heldout" 100 --ttt-lr 0
rep repeated-docs-attention "$work/attention.gguf" "$heldout" 100 -c 1024
lua() { local name=$1; shift; bin/bitttt-lua "$@" > "$out/$name.txt"; echo "== $name"; tail -n 2 "$out/$name.txt"; }
lua recall-ttt scripts/train/recall.lua -m "$work/ttt_linear.gguf" -d "$work/data/recall"
lua recall-ttt-frozen scripts/train/recall.lua -m "$work/ttt_linear.gguf" -d "$work/data/recall" --ttt-lr 0
lua recall-attention scripts/train/recall.lua -m "$work/attention.gguf" -d "$work/data/recall"
licences="$work/data/licences"
mkdir -p "$licences"
for name in Apache-2.0 Artistic CC0-1.0 GFDL-1.3 GPL-3 LGPL-2.1 MPL-2.0; do
    awk 'BEGIN { RS = "" } { if (n + length($0) + 2 > 3000) exit; printf "%s%s", (n ? "\n\n" : ""), $0; n += length($0) + 2 }
         END { print "" }' "/usr/share/common-licenses/$name" > "$licences/$name.txt"
done
lua outside-ttt scripts/train/recall.lua -m "$work/ttt_linear.gguf" -d "$licences"
lua outside-ttt-frozen scripts/train/recall.lua -m "$work/ttt_linear.gguf" -d "$licences" --ttt-lr 0
lua outside-attention scripts/train/recall.lua -m "$work/attention.gguf" -d "$licences"
scripts/train/loops.sh "$work/ttt_linear.gguf" scripts/train/prompts.txt > "$out/loops.txt"
echo "== loops"; tail -n 1 "$out/loops.txt"
