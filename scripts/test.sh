#!/usr/bin/env bash
# test.sh - builds (release and the ASan+UBSan sanitizer build), then runs the
# C tests and every busted spec, first on the release build (busted under LuaJIT),
# then on the sanitizer build (the same specs inside bin/asan/bitttt-lua).
# Exits non-zero on any failure; the last line is "N passed, N failed, N skipped".
#
#   ./scripts/test.sh [busted options...]    e.g. ./scripts/test.sh --filter=tensor
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

./scripts/build.sh all || { echo "0 passed, 1 failed"; exit 1; }

export BITTTT_ROOT="$root"
export LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;$root/spec/?.lua;;"
export LUA_CPATH="$root/bin/?.so;;"
# LuaJIT's allocator and OpenMP's threads keep memory alive at exit by design; leaks are
# checked in the C tests (plain C, everything freed: LeakSanitizer on below) rather than
# inside the interpreter.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

passed=0 failed=0 skipped=0
log=$(mktemp) skips=$(mktemp)
trap 'rm -f "$log" "$skips"' EXIT

# note_skips LABEL: why each test of the last run skipped (the C tests' "  skipped: WHY"
# lines, busted's pending messages), gathered for the summary.
note_skips() {
    { sed -n 's/^  skipped: //p' "$log"
      awk '/^Pending -> /{ n = 2; next } n && --n == 0' "$log" | sed -E 's/^[^ ]+:[0-9]+: //'
    } | sed "s|^|$1: |" >>"$skips"
}

# add_counts LABEL PASSED FAILED SKIPPED
add_counts() {
    echo "== $1: $2 passed, $3 failed, $4 skipped"
    passed=$((passed + $2)); failed=$((failed + $3)); skipped=$((skipped + $4))
}

run_c_tests() {   # label binary
    "$2" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1)
    if [ -z "$line" ]; then add_counts "$1" 0 1 0; return; fi
    read -r p _ f _ s _ <<<"$line"
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    add_counts "$1" "$p" "$f" "$s"
    note_skips "$1"
}

run_specs() {   # label busted-command...
    local label=$1; shift
    "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    # plainTerminal's summary: "N successes / N failures / N errors / N pending : T seconds"
    local line; line=$(grep -E '^[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' "$log" | tail -n 1)
    if [ -z "$line" ]; then add_counts "$label" 0 1 0; return; fi
    local s f e p
    read -r s _ _ f _ _ e _ _ p _ <<<"$line"
    f=$((f + e))
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    add_counts "$label" "$s" "$f" "$p"
    note_skips "$label"
}

# Each libFuzzer harness of spec/fuzz for a bounded time (BITTTT_FUZZ_SECONDS, default 10):
# one test each; a crash, sanitizer report or leak fails it (fuzz.sh prints the reproducer).
run_fuzzers() {
    local t
    for t in $(./scripts/fuzz.sh list); do
        if ./scripts/fuzz.sh "$t" "${BITTTT_FUZZ_SECONDS:-10}"; then add_counts "fuzz $t" 1 0 0
        else add_counts "fuzz $t" 0 1 0; fi
    done
}

busted_args=(-o plainTerminal --pattern=_spec spec "$@")
if ./scripts/check-portable.sh; then add_counts "portable sources" 1 0 0; else add_counts "portable sources" 0 1 0; fi
if ./scripts/check-includes.sh; then add_counts "include arrows" 1 0 0; else add_counts "include arrows" 0 1 0; fi
run_c_tests "C tests" bin/test-c
run_specs "specs (LuaJIT)" busted --lua=luajit "${busted_args[@]}"
run_c_tests "C tests (scalar build, no SIMD code)" bin/scalar/test-c
run_c_tests "C API threads (TSan)" ./scripts/test-tsan.sh
BITTTT_WINDOWS_BUILD=1 run_c_tests "Windows build (MinGW-w64 under wine)" ./scripts/test-windows.sh
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0" run_c_tests "C tests (ASan+UBSan+LSan)" bin/asan/test-c
run_fuzzers
BITTTT_HOST="$root/bin/asan/bitttt-lua" run_specs "specs (ASan+UBSan host)" \
    bin/asan/bitttt-lua /usr/bin/busted "${busted_args[@]}"
run_c_tests "server (openai client, load, nginx, browser)" spec/server/run.sh

if [ -s "$skips" ]; then echo "== skipped, by reason:"; sort "$skips" | uniq -c; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
