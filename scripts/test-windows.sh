#!/usr/bin/env bash
# test-windows.sh - runs the Windows build (scripts/build-windows.sh, bin/windows/) under
# Debian's wine64:
#   1. the C tests (test-c.exe);
#   2-5. programs whose output must be the Linux build's, byte for byte (line ends aside),
#      for the same seeds: embed_c.exe (the C API through bitttt.dll), generate.lua in
#      luajit.exe (the Lua module bitttt/core.dll), generate.lua in the host bitttt-lua.exe,
#      and a REPL session and a chat piped into bitttt-lua.exe (spec/windows/repl_session.lua);
#   6. the REPL on a console (wine on a tmux pane): prompts, going on after an error, Ctrl-C
#      (stopping a loop, dropping a line) and the history file in %LOCALAPPDATA%\bitttt-lua\;
#   7. the busted specs that start no other process and need no terminal (the list below),
#      run by Debian's busted inside bitttt-lua.exe as test.sh runs them in bin/asan/bitttt-lua.
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
[ -x bin/embed_c ] && [ -x bin/bitttt-lua ] && [ -f bin/bitttt/core.so ] || ./scripts/build.sh release >/dev/null || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

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

# same_output LABEL WINDOWS-COMMAND... -- LINUX-COMMAND...: stdout equal (CR LF read as LF), both
# exit 0; both read stdin from $same_stdin (default: nothing)
same_output() {
    local label=$1; shift
    local w=() l=()
    while [ "$1" != "--" ]; do w+=("$1"); shift; done
    shift; l=("$@")
    "$wine" "${w[@]}" <"${same_stdin:-/dev/null}" >"$log/w.txt" 2>"$log/w.err"; local wrc=$?
    "${l[@]}" <"${same_stdin:-/dev/null}" >"$log/l.txt" 2>"$log/l.err"; local lrc=$?
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

# 4. the host: generate.lua found in scripts/ from the executable's folder (bin/windows/ -> the kit)
host_gen_args=(generate.lua -p "Once upon a time" -n 60 --seed 11 --temp 0.8)
same_output "generate.lua in bitttt-lua.exe = Linux" $win/bitttt-lua.exe "${host_gen_args[@]}" -- bin/bitttt-lua "${host_gen_args[@]}"

# 5. a REPL session on piped stdin (no prompts; expressions printed; tokens from fixed seeds)
same_stdin=spec/windows/repl_session.lua same_output "REPL session piped into bitttt-lua.exe = Linux" \
    $win/bitttt-lua.exe -- bin/bitttt-lua

# and chat.lua on piped stdin (two turns of the bundled model's plain template)
printf 'Hello there\nWhat is a cookie?\n' >"$log/chat.txt"
chat_args=(chat.lua -s 5 -n 40)
same_stdin=$log/chat.txt same_output "chat.lua piped into bitttt-lua.exe = Linux" \
    $win/bitttt-lua.exe "${chat_args[@]}" -- bin/bitttt-lua "${chat_args[@]}"

# 6. the REPL on a console: wine gives a program on a terminal a console. Lines typed into a
# tmux pane: an error, Ctrl-C stopping a loop and dropping a typed line; the history file in
# the prefix's %LOCALAPPDATA% must hold the lines entered.
console_repl() {
    local users=$WINEPREFIX/drive_c/users history sock=bitttt-wine-$$ pane   # users/<wine's user name>/
    find "$users" -path '*/AppData/Local/bitttt-lua/history' -delete 2>/dev/null
    tmux -L "$sock" new-session -d -x 100 -y 30 "$wine $win/bitttt-lua.exe; echo __exit=\$?; sleep 30" || return 1
    wait_for() { for _ in $(seq 100); do pane=$(tmux -L "$sock" capture-pane -p | tr -d '\r'); grep -q -- "$1" <<<"$pane" && return 0; sleep 0.2; done; return 1; }
    local ok=0
    local loop='for i = 1, 1e12 do bitttt.zeros({64}) end'
    wait_for '^>' && tmux -L "$sock" send-keys 'x = 6 * 7' Enter && wait_for '^> x = 6 \* 7$' &&
        tmux -L "$sock" send-keys 'error("boom")' Enter && wait_for 'bitttt-lua: boom' &&
        tmux -L "$sock" send-keys '=x + 1' Enter && wait_for '^43$' &&
        tmux -L "$sock" send-keys "$loop" Enter && wait_for "^> $loop" && sleep 0.5 &&
        tmux -L "$sock" send-keys C-c && wait_for '^interrupted$' &&
        tmux -L "$sock" send-keys 'dropped by Ctrl-C' C-c && sleep 0.5 && tmux -L "$sock" send-keys '=x' Enter && wait_for '^42$' &&
        tmux -L "$sock" send-keys 'os.exit(0)' Enter && wait_for '__exit=0' && ok=1
    tmux -L "$sock" kill-server 2>/dev/null
    history=$(find "$users" -path '*/AppData/Local/bitttt-lua/history' | head -n 1)
    local expected=$'x = 6 * 7\nerror("boom")\n=x + 1\n'"$loop"$'\n=x\nos.exit(0)'
    if [ $ok -eq 1 ] && [ -f "$history" ] && [ "$(tr -d '\r' <"$history")" = "$expected" ]; then return 0; fi
    echo "REPL on a console: the pane showed:"; echo "$pane"; echo "history ($history):"; cat "$history" 2>/dev/null
    return 1
}
if ! command -v tmux >/dev/null; then count "REPL on a console (Ctrl-C, history in %LOCALAPPDATA%)" 0 1 0; echo "  tmux is missing (scripts/build.sh installs it)"
elif console_repl; then count "REPL on a console (Ctrl-C, history in %LOCALAPPDATA%)" 1 0 0
else count "REPL on a console (Ctrl-C, history in %LOCALAPPDATA%)" 0 1 0; fi

# 7. busted specs in bitttt-lua.exe. Chosen: the specs that start no process (no shell, no
# other binary: those would meet cmd.exe) and need no terminal. busted's C modules: lfs.dll
# (built from Debian's source), term.core and system.core in spec/windows/lua/ (LuaJIT FFI).
specs=(chat_templates generate_api help kinds linear_group prepare_weight server_slots step tensor
       tokenizer ttt_dual_primal ttt_mlp_state ttt_schedules ttt_state)
spec_files=(); for s in "${specs[@]}"; do spec_files+=("spec/${s}_spec.lua"); done
BITTTT_ROOT=$root LUA_CPATH="$win/?.dll" \
    LUA_PATH="spec/windows/lua/?.lua;lua/?.lua;lua/?/init.lua;spec/?.lua;/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua" \
    "$wine" $win/bitttt-lua.exe /usr/bin/busted -o plainTerminal "${spec_files[@]}" </dev/null >"$log/busted.txt" 2>&1
rc=$?
tr -d '\r' <"$log/busted.txt" | grep -A12 -E '^(Failure|Error) ->'
line=$(tr -d '\r' <"$log/busted.txt" | grep -E '^[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' | tail -n 1)
if [ -z "$line" ]; then tr -d '\r' <"$log/busted.txt" | tail -n 20; count "busted specs in bitttt-lua.exe" 0 1 0
else
    read -r p _ _ f _ _ e _ _ s _ <<<"$line"
    f=$((f + e))
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    count "busted specs in bitttt-lua.exe (${#specs[@]} files)" "$p" "$f" "$s"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
