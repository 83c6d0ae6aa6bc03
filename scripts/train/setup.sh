#!/usr/bin/env bash
# setup.sh - installs what the trainer needs (Debian packages only): PyTorch, an
# optimised BLAS, the regex module for the GPT-2 pre-tokenizer, and the corpus
# (fortunes, man pages rendered by mandoc, Perl's manual, the Jargon File, and the
# King James Bible, the held-out domain: see scripts/train/data.py). Not needed by
# run.sh or test.sh.
set -euo pipefail
packages=(python3-torch libopenblas0-pthread python3-regex fortunes fortunes-min manpages manpages-dev mandoc
          perl-doc jargon-text bible-kjv bible-kjv-text)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" apt-get install -y "${missing[@]}"
fi
# Debian's torch is importable only from the system interpreter.
/usr/bin/python3 -c 'import torch, regex; print("torch", torch.__version__, "ready")'
