#!/usr/bin/env bash
# build-windows.sh - cross-builds bitttt for 64-bit Windows with Debian's MinGW-w64
# (the posix thread model, for OpenMP's libgomp), into bin/windows/:
#   bitttt.dll (+ libbitttt.dll.a), libbitttt.a, embed_c.exe, test-c.exe and the
#   MinGW runtime DLLs they load; with LuaJIT: bitttt-lua.exe and bitttt/core.dll.
# The C API's dependencies come from Debian's source packages (pcre2, LuaJIT; zlib for
# the C tests is Debian's libz-mingw-w64-dev; LuaFileSystem for the test runner), fetched
# with `apt-get source` pinned to the main suite's version and built once into
# build/windows/deps/ (kept between runs).
# Installs the Debian packages it needs when they are missing. Run scripts/test-windows.sh next.
#
#   ./scripts/build-windows.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/bin/windows
work=$root/build/windows
deps=$work/deps
mkdir -p "$out" "$work/obj" "$deps/src"

host=x86_64-w64-mingw32
cc=$host-gcc-posix
jobs=$(nproc 2>/dev/null || echo 2)

# ---------------------------------------------------------------- Debian packages
packages=(gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64 libz-mingw-w64-dev wine64 dpkg-dev make)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "build-windows.sh: installing ${missing[*]}"
    as_root=(); [ "$(id -u)" -ne 0 ] && as_root=(sudo)
    "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---------------------------------------------------------------- Debian source packages
# The main suite (bookworm, not -security or -updates): its version is the one whose
# orig tarball and Debian diff are both on the mirror.
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
src_list=/etc/apt/sources.list.d/bitttt-deb-src.list
if ! apt-get source --print-uris pcre2 >/dev/null 2>&1; then
    echo "build-windows.sh: adding deb-src for $suite (Debian's package sources)"
    as_root=(); [ "$(id -u)" -ne 0 ] && as_root=(sudo)
    echo "deb-src http://deb.debian.org/debian $suite main" | "${as_root[@]}" tee "$src_list" >/dev/null
    "${as_root[@]}" apt-get update -qq -o Dir::Etc::sourcelist="$src_list" -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0
fi

# fetch_source SOURCE -> prints the unpacked source folder (fetched once, pinned to the
# main suite's version of the source package SOURCE)
fetch_source() {
    local pkg=$1 version sandbox=()
    [ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)   # _apt cannot write into this tree
    version=$(apt-cache madison "$pkg" | awk -F' *[|] *' -v s=" $suite/main Sources" 'index($3, s) { print $2; exit }')
    [ -n "$version" ] || { echo "build-windows.sh: no $suite version of the source package $pkg" >&2; exit 1; }
    if [ ! -f "$deps/src/$pkg.version" ] || [ "$(cat "$deps/src/$pkg.version")" != "$version" ]; then
        echo "build-windows.sh: apt-get source $pkg=$version" >&2
        rm -rf "$deps/src/$pkg-"*
        (cd "$deps/src" && apt-get source -qq "${sandbox[@]}" --only-source "$pkg=$version" >/dev/null) ||
            { echo "build-windows.sh: apt-get source $pkg=$version failed" >&2; exit 1; }
        echo "$version" >"$deps/src/$pkg.version"
    fi
    find "$deps/src" -maxdepth 1 -mindepth 1 -type d -name "$pkg-*" | head -n 1
}

# ---------------------------------------------------------------- pcre2 (static, 8-bit)
pcre2_src=$(fetch_source pcre2)
if [ ! -f "$deps/lib/libpcre2-8.a" ]; then
    echo "build-windows.sh: building pcre2 for $host"
    rm -rf "$work/pcre2-build" && mkdir -p "$work/pcre2-build"
    (cd "$work/pcre2-build" &&
        "$pcre2_src/configure" -q --host=$host --prefix="$deps" --enable-static --disable-shared \
            --disable-pcre2grep-libz --disable-pcre2grep-libbz2 CC=$cc CFLAGS="-O2" >/dev/null &&
        make -s -j"$jobs" libpcre2-8.la >/dev/null &&
        make -s install-libLTLIBRARIES install-includeHEADERS install-nodist_includeHEADERS >/dev/null)
fi

# ---------------------------------------------------------------- LuaJIT (lua51.dll)
# One LuaJIT per process: bitttt-lua.exe and bitttt/core.dll both load lua51.dll.
luajit_src=$(fetch_source luajit)
if [ ! -f "$deps/bin/lua51.dll" ]; then
    echo "build-windows.sh: building LuaJIT for $host"
    rm -rf "$work/luajit-build" && cp -r "$luajit_src" "$work/luajit-build"
    make -s -C "$work/luajit-build/src" -j"$jobs" HOST_CC="gcc" CROSS=$host- TARGET_SYS=Windows \
        BUILDMODE=dynamic amalg >"$work/luajit-build.log" 2>&1 || { cat "$work/luajit-build.log"; exit 1; }
    mkdir -p "$deps/bin" "$deps/include/luajit"
    cp "$work/luajit-build/src/lua51.dll" "$work/luajit-build/src/luajit.exe" "$deps/bin/"
    mkdir -p "$deps/share/lua" && cp -r "$work/luajit-build/src/jit" "$deps/share/lua/"
    for h in lua.h lualib.h lauxlib.h luaconf.h lua.hpp luajit.h; do cp "$work/luajit-build/src/$h" "$deps/include/luajit/"; done
fi

