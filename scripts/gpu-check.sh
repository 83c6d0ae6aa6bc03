#!/usr/bin/env bash
# gpu-check.sh - the checks to run on a GPU machine, from a copy of the tree that
# holds bin/ (built on the CPU machine with CUDA; LuaJIT and the CUDA runtime
# are linked statically), lua/ and scripts/. It installs nothing and needs no
# network, package manager, premake, LuaJIT or ../shared: the models it runs are
# synthetic, written here by scripts/make-bitnet.lua (random ternary weights, a
# made-up byte-level vocabulary). About 4 minutes at most (GPU_CHECK_BUDGET, s).
#
#   scripts/gpu-check.sh            (from the repo root or anywhere)
#   carry: bin/test-c bin/bench_cuda bin/bitttt-lua bin/lib (libgomp.so.1, libpcre2-8.so.0)
#
# Steps:
#   1. the GPU and driver; the 2B4T-shaped model starts being written in the
#      background (about 1.2 GB, 40-70 s of one core);
#   2. every CUDA C test (bin/test-c cuda): the kernels, and the ops with their
#      tensors on the GPU against the same ops on the CPU;
#   3. the kernel benchmark (bin/bench_cuda);
#   4. hybrid placement on a small synthetic BitNet (6 layers, d 512): greedy
#      tokens with no, half and all layers on the GPU must agree (they may part
#      only at a near-tie; scripts/cuda/hybrid_check.lua says why), then
#      generate.lua --n-gpu-layers auto --verbose shows a placement plan;
#   5. TTT-Linear layers on the GPU: the bundled default model (convs, forgetting) with
#      no, half and all layers there must agree as in step 4; its decode speed;
#   6. end to end on the BitNet b1.58 2B4T shape: prefill (64-token batch) and
#      decode tokens/s, all layers on the CPU, half, and all on the GPU, the same
#      binary on this machine's cores;
#   7. the CUDA tests again under compute-sanitizer memcheck, with the time left.
# The full log goes to $OUT/gpu-check.log when $OUT is set (else /tmp/gpu-check.log);
# a summary is printed last. Exit status: 0 when the tests and the agreement
# check passed and the end-to-end run worked, 1 otherwise.
set -u
cd "$(dirname "$0")/.."

# Shared libraries the image might lack (libgomp, libpcre2-8) can be carried in bin/lib.
export LD_LIBRARY_PATH="$PWD/bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log="${OUT:-/tmp}/gpu-check.log"
mkdir -p "$(dirname "$log")"
exec > >(tee "$log") 2>&1
start=$(date +%s)
budget=${GPU_CHECK_BUDGET:-235}
elapsed() { echo $(( $(date +%s) - start )); }
left() { echo $(( budget - $(elapsed) )); }
section() { printf '\n==== %s (t=%ds)\n' "$1" "$(elapsed)"; }
# cap SECONDS: the smaller of SECONDS and the time left (at least 1)
cap() { local l; l=$(left); [ "$l" -lt "$1" ] && echo $(( l > 1 ? l : 1 )) || echo "$1"; }

work=${TMPDIR:-/tmp}/gpu-check-models
mkdir -p "$work"
host=bin/bitttt-lua
tmp=/tmp/gpu-check
mkdir -p "$tmp"

# A binary that cannot start here (a missing shared library) says why.
can_run() {
    if [ ! -x "$1" ]; then echo "missing: $1 (build it on the CPU machine and carry bin/)"; return 1; fi
    if ldd "$1" 2>&1 | grep -q "not found"; then
        echo "$1 lacks shared libraries:"; ldd "$1" 2>&1 | grep "not found"; return 1
    fi
    return 0
}

section "machine"
uname -srm
nproc
nvidia-smi -L || echo "nvidia-smi -L failed"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem --format=csv || true

big="$work/bitnet-2b4t.gguf"
make_pid=""
if can_run "$host"; then
    rm -f "$big"
    echo "writing $big in the background"
    ( t0=$(date +%s)
      "$host" make-bitnet.lua "$big.part" --shape 2b4t --vocab synthetic:128256 --seed 7 && mv "$big.part" "$big"
      echo "make-bitnet 2b4t: exit status $?, $(( $(date +%s) - t0 )) s" ) >"$tmp/make-2b4t.txt" 2>&1 &
    make_pid=$!
fi

tests_rc=1
tests_line="not run"
section "CUDA C tests: bin/test-c cuda"
if can_run bin/test-c; then
    timeout "$(cap 150)" bin/test-c cuda 2>&1 | tee "$tmp/tests.txt"
    tests_rc=${PIPESTATUS[0]}
    tests_line=$(grep -E "passed, .* failed" "$tmp/tests.txt" | tail -1)
    [ "$tests_rc" = 124 ] && tests_line="TIMED OUT; $tests_line"
fi

section "benchmark: bin/bench_cuda"
: >"$tmp/bench.txt"
if can_run bin/bench_cuda; then
    timeout "$(cap 120)" bin/bench_cuda | tee "$tmp/bench.txt"
    echo "bench_cuda exit status ${PIPESTATUS[0]}"
fi

