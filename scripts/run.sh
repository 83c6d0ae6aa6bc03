#!/usr/bin/env bash
# run.sh - builds, then runs generate.lua on the bundled default model.
#   ./scripts/run.sh [generate.lua arguments]     (-m MODEL overrides the model)
# Until models/default.gguf exists, it generates a tiny random-weight model
# (build/tiny-random.gguf) so that every step runs; its text is noise.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh >&2
model_args=()
if [ ! -f models/default.gguf ] && ! printf '%s\n' "$@" | grep -qxE -- '-m|--model|--model=.*'; then
    [ -f build/tiny-random.gguf ] || bin/bitttt-lua make-tiny-model.lua build/tiny-random.gguf
    model_args=(-m build/tiny-random.gguf)
fi
exec bin/bitttt-lua generate.lua "${model_args[@]}" "$@"
