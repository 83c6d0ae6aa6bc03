#!/usr/bin/env bash
# install.sh - installs the whole kit under PREFIX (builds the release configuration
# first when bin/ lacks it):
#
#   PREFIX/bin/bitttt-lua                    -> ../share/bitttt/bin/bitttt-lua (the host)
#   PREFIX/share/bitttt/                     the host's home: bin/ (bitttt-lua, embed_c),
#                                            lua/bitttt/, scripts/, models/, python/
#   PREFIX/share/lua/5.1/bitttt              -> ../../bitttt/lua/bitttt (the Lua package, where
#                                            LuaJIT and Lua 5.1 look for it under /usr/local)
#   PREFIX/lib/lua/5.1/bitttt/core.so        the C module (LuaJIT / Lua 5.1 `package.cpath`)
#   PREFIX/lib/python3/dist-packages/bitttt.py   the ctypes wrapper (/usr/local: lib/python3.X/dist-packages)
#   PREFIX/include/bitttt/*.h                the C API: bitttt.h and the headers it includes
#   PREFIX/lib/libbitttt.so.API.MINOR.PATCH, libbitttt.so.API (the soname), libbitttt.so, libbitttt.a
#   PREFIX/lib/pkgconfig/bitttt.pc
#
#   ./scripts/install.sh PREFIX
#   cc app.c $(PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs bitttt)
#   static: pkg-config --static --libs bitttt
#
# It installs what the build put in bin/ (whatever links what), and runs ldconfig
# for a system prefix (/usr, /usr/local) when it may; for any other prefix it prints
# the variables to set.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    echo "usage: scripts/install.sh PREFIX" >&2
    exit 2
fi
prefix=$(mkdir -p "$1" && cd "$1" && pwd)

if [ ! -f bin/libbitttt.so ] || [ ! -f bin/bitttt-lua ] || [ ! -f bin/bitttt/core.so ]; then
    ./scripts/build.sh release
fi

