#!/usr/bin/env bash
# train.sh - the whole recipe of models/default.gguf and its baseline (see
# models/README.md): setup, corpus and tokenizer, both trainings side by side
# (one thread each), export to GGUF, the agreement fixture.
#
#   scripts/train/train.sh [WORK_DIR]      (default /tmp/bitttt-train)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-/tmp/bitttt-train}
steps=${STEPS:-2400}
scripts/train/setup.sh
[ -x bin/bitttt-lua ] || ./scripts/build.sh
/usr/bin/python3 scripts/train/train.py prepare --data "$work/data"
for mixer in ttt_linear attention; do
    /usr/bin/python3 scripts/train/train.py train --data "$work/data" --out "$work/$mixer" --mixer "$mixer" \
        --steps "$steps" --threads 1 > "$work/$mixer.log" 2>&1 &
done
wait
for mixer in ttt_linear attention; do
    bin/bitttt-lua scripts/train/export.lua "$work/$mixer/model.safetensors" "$work/$mixer.gguf"
done
/usr/bin/python3 scripts/train/fixture.py --run "$work/ttt_linear" --data "$work/data" \
    -o spec/fixtures/default_model_logits.safetensors
cp "$work/ttt_linear.gguf" models/default.gguf
echo "train.sh: models/default.gguf and spec/fixtures/default_model_logits.safetensors updated; logs in $work"
