-- premake5.lua - the one build description of bitttt-lua.
--
--   premake5 gmake2                    (real premake5)
--   premake4 --file=premake5.lua gmake (Debian 12's premake4)
--   make -C build config=release      (or config=sanitize: ASan + UBSan into bin/asan/;
--                                      config=scalar: no SIMD code at all, into bin/scalar/)
--
-- Written with premake5's documented API. premake4 lacks some of it, so the
-- prelude below maps those calls onto premake4's solution/configuration/flags.
--
-- Outputs: build/lib/<config>/libbitttt.a, bin/libbitttt.so (soname libbitttt.so.1),
-- bin/bitttt/core.so (Lua module), bin/bitttt-lua (host), bin/test-c (C tests).
-- The sanitize config puts the same under bin/asan/.
--
-- One runtime per process: libbitttt.so holds the runtime, the Lua binding
-- (runtime/lua/), the C API (runtime/capi/) and lua/bitttt's sources
-- (build/gen/lua_modules.c, written by scripts/embed-lua.lua from build.sh);
-- core.so and bitttt-lua only call into it. Everything is compiled with hidden
-- visibility: only BT_API functions (bt_*) leave the library. LuaJIT is linked
-- dynamically (libluajit-5.1.so.2): Debian's libluajit-5.1.a is not PIC, and one
-- LuaJIT per process is what a LuaJIT host (LOVE, luajit) expects anyway.

---------------------------------------------------------------- premake4 prelude
if not workspace then
    workspace = solution
    -- premake5 filters used here: {}, "configurations:NAME", "system:OS", "system:not OS"
    -- and lists of them (all must hold). premake4 matches its OS names (windows, linux,
    -- macosx) as configuration keywords.
    local function term(f)
        local name = f:match("^configurations:(.+)$") or f:match("^system:(.+)$")
        if not name then error("premake4 prelude: unsupported filter " .. tostring(f)) end
        return name
    end
    function filter(f)
        local terms = {}
        for _, t in ipairs(type(f) == "table" and f or { f }) do table.insert(terms, term(t)) end
        configuration(terms)
    end
    -- Visual Studio settings only (premake4 here makes Linux makefiles).
    function architecture() end
    function toolset() end
    function removedefines() end
    os.istarget = os.is
    function optimize(level) if level == "Speed" then flags { "OptimizeSpeed" } elseif level ~= "Off" then flags { "Optimize" } end end
    function symbols(on) if on == "On" then flags { "Symbols" } end end
    function warnings(level) if level == "Extra" then flags { "ExtraWarnings" } end end
    function cdialect(d) buildoptions { "-std=" .. d:lower() } end
    function openmp(on) if on == "On" then buildoptions { "-fopenmp" } linkoptions { "-fopenmp" } end end
    function pic(on) if on == "On" then buildoptions { "-fPIC" } end end
end

---------------------------------------------------------------- options
newoption {
    trigger = "cuda",
    value = "MODE",
    description = "Build the CUDA kernels: auto (when a CUDA toolkit is found), on, off",
    allowed = { { "auto", "when a CUDA toolkit is found" }, { "on", "always" }, { "off", "never" } },
}

-- The CUDA toolkit: a folder with bin/nvcc and the static CUDA runtime. nvcc on PATH
-- may be a wrapper script (/usr/local/bin/nvcc), so its folder is not trusted to hold the
-- libraries: the toolkit is the first candidate that has both.
local function find_cuda_toolkit()
    local homes = {}
    for _, home in ipairs({ "CUDA_HOME", "CUDA_PATH" }) do table.insert(homes, os.getenv(home)) end
    table.insert(homes, "/usr/local/cuda")
    local nvcc_on_path = os.pathsearch("nvcc", os.getenv("PATH") or "")
    if nvcc_on_path then table.insert(homes, path.getdirectory(nvcc_on_path)) end
    for _, home in ipairs(homes) do
        for _, libdir in ipairs({ "lib64", "lib", "targets/x86_64-linux/lib", "lib/x86_64-linux-gnu" }) do
            if os.isfile(home .. "/bin/nvcc") and os.isfile(home .. "/" .. libdir .. "/libcudart_static.a") then
                return home .. "/bin", home .. "/" .. libdir
            end
        end
    end
    return nil
end

local cuda_mode = _OPTIONS["cuda"] or "auto"
local nvcc_dir, cudart_dir
if cuda_mode ~= "off" then nvcc_dir, cudart_dir = find_cuda_toolkit() end
if cuda_mode == "on" and not nvcc_dir then
    error("--cuda=on but no CUDA toolkit (bin/nvcc with libcudart_static.a) was found; set CUDA_HOME")
end
local with_cuda = nvcc_dir ~= nil

local luajit_include = os.istarget("windows") and (os.getenv("LUAJIT_DIR") or "$(LUAJIT_DIR)") .. "/include" or "/usr/include/luajit-2.1"

---------------------------------------------------------------- workspace
workspace "bitttt"
    configurations { "release", "sanitize", "scalar" }
    location "build"
    language "C"
    cdialect "C11"
    openmp "On"
    pic "On"
    warnings "Extra"
    includedirs { ".", luajit_include }
    defines { "_GNU_SOURCE" }
    filter "system:not windows"
        buildoptions { "-Wall", "-fvisibility=hidden" }
        linkoptions { "-fopenmp" }   -- premake5's openmp "On" gives the compile flag only (libgomp)
    -- ---- Windows, Visual Studio (issue 19): x64, the ClangCL toolset (clang-cl accepts
    -- our GNU C: statement expressions, __attribute__, vector extensions) and LLVM's
    -- OpenMP (libomp; MSVC's own /openmp is OpenMP 2.0, without `omp atomic write`).
    -- Dependencies from vcpkg or built by hand: set PCRE2_DIR, ZLIB_DIR, LUAJIT_DIR
    -- (each with include/ and lib/) and LLVM_DIR (libomp.lib in lib/).
    filter "system:windows"
        architecture "x86_64"
        toolset "clang"
        warnings "High"   -- Level4 (clang-cl -W4); "Extra" would be /Wall, clang's -Weverything
        openmp "Off"      -- on: MSVC's /openmp (2.0)
        buildoptions { "/openmp" }
        defines { "BT_STATIC", "PCRE2_STATIC", "_CRT_SECURE_NO_WARNINGS" }
        for _, dep in ipairs({ "PCRE2_DIR", "ZLIB_DIR", "LUAJIT_DIR", "LLVM_DIR" }) do
            local dir = os.getenv(dep)
            if dir then includedirs { dir .. "/include" } libdirs { dir .. "/lib" } end
        end
    filter {}

    filter "configurations:release"
        optimize "Speed"
        symbols "On"
        targetdir "bin"
        objdir "build/obj/release"
    filter "configurations:sanitize"
        optimize "Debug"
        symbols "On"
        targetdir "bin/asan"
        objdir "build/obj/sanitize"
    -- No SIMD code at all: what a port to another CPU starts from.
    filter "configurations:scalar"
        optimize "Speed"
        defines { "BT_NO_SIMD" }
        targetdir "bin/scalar"
        objdir "build/obj/scalar"
    filter { "configurations:sanitize", "system:not windows" }
        -- float-cast-overflow is not part of "undefined" in GCC: it catches (int)NaN, (int64_t)1e300
        buildoptions { "-O1", "-fsanitize=address,undefined,float-cast-overflow", "-fno-omit-frame-pointer",
                       "-fno-sanitize-recover=undefined,float-cast-overflow" }
        linkoptions { "-fsanitize=address,undefined,float-cast-overflow" }
    filter { "configurations:sanitize", "system:windows" }
        buildoptions { "/fsanitize=address" }   -- clang-cl: ASan only (no UBSan runtime for MSVC)
    filter {}

-- The CUDA archive (built by kernels/cuda/cuda.mk) links with the static CUDA runtime:
-- nothing CUDA is needed at run time where there is no GPU.
-- Call after links { "bitttt_static" }: libraries resolve left to right.
local function link_runtime_deps()
    if with_cuda then
        defines { "BT_HAVE_CUDA" }
        libdirs { "build/cuda", cudart_dir }
        links { "bitttt_cuda", "cudart_static", "rt", "pthread", "dl", "stdc++" }
    end
    links { "pcre2-8" }   -- pcre2: Unicode-aware pre-tokenizer regexes (byte-level BPE)
    filter "system:not windows"
        links { "luajit-5.1", "m", "pthread" }
    filter "system:windows"
        links { "lua51", "libomp" }   -- LuaJIT's DLL (LUAJIT_DIR); LLVM's OpenMP runtime, for clang-cl's /openmp
    filter {}
end

local function runtime_sources()
    files { "base/**.c", "base/**.h", "runtime/**.c", "runtime/**.h", "kernels/cpu/**.c", "kernels/cpu/**.h",
            "build/gen/lua_modules.c" }
    excludes { "runtime/host/**", "runtime/lua_module/**" }
    -- ---- platform layer (issue 19): one OS file per build
    filter "system:windows"
        excludes { "runtime/platform/posix.c" }
    filter "system:not windows"
        excludes { "runtime/platform/windows.c" }
    filter {}
    if with_cuda then
        defines { "BT_HAVE_CUDA" }
        -- Both library projects run this step, possibly at once (make -j): flock lets one
        -- build the CUDA archive while the other waits, then finds it up to date.
        prebuildcommands { "MAKEFLAGS= flock cuda.lock make -s --no-print-directory -C .. -f kernels/cuda/cuda.mk NVCC=" .. nvcc_dir .. "/nvcc" }
    end
end

---------------------------------------------------------------- libbitttt
project "bitttt_static"
    kind "StaticLib"
    targetname "bitttt"
    runtime_sources()
    filter "configurations:release"
        targetdir "build/lib/release"
    filter "configurations:sanitize"
        targetdir "build/lib/sanitize"
    filter "configurations:scalar"
        targetdir "build/lib/scalar"
    filter {}

project "bitttt_shared"
    kind "SharedLib"
    targetname "bitttt"
    runtime_sources()
    -- nodelete: the library (and so libgomp) stays mapped after dlclose; a host that
    -- unloads it (lua_close, ffi) would otherwise pull code from under idle OpenMP workers.
    -- exclude-libs: nothing of the static archives it pulls in (CUDA runtime) is exported.
    filter "system:linux"
        linkoptions { "-Wl,-soname,libbitttt.so.1", "-Wl,-z,nodelete", "-Wl,--exclude-libs,ALL" }
    filter "system:windows"
        defines { "BT_BUILDING_DLL" }   -- base/export.h: BT_API is dllexport
        removedefines { "BT_STATIC" }
    filter {}
    link_runtime_deps()

---------------------------------------------------------------- Lua module bitttt.core
-- Only luaopen_bitttt_core, calling into libbitttt.so (found beside bin/ through the rpath).
project "bitttt_core"
    kind "SharedLib"
    targetname "core"
    targetprefix ""
    files { "runtime/lua_module/**.c" }
    links { "bitttt_shared" }
    filter "system:linux"
        linkoptions { "-Wl,-z,nodelete", "-Wl,-rpath,'$$ORIGIN/..'" }   -- nodelete: see bitttt_shared
    filter "system:windows"
        removedefines { "BT_STATIC" }   -- BT_API: dllimport from bitttt.dll
    filter {}
    filter "configurations:release"
        targetdir "bin/bitttt"
    filter "configurations:sanitize"
        targetdir "bin/asan/bitttt"
    filter "configurations:scalar"
        targetdir "bin/scalar/bitttt"
    filter {}

---------------------------------------------------------------- the host
-- Its OS file (host_os.h) is chosen like the library's: os_posix.c or os_windows.c.
project "bitttt-lua"
    kind "ConsoleApp"
    files { "runtime/host/**.c", "runtime/host/**.h" }
    links { "bitttt_shared" }
    filter "system:not windows"
        excludes { "runtime/host/os_windows.c" }
        links { "luajit-5.1", "dl" }
        linkoptions { "-Wl,-rpath,'$$ORIGIN'" }
    filter "system:windows"
        excludes { "runtime/host/os_posix.c" }
        links { "lua51", "shell32" }    -- shell32: CommandLineToArgvW
        removedefines { "BT_STATIC" }   -- BT_API: dllimport from bitttt.dll
    filter {}

---------------------------------------------------------------- C tests
project "test-c"
    kind "ConsoleApp"
    files { "spec/c/**.c", "spec/c/**.h" }
    links { "bitttt_static" }
    link_runtime_deps()
    filter "system:not windows"
        links { "z" }      -- zlib: the tests' .gz fixtures
    filter "system:windows"
        links { "zlib" }   -- vcpkg's name
    filter {}

-- N load/free cycles through the C API (spec/capi_leaks_spec.lua runs the ASan build's, LeakSanitizer on)
project "capi-cycles"
    kind "ConsoleApp"
    files { "spec/c_tools/capi_cycles.c" }
    links { "bitttt_static" }
    link_runtime_deps()

---------------------------------------------------------------- CUDA benchmark (GPU machines)
if with_cuda then
    project "bench_cuda"
        kind "ConsoleApp"
        files { "scripts/cuda/bench_cuda.c" }
        links { "bitttt_static" }
        link_runtime_deps()
end

---------------------------------------------------------------- examples: C programs on the C API (runtime/bitttt.h)
project "embed_c"
    kind "ConsoleApp"
    files { "examples/embed_c/**.c" }
    links { "bitttt_static" }
    link_runtime_deps()
