#!/usr/bin/env bash
# loops.sh - does generation loop? One sample of N tokens (default 200) per prompt
# (one prompt per line of PROMPTS, with generate.lua's -e escapes; the seed is the
# line number), with the model file's recommended sampling unless options say
# otherwise, never ending at the end-of-text token. A sample loops when one of its
# 8-token sequences (of the generated tokens, tokenized again) occurs 3 or more
# times. Prints each sample's most repeated 8-token count, then the loop count.
#
#   scripts/train/loops.sh MODEL PROMPTS [generate.lua options...]
set -euo pipefail
cd "$(dirname "$0")/../.."
model=$1 prompts=$2
shift 2
n=${N:-200}
samples=0 looping=0
while IFS= read -r prompt || [ -n "$prompt" ]; do
    samples=$((samples + 1))
    text=$(bin/bitttt-lua generate.lua -m "$model" -e -p "$prompt" -n "$n" --seed "$samples" \
        --ignore-eos --no-display-prompt "$@" 2>/dev/null)
    most=$(bin/bitttt-lua tokenize.lua -m "$model" --no-bos -- "$text" | tr -s ' \n' '\n' | grep . |
        awk '{ id[NR] = $1 } END { m = 0; for (i = 1; i + 7 <= NR; i++) { k = id[i]; for (j = 1; j < 8; j++) k = k " " id[i + j]; if (++c[k] > m) m = c[k] } print m }')
    [ "$most" -ge 3 ] && looping=$((looping + 1))
    printf 'sample %2d: most repeated 8-token sequence %d times: %s\n' "$samples" "$most" \
        "$(printf '%s' "$text" | tr '\n\t' '  ' | cut -c1-100)"
done < "$prompts"
echo "$looping of $samples samples loop (an 8-token sequence 3 or more times)"
