#!/usr/bin/env bash
# build.sh - installs the Debian packages the build needs (only when missing),
# generates the makefiles with premake and builds bin/bitttt-lua, the libraries,
# the Lua module and the C tests. Incremental: fast when nothing changed.
#
#   ./scripts/build.sh [release|sanitize|scalar|all] [--cuda=auto|on|off]
set -euo pipefail
cd "$(dirname "$0")/.."

config=release
cuda=auto
for a in "$@"; do
    case "$a" in
        release|sanitize|scalar|all) config=$a ;;
        --cuda=*) cuda=${a#--cuda=} ;;
        *) echo "build.sh: unknown argument '$a'" >&2; exit 2 ;;
    esac
done

# Debian packages: compiler, LuaJIT (shared library + headers), PUC Lua 5.1 (for the
# module-compatibility spec), premake4, busted, pcre2 (byte-level BPE pre-tokenizers), zlib (the C tests read .gz fixtures),
# tmux (the REPL spec's pseudo-terminal), python3 (the ctypes wrapper's test), pkg-config (install test),
# lua-http + lua-cjson (serve.lua), nginx-light and chromium (the server's load-balancer and browser tests),
# luarocks (the rockspec's lint), love + xvfb: a LÖVE host (its own LuaJIT) loading the module and the C API,
# headless (one_runtime_spec), clang with its libFuzzer runtime (libclang-rt-dev: -fsanitize=fuzzer; spec/fuzz),
# zlib (the C tests read the .gz fixtures).
packages=(build-essential premake4 luajit libluajit-5.1-dev lua5.1 liblua5.1-0-dev lua-busted libpcre2-dev zlib1g-dev tmux
          python3 pkg-config lua-http lua-cqueues lua-cjson nginx-light chromium luarocks love xvfb clang libclang-rt-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "build.sh: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Regenerate the makefiles only when the build description or the file set changed;
# when flags may have changed (premake5.lua or the CUDA choice), rebuild everything.
flags_stamp=build/.flags-stamp files_stamp=build/.files-stamp
flags="$(cat premake5.lua; echo "cuda=$cuda")"
files="$(find base runtime kernels spec/c examples -name '*.[ch]' -o -name '*.cu' | sort)"
if [ "$(cat "$flags_stamp" 2>/dev/null)" != "$flags" ]; then
    rm -rf build/obj build/lib build/cuda
fi
if [ ! -f build/Makefile ] || [ "$(cat "$flags_stamp" 2>/dev/null)" != "$flags" ] ||
   [ "$(cat "$files_stamp" 2>/dev/null)" != "$files" ]; then
    premake4 --file=premake5.lua --cuda="$cuda" gmake >/dev/null
    printf '%s' "$flags" >"$flags_stamp"
    printf '%s' "$files" >"$files_stamp"
fi

# lua/bitttt goes into libbitttt as C strings (rewritten only when a .lua file changed).
mkdir -p build/gen
luajit scripts/embed-lua.lua . build/gen/lua_modules.c

jobs=$(nproc 2>/dev/null || echo 2)
build_config() {
    make -s --no-print-directory -C build -j"$jobs" config="$1"
    # The soname beside each build's library: bitttt-lua and core.so find it through their rpath.
    local dir; dir=$(case "$1" in release) echo bin ;; sanitize) echo bin/asan ;; *) echo "bin/$1" ;; esac)
    ln -sf libbitttt.so "$dir/libbitttt.so.1"
}
case "$config" in
    all) build_config release; build_config sanitize; build_config scalar ;;
    *) build_config "$config" ;;
esac
