#!/usr/bin/env bash
# run.sh - the server's tests: installs the pinned npm packages (openai, playwright-core:
# package-lock.json) when missing, then runs every *.test.mjs with Node's test runner
# against bin/bitttt-lua (BITTTT_HOST overrides it). Needs Node.js >= 20, and Debian's
# nginx-light and chromium (scripts/build.sh installs them).
# Last line: "N passed, N failed, N skipped" (as scripts/test.sh reads it).
set -uo pipefail
cd "$(dirname "$0")"

fail() { echo "server tests: $1"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
command -v node >/dev/null || fail "node is needed (Node.js >= 20)"
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || fail "Node.js >= 20 is needed, found $(node --version)"
# npm ci when node_modules was not installed from this lockfile (its hash in a stamp)
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.lock-hash 2>/dev/null)" != "$lock_hash" ]; then
    npm ci --no-audit --no-fund --loglevel=error >/dev/null || fail "npm ci failed"
    echo "$lock_hash" >node_modules/.lock-hash
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
node --test --test-concurrency=1 --test-reporter=tap ./*.test.mjs 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
count() { local n; n=$(grep -E "^# $1 [0-9]+$" "$log" | tail -n 1 | awk '{print $3}'); echo "${n:-0}"; }
passed=$(count pass) failed=$(( $(count fail) + $(count cancelled) )) skipped=$(( $(count skipped) + $(count todo) ))
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
