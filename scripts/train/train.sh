#!/usr/bin/env bash
# train.sh - the whole recipe of the successor of models/default.gguf and its
# baseline (models/README.md, "Its successor, in training"): setup, corpus and
# tokenizer, both trainings side by side (one thread each), export to GGUF, the
# agreement fixture; then it copies the TTT model over models/default.gguf.
# A stopped run resumes from its checkpoints when started again.
#
#   scripts/train/train.sh [WORK_DIR]      (default /tmp/bitttt-train)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/bitttt-train}
steps=${STEPS:-1000}
scripts/train/setup.sh
[ -x bin/bitttt-lua ] || ./scripts/build.sh
/usr/bin/python3 scripts/train/train.py prepare --data "$work/data"
# 2,048-token rows for TTT, half of the documents read a second time right after themselves;
# the TTT layers have 2 heads of 128 (twice the fast weights of 4 x 64, at the same cost per
# step), keep 0.997 of their change per mini-batch and their position scales fixed.
# The attention baseline sees the same tokens in 512-token rows (at 2,048 one of its steps
# takes 20 s on one core here: 5.7 hours). Both files recommend the same sampling.
common=(--data "$work/data" --steps "$steps" --repeat-prob 0.5 --repeat-gap 0 --threads 1
        --sampling temp=1.0 --sampling top_k=0 --sampling top_p=1.0 --sampling min_p=0.02
        --sampling penalty_repeat=1.1 --sampling penalty_last_n=-1 --sampling penalty_freq=0.1
        --sampling penalty_present=0.1)
/usr/bin/python3 scripts/train/train.py train "${common[@]}" --seq 2048 --batch 2 --out "$work/ttt_linear" \
    --mixer ttt_linear --heads 2 --ttt-forget 0.997 --ttt-learn-token-idx 0 > "$work/ttt_linear.log" 2>&1 &
/usr/bin/python3 scripts/train/train.py train "${common[@]}" --seq 512 --batch 8 --out "$work/attention" \
    --mixer attention > "$work/attention.log" 2>&1 &
wait
for mixer in ttt_linear attention; do
    bin/bitttt-lua scripts/train/export.lua "$work/$mixer/model.safetensors" "$work/$mixer.gguf"
done
/usr/bin/python3 scripts/train/fixture.py --run "$work/ttt_linear" --data "$work/data" \
    -o spec/fixtures/default_model_logits.safetensors
cp "$work/ttt_linear.gguf" models/default.gguf
echo "train.sh: models/default.gguf and spec/fixtures/default_model_logits.safetensors updated; logs in $work"
