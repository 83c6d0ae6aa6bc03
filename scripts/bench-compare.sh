#!/usr/bin/env bash
# bench-compare.sh - our decode and prefill against another runtime's benchmark
# binary on the same GGUF, interleaved, with the read bandwidth of the same run.
#
#   LLAMA_BENCH=/path/to/llama-bench scripts/bench-compare.sh [MODEL.gguf]
#
# MODEL defaults to /tmp/b2b.gguf, made if missing by
#   bin/bitttt-lua make-bitnet.lua /tmp/b2b.gguf --shape 2b4t --type tq2_0 --vocab synthetic:128256
# Environment: THREADS (default "1 2"), REPS (default 3: medians of 3 interleaved rounds),
# PROMPT_TOKENS (128) and GEN_TOKENS (64), HEAD (q8_0 or q6_k: our --head option; the other
# runtime reads the file's head as it is), TYPE (tq2_0 or tq1_0 for the made file).
# Each round runs, per thread count: the 1 GiB read probe of bench-ternary.lua, our
# generate.lua (a 128-token prompt, then GEN_TOKENS greedy tokens), then
# `llama-bench -p PROMPT_TOKENS -n GEN_TOKENS -r 1`. A file whose architecture is
# "bitnet-b1.58" is given to the other runtime as a copy named "bitnet" (gguf-rename-arch.lua:
# keys renamed, tensor data unchanged), as llama.cpp at some commits knows only that name.
# Prints per thread count: prefill and decode tok/s of both, our/their ratio, decode
# tok/s x bytes read per token (bench-compare-info.lua: all tensors but the input
# embedding; the head as --head stores it) and that
# against the read bandwidth. Load average is printed beside the figures: the machine
# should be quiet.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
host="$root/bin/bitttt-lua"
model="${1:-/tmp/b2b.gguf}"
threads="${THREADS:-1 2}"
reps="${REPS:-3}"
n_prompt="${PROMPT_TOKENS:-128}"
n_gen="${GEN_TOKENS:-64}"
type="${TYPE:-tq2_0}"

if [[ -z "${LLAMA_BENCH:-}" || ! -x "${LLAMA_BENCH}" ]]; then
    echo "bench-compare.sh: set LLAMA_BENCH to the other runtime's llama-bench binary (got '${LLAMA_BENCH:-}')" >&2
    exit 2
fi
[[ -x "$host" ]] || { echo "bench-compare.sh: $host not built (scripts/build.sh release)" >&2; exit 2; }
if [[ ! -f "$model" ]]; then
    echo "writing $model (synthetic 2B4T shape, $type) ..." >&2
    "$host" make-bitnet.lua "$model" --shape 2b4t --type "$type" --vocab synthetic:128256 >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
theirs="$model"
arch="$("$host" bench-compare-info.lua "$model" arch)"
if [[ "$arch" == "bitnet-b1.58" ]]; then
    theirs="$tmp/$(basename "$model" .gguf)-arch-bitnet.gguf"
    "$host" gguf-rename-arch.lua "$model" "$theirs" bitnet >&2
fi
tensor_bytes="$("$host" bench-compare-info.lua "$model" bytes ${HEAD:-})"

# a prompt of n_prompt tokens for our tokenizer
prompt="$("$host" bench-compare-info.lua "$model" prompt "$n_prompt")"
head_opt=()
[[ -n "${HEAD:-}" ]] && head_opt=(--head "$HEAD")

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for r in $(seq 1 "$reps"); do
    for t in $threads; do
        "$host" bench-ternary.lua --bandwidth-only --threads "$t" --reps 1 |
            sed -n 's/.*read bandwidth \([0-9.]*\) GB\/s.*/\1/p' >> "$tmp/bw.$t"
        out="$("$host" generate.lua -m "$model" -p "$prompt" -n "$n_gen" --temp 0 -t "$t" -b "$n_prompt" "${head_opt[@]}" 2>&1 >/dev/null | tail -1)"
        echo "$out" | sed -n 's/.*prompt \([0-9]*\) tok \([0-9.]*\) tok\/s, generate \([0-9]*\) tok \([0-9.]*\) tok\/s.*rss \([0-9]*\) MiB.*/\1 \2 \3 \4 \5/p' > "$tmp/o"
        [[ -s "$tmp/o" ]] || { echo "bench-compare.sh: generate.lua failed: $out" >&2; exit 1; }
        read -r np pp ng tg rss < "$tmp/o"
        echo "$pp" >> "$tmp/our_pp.$t"; echo "$tg" >> "$tmp/our_tg.$t"; echo "$np $ng $rss" > "$tmp/our_n.$t"
        "$LLAMA_BENCH" -m "$theirs" -p "$n_prompt" -n "$n_gen" -t "$t" -r 1 -o jsonl > "$tmp/lb" 2> "$tmp/lb.err" ||
            { echo "bench-compare.sh: $LLAMA_BENCH failed:" >&2; tail -5 "$tmp/lb.err" >&2; exit 1; }
        for kind in pp tg; do
            if [[ $kind == pp ]]; then want="\"n_prompt\": *$n_prompt, *\"n_gen\": *0,"; else want="\"n_prompt\": *0, *\"n_gen\": *$n_gen,"; fi
            grep -E "$want" "$tmp/lb" | sed -n 's/.*"avg_ts": *\([0-9.e+-]*\).*/\1/p' | head -1 >> "$tmp/their_$kind.$t"
        done
        echo "round $r, threads $t: read $(tail -1 "$tmp/bw.$t") GB/s; prefill $pp / $(tail -1 "$tmp/their_pp.$t"), decode $tg / $(tail -1 "$tmp/their_tg.$t") tok/s (ours / theirs; load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    done
done

echo "bench-compare: $model ($arch, $(awk -v b="$tensor_bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') of tensors read per token)"
echo "other runtime: $LLAMA_BENCH on ${theirs##*/}; medians of $reps interleaved rounds; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ours: generate.lua, $(cut -d' ' -f1 "$tmp/our_n.$(echo $threads | cut -d' ' -f1)")-token prompt, greedy tokens${HEAD:+, --head $HEAD}; theirs: llama-bench -p $n_prompt -n $n_gen"
echo
echo "| threads | read GB/s | prefill ours | prefill theirs | ratio | decode ours | decode theirs | ratio | ours x bytes/tok | of read |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for t in $threads; do
    bw="$(median < "$tmp/bw.$t")"
    opp="$(median < "$tmp/our_pp.$t")"; otg="$(median < "$tmp/our_tg.$t")"
    tpp="$(median < "$tmp/their_pp.$t")"; ttg="$(median < "$tmp/their_tg.$t")"
    awk -v t="$t" -v bw="$bw" -v opp="$opp" -v otg="$otg" -v tpp="$tpp" -v ttg="$ttg" -v b="$tensor_bytes" 'BEGIN {
        gbs = otg * b / 1e9
        printf "| %d | %.1f | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx | %.1f GB/s | %.0f%% |\n",
            t, bw, opp, tpp, opp / tpp, otg, ttg, otg / ttg, gbs, 100 * gbs / bw }'
done
