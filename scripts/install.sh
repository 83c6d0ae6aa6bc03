#!/usr/bin/env bash
# install.sh - installs the embedding build of libbitttt (no Lua) under PREFIX:
#
#   PREFIX/include/bitttt/bitttt.h  (+ error.h, version.h it includes)
#   PREFIX/lib/libbitttt.so.API.MINOR.PATCH, libbitttt.so.API (the soname), libbitttt.so
#   PREFIX/lib/libbitttt.a
#   PREFIX/lib/pkgconfig/bitttt.pc
#
#   ./scripts/install.sh PREFIX          (builds the release configuration first if it is missing)
#   cc app.c $(PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs bitttt)
#   static: pkg-config --static --libs bitttt
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ]; then
    echo "usage: scripts/install.sh PREFIX" >&2
    exit 2
fi
prefix=$(mkdir -p "$1" && cd "$1" && pwd)

if [ ! -f bin/libbitttt.so ] || [ ! -f build/lib/release/libbitttt.a ]; then
    ./scripts/build.sh release
fi

version=$(sed -n 's/^#define BT_VERSION_STRING "\(.*\)"/\1/p' runtime/version.h)
api=$(sed -n 's/^#define BT_API_VERSION \([0-9]*\)/\1/p' runtime/version.h)
minor_patch=${version#*.}                       # 0.1.0 -> 1.0
real="libbitttt.so.$api.$minor_patch"

# The static library needs what the shared one links: OpenMP, LuaJIT, pcre2, libm, and the CUDA
# archive with its static runtime when this build has CUDA kernels.
libs_private="-fopenmp -lluajit-5.1 -lpcre2-8 -lm -lpthread"   # LuaJIT: the library runs lua/bitttt
cuda_refs=$(nm build/lib/release/libbitttt.a 2>/dev/null | grep -c ' U bt_cuda_' || true)
if [ -f build/cuda/libbitttt_cuda.a ] && [ "${cuda_refs:-0}" -gt 0 ]; then
    libs_private="-lbitttt_cuda -L/usr/local/cuda/lib64 -lcudart_static -lrt -lpthread -ldl -lstdc++ $libs_private"
fi

install -d "$prefix/include/bitttt" "$prefix/lib/pkgconfig"
if [[ $libs_private == *bitttt_cuda* ]]; then install -m 644 build/cuda/libbitttt_cuda.a "$prefix/lib/"; fi
install -m 644 runtime/bitttt.h runtime/error.h runtime/export.h runtime/version.h "$prefix/include/bitttt/"
install -m 755 bin/libbitttt.so "$prefix/lib/$real"
ln -sf "$real" "$prefix/lib/libbitttt.so.$api"
ln -sf "libbitttt.so.$api" "$prefix/lib/libbitttt.so"
install -m 644 build/lib/release/libbitttt.a "$prefix/lib/libbitttt.a"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@LIBS_PRIVATE@|$libs_private|" \
    scripts/bitttt.pc.in > "$prefix/lib/pkgconfig/bitttt.pc"
echo "installed bitttt $version (API $api) under $prefix"