agree_line="not run"
agree_rc=1
section "hybrid placement: a small synthetic BitNet with no, half and all layers on the GPU"
small="$work/bitnet-small.gguf"
if can_run "$host" && timeout "$(cap 60)" "$host" make-bitnet.lua "$small" --vocab synthetic:4096 --dim 512 --layers 6 \
        --heads 8 --kv-heads 2 --ff 1536 --seed 5; then
    timeout "$(cap 90)" "$host" scripts/cuda/hybrid_check.lua agree "$small" --configs 0,half,all,auto \
        --prompt 16 --tokens 32 2>&1 | tee "$tmp/agree.txt"
    agree_rc=${PIPESTATUS[0]}
    agree_line=$(grep -E "^agree: (PASS|FAIL)" "$tmp/agree.txt" | tail -1)
    [ -z "$agree_line" ] && agree_line="no verdict (exit status $agree_rc)"
    echo "-- generate.lua --n-gpu-layers auto --verbose (stderr; its text is noise from random weights):"
    timeout "$(cap 30)" "$host" generate.lua -m "$small" -p "Hello" -n 16 --temp 0 --n-gpu-layers auto --verbose >/dev/null
    echo "generate.lua exit status $?"
fi

ttt_line="not run"
ttt_rc=1
section "TTT-Linear layers on the GPU: models/default.gguf (convs, forgetting) with no, half and all layers there"
if can_run "$host" && [ -f models/default.gguf ]; then
    timeout "$(cap 60)" "$host" scripts/cuda/hybrid_check.lua agree models/default.gguf --configs 0,half,all \
        --prompt 40 --tokens 48 2>&1 | tee "$tmp/ttt.txt"
    ttt_rc=${PIPESTATUS[0]}
    ttt_line=$(grep -E "^agree: (PASS|FAIL)" "$tmp/ttt.txt" | tail -1)
    [ -z "$ttt_line" ] && ttt_line="no verdict (exit status $ttt_rc)"
    timeout "$(cap 40)" "$host" scripts/cuda/hybrid_check.lua speed models/default.gguf --configs 0,all \
        --prompt 64 --tokens 64 2>&1 | tee -a "$tmp/ttt.txt"
fi

speed_rc=1
section "end to end on the BitNet b1.58 2B4T shape: CPU vs GPU"
if [ -n "$make_pid" ]; then
    while kill -0 "$make_pid" 2>/dev/null && [ "$(left)" -gt 40 ]; do sleep 1; done
    if kill -0 "$make_pid" 2>/dev/null; then
        echo "the 2B4T model is still being written; giving up on this step (time budget)"
        kill "$make_pid" 2>/dev/null
    fi
    cat "$tmp/make-2b4t.txt"
fi
if [ -f "$big" ]; then
    timeout "$(cap 120)" "$host" scripts/cuda/hybrid_check.lua speed "$big" --configs 0,half,all \
        --prompt 64 --tokens 16 2>&1 | tee "$tmp/speed.txt"
    speed_rc=${PIPESTATUS[0]}
    echo "hybrid_check speed exit status $speed_rc"
else
    echo "no 2B4T model: step skipped" | tee "$tmp/speed.txt"
fi

sanitizer_line="not run"
section "compute-sanitizer memcheck on the CUDA tests"
if command -v compute-sanitizer >/dev/null 2>&1 && [ -x bin/test-c ]; then
    l=$(( $(left) - 5 ))
    if [ "$l" -gt 15 ]; then
        timeout "$l" compute-sanitizer --tool memcheck --leak-check no --print-limit 20 bin/test-c cuda \
            >"$tmp/sanitizer.txt" 2>&1
        echo "compute-sanitizer exit status $? (124: stopped at the time limit of ${l}s)"
        grep -vE "^(ok  |skip)" "$tmp/sanitizer.txt" | tail -60
        sanitizer_line=$(grep -E "ERROR SUMMARY" "$tmp/sanitizer.txt" | tail -1)
        [ -z "$sanitizer_line" ] && sanitizer_line="no summary (time limit?)"
    else
        sanitizer_line="skipped: no time left"
    fi
else
    sanitizer_line="compute-sanitizer not installed"
fi

section "summary"
nvidia-smi -L 2>/dev/null | head -1
echo "tests:      $tests_line (exit status $tests_rc)"
grep -E "^FAIL|check failed" "$tmp/tests.txt" 2>/dev/null | head -20
echo "agreement:  $agree_line"
grep -E "^agree .*(FAIL|ERROR)" "$tmp/agree.txt" 2>/dev/null
echo "TTT layers: $ttt_line"
grep -E "^agree .*(FAIL|ERROR)|^speed" "$tmp/ttt.txt" 2>/dev/null
echo "sanitizer:  $sanitizer_line"
cat "$tmp/bench.txt"
echo "end to end (hybrid_check speed, exit status $speed_rc):"
grep -E "^speed" "$tmp/speed.txt" 2>/dev/null || cat "$tmp/speed.txt"
echo "total time: $(elapsed) s; log: $log"
[ "$tests_rc" = 0 ] && [ "$agree_rc" = 0 ] && [ "$ttt_rc" = 0 ] && [ "$speed_rc" = 0 ]
