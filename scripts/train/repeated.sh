#!/usr/bin/env bash
# repeated.sh - the repeated-document test over many documents: every held-out
# cookie of at least MIN_TOKENS tokens is read twice in a stream of its own
# (DOC, a '%' line, DOC, a '%' line) by scripts/perplexity.lua; prints the
# perplexity of all first copies and of all second copies together (token-weighted).
#
#   scripts/train/repeated.sh MODEL HELDOUT.txt MIN_TOKENS [perplexity.lua options...]
set -euo pipefail
cd "$(dirname "$0")/../.."
model=$1 heldout=$2 min_tokens=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# heldout.txt: cookies separated by lines holding only '%'
awk -v dir="$tmp" 'BEGIN { n = 1 } /^%$/ { n++; next } { printf "%s%s", (seen[n]++ ? "\n" : ""), $0 > (dir "/doc" n) }' "$heldout"
count_ids() { bin/bitttt-lua tokenize.lua -m "$model" --no-bos -- "$1" | wc -w; }
docs=0
for doc in "$tmp"/doc*; do
    once="$(cat "$doc")"$'\n%\n'
    n=$(count_ids "$once")
    [ "$n" -ge "$min_tokens" ] || continue
    # the copies must tokenize alike, or --from would split them in the wrong place
    [ "$(count_ids "$once$once")" -eq $((2 * n)) ] || continue
    printf '%s%s' "$once" "$once" > "$tmp/twice.txt"
    bin/bitttt-lua scripts/perplexity.lua -m "$model" -f "$tmp/twice.txt" --from $((n + 1)) "$@" 2>/dev/null |
        grep "^tokens " | tail -n 2 >> "$tmp/results"   # the --from lines come after the buckets
    docs=$((docs + 1))
done
if [ "$docs" -eq 0 ]; then echo "repeated.sh: no document of $min_tokens tokens or more in $heldout" >&2; exit 1; fi
# lines "tokens A-B: perplexity X over N tokens", first copy then second, per document
awk -v docs="$docs" -v min="$min_tokens" '{ k = (NR % 2 == 1) ? 1 : 2; nll[k] += $6 * log($4); n[k] += $6 }
    END { printf "%d documents of %d tokens or more: first copy %.2f, second copy %.2f (%d tokens each)\n",
                 docs, min, exp(nll[1] / n[1]), exp(nll[2] / n[2]), n[1] }' "$tmp/results"
