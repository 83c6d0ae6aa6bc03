#!/usr/bin/env bash
# test-tsan.sh - the C API's thread-safety test (spec/c/test_capi_threads.c)
# under ThreadSanitizer: builds the runtime and that test with
# -fsanitize=thread into build/tsan/ and runs it. OpenMP is left out of this
# build (its pragmas are ignored): libgomp is not instrumented and would only
# give false reports; the sessions' own threads are what is checked. The C API
# runs lua/bitttt in LuaJIT states (libluajit is not instrumented: the model's
# lock around every call into its state is what TSan sees).
# Prints the test's "N passed, N failed, N skipped" line; exits non-zero on failure.
#
#   ./scripts/test-tsan.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/tsan
mkdir -p "$out/obj"
flags=(-std=c11 -O1 -g -fsanitize=thread -fno-omit-frame-pointer -Wall -Wextra -Wno-unknown-pragmas
       -Wno-unused-variable -Wno-unused-but-set-variable -I. -I/usr/include/luajit-2.1 -D_GNU_SOURCE)   # without OpenMP some counts go unused
mkdir -p build/gen
luajit scripts/embed-lua.lua . build/gen/lua_modules.c
sources=$(find base runtime kernels/cpu -name '*.c' -not -path 'runtime/host/*' -not -path 'runtime/lua_module/*' \
          -not -name '*cuda*' -not -path runtime/platform/windows.c | sort)
sources="$sources build/gen/lua_modules.c spec/c/main.c spec/c/test_capi_threads.c spec/c/test_readers_util.c spec/c/test_platform.c"

# Compile what changed (two at a time), then link. A changed header recompiles
# everything (struct layouts must agree across objects).
headers=$(find base runtime kernels/cpu spec/c -name '*.h' | sort)
# shellcheck disable=SC2086
newest_header=$(ls -t $headers | head -1)
for src in $sources; do
    obj="$out/obj/$(echo "$src" | tr / _).o"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$0" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then
        echo "$src"
    fi
done | xargs -r -P 2 -I{} sh -c 'gcc "$@" -c "{}" -o "'"$out"'/obj/$(echo "{}" | tr / _).o"' _ "${flags[@]}"
objects=$(for src in $sources; do echo "$out/obj/$(echo "$src" | tr / _).o"; done)
# shellcheck disable=SC2086
gcc -fsanitize=thread $objects -lluajit-5.1 -lpcre2-8 -lz -lm -lpthread -o "$out/test-capi-threads"

TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" "$out/test-capi-threads" capi_threads
