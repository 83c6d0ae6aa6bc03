#!/usr/bin/env bash
# test-windows.sh - runs the Windows build (scripts/build-windows.sh, bin/windows/) under
# Debian's wine64: the C tests (test-c.exe), and two programs whose output must be the
# Linux build's, byte for byte (line ends aside) for the same seed: embed_c.exe (the C API
# through bitttt.dll) and generate.lua in luajit.exe (the Lua module bitttt/core.dll).
# The last line is "N passed, N failed, N skipped".
#
#   ./scripts/build-windows.sh && ./scripts/test-windows.sh
#   ./scripts/test-windows.sh --build       (or BITTTT_WINDOWS_BUILD=1: build first; a failed build counts as a failure)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [ "${1:-}" = "--build" ] || [ "${BITTTT_WINDOWS_BUILD:-}" = 1 ]; then
    ./scripts/build-windows.sh || { echo "test-windows.sh: the Windows build failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi
win=bin/windows
[ -f $win/test-c.exe ] || { echo "test-windows.sh: no $win/test-c.exe; run scripts/build-windows.sh first"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
[ -x bin/embed_c ] && [ -f bin/bitttt/core.so ] || ./scripts/build.sh release >/dev/null || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

wine=/usr/lib/wine/wine64   # Debian's wine64 package (the `wine` wrapper is a recommends)
export WINEPREFIX=$root/build/windows/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
[ -d "$WINEPREFIX/drive_c" ] || "$wine" wineboot -i >/dev/null 2>&1
export BITTTT_DATA=${BITTTT_DATA:-$root/spec/data}

passed=0 failed=0 skipped=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
count() {   # LABEL PASSED FAILED SKIPPED
    echo "== $1: $2 passed, $3 failed, $4 skipped"
    passed=$((passed + $2)); failed=$((failed + $3)); skipped=$((skipped + $4))
}

# 1. the C tests
"$wine" $win/test-c.exe >"$log/c.txt" 2>&1
rc=$?
grep -E '^FAIL|check failed' "$log/c.txt"
tr -d '\r' <"$log/c.txt" | grep -E '^  skipped: ' | sed 's/^  skipped: /  skipped: (under wine) /'   # test.sh counts the reasons
line=$(tr -d '\r' <"$log/c.txt" | grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n 1)
if [ -z "$line" ]; then tail -n 20 "$log/c.txt"; count "C tests under wine" 0 1 0
else
    read -r p _ f _ s _ <<<"$line"
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    count "C tests under wine" "$p" "$f" "$s"
fi

# same_output LABEL WINDOWS-COMMAND... -- LINUX-COMMAND...: stdout equal (CR LF read as LF), both exit 0
same_output() {
    local label=$1; shift
    local w=() l=()
    while [ "$1" != "--" ]; do w+=("$1"); shift; done
    shift; l=("$@")
    "$wine" "${w[@]}" >"$log/w.txt" 2>"$log/w.err"; local wrc=$?
    "${l[@]}" >"$log/l.txt" 2>"$log/l.err"; local lrc=$?
    tr -d '\r' <"$log/w.txt" >"$log/w.lf"
    if [ $wrc -eq 0 ] && [ $lrc -eq 0 ] && [ -s "$log/l.txt" ] && cmp -s "$log/w.lf" "$log/l.txt"; then
        count "$label" 1 0 0
    else
        echo "$label: exit codes $wrc (wine) and $lrc (Linux); outputs:"; cat "$log/w.lf" "$log/w.err"; echo ---; cat "$log/l.txt" "$log/l.err"
        count "$label" 0 1 0
    fi
}

# 2. embed_c through bitttt.dll (--fast: no 60 Hz pacing)
embed_args=(models/default.gguf -p "Once upon a time" -n 60 -s 7 --fast)
same_output "embed_c.exe = Linux embed_c" $win/embed_c.exe "${embed_args[@]}" -- bin/embed_c "${embed_args[@]}"

# 3. the Lua package on bitttt/core.dll in LuaJIT for Windows
gen_args=(scripts/generate.lua -m models/default.gguf -p "Once upon a time" -n 60 --seed 11 --temp 0.8)
LUA_PATH="lua/?.lua;lua/?/init.lua" LUA_CPATH="$win/?.dll" \
    same_output "generate.lua in luajit.exe = Linux" $win/luajit.exe "${gen_args[@]}" -- \
    env LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="bin/?.so;;" luajit "${gen_args[@]}"

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
