#!/usr/bin/env bash
# fuzz.sh - runs a libFuzzer harness of spec/fuzz/ (built by spec/fuzz/Makefile with
# clang, ASan + UBSan) for a bounded time, on a working copy of its seed corpus
# (build/fuzz/corpus/TARGET, kept between runs; spec/fuzz/corpus/TARGET holds the seeds).
# A crash, a sanitizer report, a leak, a timeout (10 s per input) or an input using more
# than 2 GiB fails it; the reproducer is saved under build/fuzz/crashes/TARGET/ and its
# path printed. Prints "fuzz TARGET: N runs, cov N, ft N, corpus N" and exits non-zero on a finding.
#
#   ./scripts/fuzz.sh TARGET SECONDS      e.g. ./scripts/fuzz.sh gguf 600
#   ./scripts/fuzz.sh all SECONDS         each harness in turn, SECONDS each
#   ./scripts/fuzz.sh list                the harness names
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
targets=(gguf safetensors llama2c tokenizer model_gguf model_safetensors model_llama2c state chat)

[ "${1:-}" = list ] && { printf '%s\n' "${targets[@]}"; exit 0; }
if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
    echo "usage: scripts/fuzz.sh TARGET|all SECONDS (targets: ${targets[*]})" >&2
    exit 2
fi
target=$1 seconds=$2
if [ "$target" = all ]; then
    rc=0
    for t in "${targets[@]}"; do "$0" "$t" "$seconds" || rc=1; done
    exit $rc
fi
printf '%s\n' "${targets[@]}" | grep -qx "$target" || { echo "fuzz.sh: unknown target '$target' (${targets[*]})" >&2; exit 2; }

make -s -f spec/fuzz/Makefile -j"$(nproc 2>/dev/null || echo 2)" "build/fuzz/fuzz_$target" >/dev/null ||
    { echo "fuzz $target: build failed"; exit 1; }

corpus=build/fuzz/corpus/$target crashes=build/fuzz/crashes/$target
mkdir -p "$corpus" "$crashes"
log=build/fuzz/$target.log
export BITTTT_ROOT="$root"
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "build/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" "spec/fuzz/corpus/$target" >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -1)
echo "fuzz $target: ${runs:-?} runs in ${seconds} s, ${cov:-no coverage line} (log $log)"
if [ $rc -ne 0 ]; then
    grep -E '^==[0-9]+==ERROR|runtime error:|SUMMARY:|^ERROR: libFuzzer' "$log" | head -5
    repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    echo "fuzz $target: FAILED (exit $rc); reproduce with: build/fuzz/fuzz_$target ${repro:-"(no reproducer written, see $log)"}"
    exit 1
fi
