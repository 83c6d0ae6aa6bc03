#!/usr/bin/env bash
# train.sh - the whole recipe of models/default.gguf and its baseline (see
# models/README.md): setup, corpus and tokenizer, both trainings side by side
# (one thread each), export to GGUF, the agreement fixture.
#
#   scripts/train/train.sh [WORK_DIR]      (default /tmp/bitttt-train)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/bitttt-train}
steps=${STEPS:-1000}
scripts/train/setup.sh
[ -x bin/bitttt-lua ] || ./scripts/build.sh
/usr/bin/python3 scripts/train/train.py prepare --data "$work/data"
# 2,048-token rows; a third of the documents come back after 0 to 2 others (recall over
# up to a few thousand tokens); the TTT layers learn their forgetting, starting at 0.99
common=(--data "$work/data" --seq 2048 --batch 2 --steps "$steps" --repeat-prob 0.35 --repeat-gap 2 --threads 1)
/usr/bin/python3 scripts/train/train.py train "${common[@]}" --out "$work/ttt_linear" --mixer ttt_linear \
    --ttt-forget 0.99 --ttt-learn-forget 1 > "$work/ttt_linear.log" 2>&1 &
/usr/bin/python3 scripts/train/train.py train "${common[@]}" --out "$work/attention" --mixer attention \
    > "$work/attention.log" 2>&1 &
wait
for mixer in ttt_linear attention; do
    bin/bitttt-lua scripts/train/export.lua "$work/$mixer/model.safetensors" "$work/$mixer.gguf"
done
/usr/bin/python3 scripts/train/fixture.py --run "$work/ttt_linear" --data "$work/data" \
    -o spec/fixtures/default_model_logits.safetensors
cp "$work/ttt_linear.gguf" models/default.gguf
echo "train.sh: models/default.gguf and spec/fixtures/default_model_logits.safetensors updated; logs in $work"
