#!/usr/bin/env bash
# Regenerates the seed corpus of fuzz target fuzz_model (tests/data/fuzz/fuzz_model/) with the slid
# program: a tiny model (2 synthetic "languages", 2 Gaussians, 6-dim features: --num-ceps 3
# --num-mel-bins 10 --sdc-n 3 --sdc-k 1), prefixed by the mode byte (0: as is; 1: the fuzz target
# rewrites the checksum), plus damaged variants.   Usage: make-model-seeds.sh <slid-binary>
set -euo pipefail
SLID=$(realpath "$1")
out="$(cd "$(dirname "$0")" && pwd)/fuzz_model"
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
mkdir -p d/a d/b
sox -n -r 16000 -b 16 d/a/1.wav synth 1 sine 300-900 vol 0.4 tremolo 3 60 2>/dev/null
sox -n -r 16000 -b 16 d/b/1.wav synth 1 pinknoise vol 0.3 tremolo 4 70 2>/dev/null
"$SLID" train d -o m.slid --num-gauss 2 --iters 1 --quiet --num-ceps 3 --num-mel-bins 10 --sdc-n 3 --sdc-k 1
seed() { { printf "\\x0$1"; cat "$3"; } >"$out/$2"; }
seed 0 model m.slid
seed 1 model_fixsum m.slid
head -c 100 m.slid >cut.slid;  seed 0 truncated cut.slid
cp m.slid v2.slid; printf '\x02' | dd of=v2.slid bs=1 seek=8 conv=notrunc status=none; seed 0 version2 v2.slid
