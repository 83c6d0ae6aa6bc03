#!/usr/bin/env bash
# check-portable.sh - no POSIX-only (or glibc-only) call outside the platform layer:
# runtime/platform/{posix,windows}.c (the library's), runtime/host/os_{posix,windows}.c
# (the bitttt-lua host's) and the tests' spec/c/test_platform.c are the only C files
# that may use them (Windows builds: scripts/build-windows.sh).
# Prints each use as FILE:LINE:text; exits 1 if there is any.
#
#   ./scripts/check-portable.sh [ROOT]
set -uo pipefail
cd "${1:-$(dirname "$0")/..}" || exit 2

# Headers and calls that MinGW-w64 or MSVC lack (or, for aligned_alloc, cannot free).
pattern='#include <(unistd|pthread|threads|dirent|dlfcn|termios|sched|sys/(mman|resource|ioctl|wait|time))\.h>'
pattern+='|\b(mmap|munmap|clock_gettime|getrusage|sched_getaffinity|sysconf|aligned_alloc|memmem|mkdtemp|mkstemp|popen|fork|nanosleep|usleep|sigaction|getline|strndup|fdopen|unlink|rmdir|readlink|realpath|isatty|tcgetattr|tcsetattr|ioctl|mkdir)\('
pattern+='|\bS_IS(REG|DIR|FIFO|SOCK|CHR|BLK)\(|\bsystem\(|"/tmp/'

# Allowed: the platform files, and the C example's own OS code (each with a Windows branch).
allowed=(
    runtime/platform/posix.c
    runtime/platform/windows.c
    runtime/host/os_posix.c
    runtime/host/os_windows.c
    spec/c/test_platform.c
    examples/embed_c/frame_clock.c
    examples/embed_c/self_path.c
)

found=$(git ls-files 'runtime/*.c' 'runtime/*.h' 'kernels/*.c' 'kernels/*.h' 'spec/c/*.c' 'spec/c/*.h' 'examples/*.c' 'examples/*.h' |
    while IFS= read -r f; do
        skip=0
        for a in "${allowed[@]}"; do [[ $f == $a ]] && skip=1; done
        [ $skip -eq 0 ] && echo "$f"
    done | xargs -r grep -nE "$pattern" /dev/null | grep -vE ':[0-9]+:\s*(//|/?\*)')
if [ -n "$found" ]; then
    echo "check-portable.sh: POSIX-only calls outside runtime/platform/ (add them to platform.h):"
    echo "$found"
    exit 1
fi
echo "check-portable.sh: no POSIX-only call outside the platform layer"
