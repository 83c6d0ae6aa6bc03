#!/usr/bin/env bash
# bench-ternary-peak.sh - builds and runs bench-ternary-peak.c against the static release
# library (build/lib/release/libbitttt.a: libbitttt.so exports only the C API, not the kernels):
# the core's peak for the decoding kernel's instruction mix (operands in L1) and the
# kernel's own rate on an L1-resident matrix, in weights per cycle.
#   scripts/bench-ternary-peak.sh [REPS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$root/build"
lib="$root/build/lib/release/libbitttt.a"
[ -f "$lib" ] || { echo "bench-ternary-peak.sh: $lib missing: run scripts/build.sh release first" >&2; exit 1; }
"${CC:-cc}" -O2 -std=gnu11 -fopenmp -I"$root" -o "$root/build/bench-ternary-peak" "$root/scripts/bench-ternary-peak.c" \
    "$lib" -lm -lpthread
OMP_NUM_THREADS=1 exec "$root/build/bench-ternary-peak" "$@"
