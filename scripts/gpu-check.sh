#!/usr/bin/env bash
# gpu-check.sh - the checks to run on a GPU machine, from a copy of the tree that
# holds bin/ (built on the CPU machine with CUDA; LuaJIT and the CUDA runtime
# are linked statically) and lua/. It installs nothing and needs no network,
# package manager, premake, LuaJIT or ../shared. About 4 minutes at most.
#
#   scripts/gpu-check.sh            (from the repo root or anywhere)
#
# Steps: the GPU and driver; every CUDA C test (bin/test-c cuda); the kernel
# benchmark (bin/bench_cuda); the CUDA tests again under compute-sanitizer
# memcheck when it is installed (time-limited). The full log goes to
# $OUT/gpu-check.log when $OUT is set (else /tmp/gpu-check.log); a summary is
# printed last. Exit status: 0 when the tests passed, 1 otherwise.
set -u
cd "$(dirname "$0")/.."

# Shared libraries the image might lack (libgomp, libpcre2-8) can be carried in bin/lib.
export LD_LIBRARY_PATH="$PWD/bin/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log="${OUT:-/tmp}/gpu-check.log"
mkdir -p "$(dirname "$log")"
exec > >(tee "$log") 2>&1
start=$(date +%s)
section() { printf '\n==== %s (t=%ds)\n' "$1" $(( $(date +%s) - start )); }

section "machine"
uname -srm
nvidia-smi -L || echo "nvidia-smi -L failed"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,clocks.mem --format=csv || true

# A binary that cannot start here (a missing shared library) says why.
can_run() {
    if [ ! -x "$1" ]; then echo "missing: $1 (build it on the CPU machine and carry bin/)"; return 1; fi
    if ldd "$1" 2>&1 | grep -q "not found"; then
        echo "$1 lacks shared libraries:"; ldd "$1" 2>&1 | grep "not found"; return 1
    fi
    return 0
}

tests_rc=1
tests_line="not run"
section "CUDA C tests: bin/test-c cuda"
if can_run bin/test-c; then
    timeout 150 bin/test-c cuda 2>&1 | tee /tmp/gpu-check-tests.txt
    tests_rc=${PIPESTATUS[0]}
    tests_line=$(grep -E "passed, .* failed" /tmp/gpu-check-tests.txt | tail -1)
    [ "$tests_rc" = 124 ] && tests_line="TIMED OUT after 150 s; $tests_line"
fi

section "benchmark: bin/bench_cuda"
: >/tmp/gpu-check-bench.txt
if can_run bin/bench_cuda; then
    timeout 120 bin/bench_cuda | tee /tmp/gpu-check-bench.txt
    echo "bench_cuda exit status ${PIPESTATUS[0]}"
fi

sanitizer_line="not run"
section "compute-sanitizer memcheck on the CUDA tests"
if command -v compute-sanitizer >/dev/null 2>&1 && [ -x bin/test-c ]; then
    left=$(( 225 - ($(date +%s) - start) ))
    if [ "$left" -gt 20 ]; then
        timeout "$left" compute-sanitizer --tool memcheck --leak-check no --print-limit 20 bin/test-c cuda \
            >/tmp/gpu-check-sanitizer.txt 2>&1
        echo "compute-sanitizer exit status $? (124: stopped at the time limit of ${left}s)"
        grep -vE "^(ok  |skip)" /tmp/gpu-check-sanitizer.txt | tail -60
        sanitizer_line=$(grep -E "ERROR SUMMARY" /tmp/gpu-check-sanitizer.txt | tail -1)
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
grep -E "^FAIL|check failed" /tmp/gpu-check-tests.txt 2>/dev/null | head -20
echo "sanitizer:  $sanitizer_line"
cat /tmp/gpu-check-bench.txt
echo "log: $log"
[ "$tests_rc" = 0 ]