# ---------------------------------------------------------------- LuaFileSystem (lfs.dll)
# For busted's Penlight under wine (scripts/test-windows.sh); the runner's other C modules,
# lua-term and lua-system, are not on Debian's source mirror here (404): spec/windows/lua/
# stands in for the three calls busted makes of them.
lfs_src=$(fetch_source lua-filesystem)
if [ ! -f "$deps/lib/lua/lfs.dll" ]; then
    echo "build-windows.sh: building LuaFileSystem for $host"
    mkdir -p "$deps/lib/lua"
    $cc -O2 -shared -o "$deps/lib/lua/lfs.dll" "$lfs_src/src/lfs.c" -I"$deps/include/luajit" -L"$deps/bin" -llua51
fi

# ---------------------------------------------------------------- bitttt
# The same file lists as premake5.lua (runtime_sources, test-c, embed_c, bitttt_core),
# with the OS file windows.c in place of posix.c. A generated makefile rebuilds only
# what changed (-MMD header dependencies). As on Linux, the library (bitttt.dll) holds
# the runtime, the Lua binding (runtime/lua/), the C API and lua/bitttt's sources, and
# links LuaJIT's lua51.dll; core.dll is only the module's entry point, on bitttt.dll.
mkdir -p "$work/gen"
luajit scripts/embed-lua.lua . "$work/gen/lua_modules.c"
cat >"$work/Makefile" <<MAKE
CC := $cc
ROOT := $root
OUT := $out
DEPS := $deps
OBJ := $work/obj
MAKE
cat >>"$work/Makefile" <<'MAKE'
CFLAGS := -std=c11 -O2 -g -fopenmp -Wall -Wextra -D_GNU_SOURCE -DPCRE2_STATIC -I$(ROOT) -I$(DEPS)/include -I$(DEPS)/include/luajit -MMD -MP
# Shipped beside the programs: libgomp-1.dll (OpenMP) with the libgcc and winpthread DLLs
# it loads, and lua51.dll.
LDFLAGS := -fopenmp
LIBDEPS := -L$(DEPS)/lib -L$(DEPS)/bin -lpcre2-8 -llua51 -lpsapi -lpthread

find_c = $(shell cd $(ROOT) && find $(1) -name '*.c' | LC_ALL=C sort)
LIB_SRC := $(filter-out runtime/host/% runtime/lua_module/% runtime/platform/posix.c,$(call find_c,base runtime kernels/cpu)) \
           build/windows/gen/lua_modules.c
TEST_SRC := $(call find_c,spec/c)
EMBED_SRC := $(call find_c,examples/embed_c)
MODULE_SRC := $(call find_c,runtime/lua_module)
HOST_SRC := $(filter-out runtime/host/os_posix.c,$(call find_c,runtime/host))
obj = $(patsubst %.c,$(OBJ)/%.o,$(1))

all: $(OUT)/libbitttt.a $(OUT)/bitttt.dll $(OUT)/test-c.exe $(OUT)/embed_c.exe $(OUT)/bitttt/core.dll $(OUT)/bitttt-lua.exe

# base/export.h: BT_API is dllexport in the library's objects (also archived into
# libbitttt.a: harmless there), nothing for the C tests (they link libbitttt.a),
# dllimport for embed_c and core.dll (they link bitttt.dll).
$(call obj,$(LIB_SRC)): CFLAGS += -DBT_BUILDING_DLL
$(call obj,$(TEST_SRC)): CFLAGS += -DBT_STATIC

$(OBJ)/%.o: $(ROOT)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libbitttt.a: $(call obj,$(LIB_SRC))
	rm -f $@ && x86_64-w64-mingw32-ar rcs $@ $^

$(OUT)/bitttt.dll: $(call obj,$(LIB_SRC))
	$(CC) -shared -o $@ $^ -Wl,--out-implib,$(OUT)/libbitttt.dll.a $(LIBDEPS) $(LDFLAGS)

$(OUT)/test-c.exe: $(call obj,$(TEST_SRC)) $(OUT)/libbitttt.a
	$(CC) -o $@ $^ $(LIBDEPS) -Wl,-Bstatic -lz -Wl,-Bdynamic $(LDFLAGS)

# embed_c: a C program on the C API, through the DLL as a Windows user would link it.
$(OUT)/embed_c.exe: $(call obj,$(EMBED_SRC)) $(OUT)/bitttt.dll
	$(CC) -o $@ $(call obj,$(EMBED_SRC)) -L$(OUT) -lbitttt $(LDFLAGS)

$(OUT)/bitttt/core.dll: $(call obj,$(MODULE_SRC)) $(OUT)/bitttt.dll
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $(call obj,$(MODULE_SRC)) -L$(OUT) -lbitttt -L$(DEPS)/bin -llua51 $(LDFLAGS)

# The host, on bitttt.dll and lua51.dll as on Linux (its OS file: runtime/host/os_windows.c).
$(OUT)/bitttt-lua.exe: $(call obj,$(HOST_SRC)) $(OUT)/bitttt.dll
	$(CC) -o $@ $(call obj,$(HOST_SRC)) -L$(OUT) -lbitttt -L$(DEPS)/bin -llua51 -lshell32 $(LDFLAGS)

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
MAKE
mkdir -p "$out/bitttt"
make -s -C "$work" -j"$jobs" all
cp "$deps/bin/lua51.dll" "$deps/bin/luajit.exe" "$deps/lib/lua/lfs.dll" /usr/lib/gcc/$host/*-posix/{libgomp-1,libgcc_s_seh-1}.dll /usr/$host/lib/libwinpthread-1.dll "$out/"
echo "build-windows.sh: built $(cd "$out" && ls *.dll *.exe bitttt/*.dll | tr '\n' ' ')"
