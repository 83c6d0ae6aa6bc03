#!/usr/bin/env bash
# gpu-scale.sh - the GPU machine's measurements that gpu-check.sh does not make:
#   1. CPU scaling: decode and prefill of a synthetic BitNet b1.58 2B4T-shaped TQ2_0
#      file (generate.lua: a 128-token prompt, then 32 greedy tokens) at THREADS
#      (default "1 2 4 8 16"), each beside the read bandwidth that bench-ternary.lua's
#      1 GiB probe measures at that thread count; medians of REPS (3) interleaved rounds;
#   2. a 70B-shaped file (make-bitnet.lua --shape 70b: 80 layers, d 8192; about 18 GB):
#      decode with as many layers on the GPU as fit, then with the placer capped at
#      GPU_MEM (default 8GiB) so that most layers run on the CPU: the plan and tok/s.
# Both files are written with --same-layers (every layer holds the first one's
# weights: seconds instead of minutes; the speed does not depend on the values).
#
#   scripts/gpu-scale.sh      (carry bin/ as for gpu-check.sh; the files go to $TMPDIR or /tmp)
#   SKIP_70B=1 THREADS="1 2" REPS=1 scripts/gpu-scale.sh     (a dry run on a small machine)
set -euo pipefail
cd "$(dirname "$0")/.."
export LD_LIBRARY_PATH="$PWD/bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
host=bin/bitttt-lua
work=${TMPDIR:-/tmp}/gpu-scale
mkdir -p "$work"
threads=${THREADS:-1 2 4 8 16}
reps=${REPS:-3}
gpu_mem=${GPU_MEM:-8GiB}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# "prompt_tok_s generate_tok_s" from generate.lua's timings line
timings() { sed -n 's/.*prompt [0-9]* tok \([0-9.]*\) tok\/s, generate [0-9]* tok \([0-9.]*\) tok\/s.*/\1 \2/p'; }

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

b2b=$work/b2b-tq2_0.gguf
[ -f "$b2b" ] || $host make-bitnet.lua "$b2b" --shape 2b4t --type tq2_0 --vocab synthetic:128256 --same-layers
bytes=$($host bench-compare-info.lua "$b2b" bytes)
prompt=$($host bench-compare-info.lua "$b2b" prompt 128)
for r in $(seq 1 "$reps"); do
    for t in $threads; do
        $host bench-ternary.lua --bandwidth-only --threads "$t" --reps 1 |
            sed -n 's/.*read bandwidth \([0-9.]*\) GB\/s.*/\1/p' >> "$work/bw.$t"
        $host generate.lua -m "$b2b" -p "$prompt" -n 32 --temp 0 -t "$t" -b 128 2>&1 >/dev/null | tail -1 | timings > "$work/o"
        read -r pp tg < "$work/o"
        echo "$pp" >> "$work/pp.$t"; echo "$tg" >> "$work/tg.$t"
    done
done
echo
echo "== CPU scaling: $b2b ($(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') read per token), medians of $reps"
echo "| threads | read GB/s | prefill tok/s | decode tok/s | decode x bytes/token | of read bandwidth |"
echo "|---|---|---|---|---|---|"
for t in $threads; do
    awk -v t="$t" -v bw="$(median < "$work/bw.$t")" -v pp="$(median < "$work/pp.$t")" \
        -v tg="$(median < "$work/tg.$t")" -v b="$bytes" 'BEGIN {
        printf "| %d | %.1f | %.1f | %.2f | %.1f GB/s | %.0f%% |\n", t, bw, pp, tg, tg * b / 1e9, 100 * tg * b / 1e9 / bw }'
done
rm -f "$work"/bw.* "$work"/pp.* "$work"/tg.*

[ -n "${SKIP_70B:-}" ] && exit 0
w70=$work/70b-tq2_0.gguf
[ -f "$w70" ] || $host make-bitnet.lua "$w70" --shape 70b --type tq2_0 --vocab synthetic:128256 --same-layers
echo
echo "== 70B shape: $w70 ($(du -h "$w70" | cut -f1))"
for cap in "" "$gpu_mem"; do
    echo "-- --n-gpu-layers auto${cap:+ --gpu-mem $cap}"
    $host generate.lua -m "$w70" -p "$prompt" -n 16 --temp 0 -b 128 --n-gpu-layers auto ${cap:+--gpu-mem "$cap"} \
        --verbose 2>&1 >/dev/null | grep -E "^placement|^  on |timings|error" || true
done
