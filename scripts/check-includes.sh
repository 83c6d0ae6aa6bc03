#!/usr/bin/env bash
# check-includes.sh - keeps the #include arrows pointing down the layers:
#
#   base/        status codes and messages, dtypes, the shared enums  (includes base/ only)
#   kernels/     CPU and CUDA kernels on raw pointers                 (base/, kernels/)
#   runtime/     tensors, files, tokenizers, the ops                  (base/, runtime/; kernels/ only
#                                                                       from runtime/ops* and runtime/device.*)
#   front-ends   runtime/lua, runtime/lua_module, runtime/host, runtime/capi (+ runtime/bitttt.h), scripts/, examples/, python/
#                (anything below, but kernels/ only by way of runtime/ops*.h and runtime/device.h)
#
# and no two files include each other. Tests (spec/) and the kernel benchmarks
# (scripts/cuda/, scripts/bench-ternary-peak.c) measure a layer directly and may include any of them.
# Only quoted includes are checked; "x.h" resolves next to the including file, then
# from the root (the build's include path). An include that resolves nowhere fails too.
# Prints each wrong include as FILE:LINE: what is wrong; exits 1 if there is any.
#
#   ./scripts/check-includes.sh [ROOT]     (ROOT: the tree to check, default this one)
set -uo pipefail
root=${1:-"$(dirname "$0")/.."}
cd "$root" || exit 2

# layer PATH -> base | kernels | runtime | gateway | front-end | harness
layer() {
    case $1 in
        base/*) echo base ;;
        kernels/*) echo kernels ;;
        runtime/lua/* | runtime/lua_module/* | runtime/host/* | runtime/capi/* | runtime/bitttt.h) echo front-end ;;
        runtime/ops* | runtime/device.*) echo gateway ;;
        runtime/*) echo runtime ;;
        spec/* | scripts/cuda/* | scripts/bench-ternary-peak.c) echo harness ;;
        *) echo front-end ;;
    esac
}

# May a file of layer $1 include a file of layer $2 (path $3)?
allowed() {
    case $1:$2 in
        harness:*) return 0 ;;
        base:base) return 0 ;;
        kernels:base | kernels:kernels) return 0 ;;
        runtime:base | runtime:runtime | runtime:gateway) return 0 ;;
        gateway:base | gateway:kernels | gateway:runtime | gateway:gateway) return 0 ;;
        front-end:base | front-end:runtime | front-end:gateway | front-end:front-end) return 0 ;;
    esac
    return 1
}

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
bad=0
while IFS= read -r file; do
    dir=$(dirname "$file")
    while IFS=: read -r line target; do
        if [ -f "$dir/$target" ]; then to=$(realpath -m --relative-to=. "$dir/$target")
        elif [ -f "$target" ]; then to=$(realpath -m --relative-to=. "$target")
        else
            echo "$file:$line: includes \"$target\", which is not a file next to it or under the root"
            bad=1
            continue
        fi
        from_layer=$(layer "$file") to_layer=$(layer "$to")
        if ! allowed "$from_layer" "$to_layer"; then
            echo "$file:$line: $from_layer file includes $to ($to_layer): wrong way"
            bad=1
        fi
        echo "$file $to $line" >>"$edges"
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" | sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/')
done < <(find base kernels runtime spec scripts examples python -type f \
             \( -name '*.c' -o -name '*.h' -o -name '*.cu' -o -name '*.cuh' -o -name '*.cpp' \) 2>/dev/null | sort)

# Pairs that include each other.
while read -r a b line; do
    if [[ "$a" < "$b" ]] && grep -q "^$b $a " "$edges"; then
        echo "$a:$line: includes $b, which includes $a back"
        bad=1
    fi
done <"$edges"

if [ "$bad" -ne 0 ]; then echo "check-includes: include arrows point the wrong way (see above)"; exit 1; fi
echo "check-includes: $(wc -l <"$edges") includes, all pointing down"