version=$(sed -n 's/^#define BT_VERSION_STRING "\(.*\)"/\1/p' runtime/version.h)
api=$(sed -n 's/^#define BT_API_VERSION \([0-9]*\)/\1/p' runtime/version.h)
minor_patch=${version#*.}                       # 0.1.0 -> 1.0
real="libbitttt.so.$api.$minor_patch"
home="$prefix/share/bitttt"
lib="$prefix/lib"
python_dir="$lib/python3/dist-packages"        # on sys.path for /usr
if [ "$prefix" = /usr/local ] && command -v python3 >/dev/null; then   # Debian's /usr/local path
    python_dir="$lib/$(python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])')/dist-packages"
fi

# The static library needs what the shared one links: OpenMP, LuaJIT, pcre2, libm, and the CUDA
# archive with its static runtime when this build has CUDA kernels.
libs_private="-fopenmp -lluajit-5.1 -lpcre2-8 -lm -lpthread"   # LuaJIT: the library runs lua/bitttt
cuda_refs=$(nm build/lib/release/libbitttt.a 2>/dev/null | grep -c ' U bt_cuda_' || true)
if [ -f build/cuda/libbitttt_cuda.a ] && [ "${cuda_refs:-0}" -gt 0 ]; then
    libs_private="-lbitttt_cuda -L/usr/local/cuda/lib64 -lcudart_static -lrt -lpthread -ldl -lstdc++ $libs_private"
fi

# bitttt.h and every project header it includes, transitively, by repository path
# (runtime/bitttt.h, base/error.h, ...). An include is looked up beside the including
# file first, then from the repository root, as the compiler does with -I.; the
# installed layout keeps those relative paths (runtime/ dropped).
headers=()
pending=(runtime/bitttt.h)
while [ ${#pending[@]} -gt 0 ]; do
    h=${pending[0]}
    pending=("${pending[@]:1}")
    [[ " ${headers[*]} " == *" $h "* ]] && continue
    headers+=("$h")
    for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$h"); do
        if [ -f "$(dirname "$h")/$inc" ]; then pending+=("$(dirname "$h")/$inc")
        elif [ -f "$inc" ]; then pending+=("$inc"); fi
    done
done

# the C library and its headers
install -d "$prefix/include/bitttt" "$lib/pkgconfig" "$lib/lua/5.1/bitttt" "$prefix/bin" \
    "$prefix/share/lua/5.1" "$python_dir"
for h in "${headers[@]}"; do
    dest="$prefix/include/bitttt/${h#runtime/}"
    install -d "$(dirname "$dest")"
    install -m 644 "$h" "$dest"
done
install -m 755 bin/libbitttt.so "$lib/$real"
ln -sf "$real" "$lib/libbitttt.so.$api"
ln -sf "libbitttt.so.$api" "$lib/libbitttt.so"
if [ -f build/lib/release/libbitttt.a ]; then install -m 644 build/lib/release/libbitttt.a "$lib/libbitttt.a"; fi
if [[ $libs_private == *bitttt_cuda* ]]; then install -m 644 build/cuda/libbitttt_cuda.a "$lib/"; fi
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@LIBS_PRIVATE@|$libs_private|" \
    scripts/bitttt.pc.in > "$lib/pkgconfig/bitttt.pc"

# the kit: the host's home with the Lua package, scripts, the bundled model, the examples
rm -rf "$home"
install -d "$home/bin" "$home/models" "$home/python"
install -m 755 bin/bitttt-lua "$home/bin/"
[ -f bin/embed_c ] && install -m 755 bin/embed_c "$home/bin/"
cp -R lua "$home/lua"
cp -R scripts "$home/scripts"
install -m 644 models/* "$home/models/"
install -m 644 python/bitttt.py "$home/python/"
ln -sfn ../share/bitttt/bin/bitttt-lua "$prefix/bin/bitttt-lua"
rm -rf "$prefix/share/lua/5.1/bitttt"
ln -sfn ../../bitttt/lua/bitttt "$prefix/share/lua/5.1/bitttt"
install -m 755 bin/bitttt/core.so "$lib/lua/5.1/bitttt/core.so"
install -m 644 python/bitttt.py "$python_dir/bitttt.py"

# A program or module that links libbitttt.so.API and looks for it relative to itself
# (a RUNPATH of $ORIGIN or $ORIGIN/.., as the build's bin/ has it) finds the installed
# library through a link there.
for f in "$home/bin/bitttt-lua" "$home/bin/embed_c" "$lib/lua/5.1/bitttt/core.so"; do
    [ -f "$f" ] || continue
    dynamic=$(readelf -d "$f" 2>/dev/null || true)
    grep -q "NEEDED.*\[libbitttt\.so\.$api\]" <<<"$dynamic" || continue
    runpath=$(sed -n 's/.*(R[UN]*PATH).*\[\(.*\)\]/\1/p' <<<"$dynamic")
    IFS=: read -ra entries <<<"$runpath"
    for entry in "${entries[@]}"; do
        [[ $entry == '$ORIGIN'* ]] || continue
        target="$(dirname "$f")${entry#'$ORIGIN'}"
        [ "$(cd "$target" && pwd)" = "$lib" ] || ln -sf "$lib/libbitttt.so.$api" "$target/libbitttt.so.$api"
        break
    done
done

echo "installed bitttt $version (API $api) under $prefix"
case "$prefix" in
    /usr|/usr/local)
        if [ "$(id -u)" -eq 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi
        echo "run: bitttt-lua generate.lua -p \"Once upon a time\"" ;;
    *)
        cat <<EOF
$prefix is not a system prefix; set, for the parts you use:
  export PATH="$prefix/bin:\$PATH"
  export LD_LIBRARY_PATH="$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"        # programs linking libbitttt
  export LUA_PATH="$prefix/share/lua/5.1/?.lua;$prefix/share/lua/5.1/?/init.lua;;"   # luajit / lua5.1
  export LUA_CPATH="$lib/lua/5.1/?.so;;"
  export PYTHONPATH="$python_dir"                                          # import bitttt
  export PKG_CONFIG_PATH="$lib/pkgconfig"                                   # cc app.c \$(pkg-config ...)
EOF
        ;;
esac
