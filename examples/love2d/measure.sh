#!/usr/bin/env bash
# measure.sh - runs the LÖVE example under Xvfb (a virtual X display) for SECONDS,
# then prints its frames per second while generating and copies its screenshot.
# Run by hand, not in CI; needs Debian's love, xvfb and xauth (apt-get install love xvfb xauth).
#
#   examples/love2d/measure.sh [SECONDS=20] [SCREENSHOT=examples/love2d/screenshot.png]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
shot=${2:-examples/love2d/screenshot.png}
for tool in love xvfb-run xauth; do
    command -v "$tool" >/dev/null || { echo "measure.sh: $tool not found (apt-get install love xvfb xauth)" >&2; exit 1; }
done
[ -f bin/bitttt/core.so ] || { echo "measure.sh: build first (./scripts/build.sh release)" >&2; exit 1; }
save=$(mktemp -d)
trap 'rm -rf "$save"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min), $(nproc) cores, BITTTT_THREADS=${BITTTT_THREADS:-unset}"
# LÖVE saves into $XDG_DATA_HOME/love/<game folder name>/
XDG_DATA_HOME=$save BITTTT_HOME=$PWD BITTTT_LOVE_MEASURE=$seconds BITTTT_LOVE_SHOT=screenshot.png \
    xvfb-run -a -s "-screen 0 1024x768x24" love examples/love2d
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$save"/love/love2d/screenshot.png "$shot"
echo "screenshot: $shot"
