#!/usr/bin/env bash
# bench-ternary-peak.sh - builds and runs bench-ternary-peak.c against bin/libbitttt.so:
# the core's peak for the decoding kernel's instruction mix (operands in L1) and the
# kernel's own rate on an L1-resident matrix, in weights per cycle.
#   scripts/bench-ternary-peak.sh [REPS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$root/build"
"${CC:-cc}" -O2 -std=gnu11 -I"$root" -o "$root/build/bench-ternary-peak" "$root/scripts/bench-ternary-peak.c" \
    -L"$root/bin" -Wl,-rpath,"$root/bin" -lbitttt
OMP_NUM_THREADS=1 exec "$root/build/bench-ternary-peak" "$@"
