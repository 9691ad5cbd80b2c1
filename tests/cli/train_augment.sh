#!/usr/bin/env bash
# `slid train --augment N` through the program: the copies are made and recorded in the model summary
# (slid info), the same options give the same model byte for byte (apart from the date and command
# line), another --augment-seed another one; bad augmentation options are usage errors naming the
# option, before any work. Short: two languages, one second of audio each.
# Usage: bash train_augment.sh <slid-binary> <tests/data dir>. Needs sox.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"  # fail, note, skip, run, run_limit, said, said_both, no_temp_files
SLID=$(realpath "$1")
command -v sox >/dev/null || { echo "train_augment: sox not installed"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-train-augment.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
RUN_TIMEOUT=120
TRAIN=(--num-gauss 2 --iters 2 --threads 2 -q)

mkdir -p data/lo data/hi
for i in 1 2; do
  sox -n -r 16000 -b 16 data/lo/a$i.wav synth 1 sine $((200 + 50 * i))-$((900 + 90 * i)) vol 0.4 tremolo 3 60 2>/dev/null
  sox -n -r 16000 -b 16 data/hi/b$i.wav synth 1 sine $((1500 + 50 * i))-$((2500 + 90 * i)) vol 0.3 tremolo $((2 + i)) 70 2>/dev/null
done

run 0 "$SLID" train data -o a.slid "${TRAIN[@]}" --augment 2 --augment-kinds noise,telephone+mulaw,speed \
  --augment-snr-db 5:10 --augment-noise pink --augment-speeds 0.9
"$SLID" info --json a.slid >a.json
grep -q "\"copies_made\": *8" a.json || fail "copies not recorded: $(grep -i augment a.json | head -3)"
run 0 "$SLID" train data -o b.slid "${TRAIN[@]}" --augment 2 --augment-kinds noise,telephone+mulaw,speed \
  --augment-snr-db 5:10 --augment-noise pink --augment-speeds 0.9
run 0 "$SLID" train data -o c.slid "${TRAIN[@]}" --augment 2 --augment-kinds noise,telephone+mulaw,speed \
  --augment-snr-db 5:10 --augment-noise pink --augment-speeds 0.9 --augment-seed 9
# The scores of a file are the model's fingerprint here (the files hold the date and command line).
score() { "$SLID" identify --model "$1" --json data/lo/a1.wav 2>/dev/null; }
[[ $(score a.slid) == "$(score b.slid)" ]] || fail "same options, different models: $(score a.slid) / $(score b.slid)"
[[ $(score a.slid) != "$(score c.slid)" ]] || fail "another --augment-seed gave the same model"

# Bad options: usage errors (exit 2) naming the option, before any features are computed.
run 2 "$SLID" train data -o x.slid "${TRAIN[@]}" --augment 1 --augment-kinds noise+reverb
said "unknown step 'reverb'"
run 2 "$SLID" train data -o x.slid "${TRAIN[@]}" --augment 1 --augment-snr-db 10
said "--augment-snr-db '10'" "MIN:MAX"
run 2 "$SLID" train data -o x.slid "${TRAIN[@]}" --augment 1 --augment-snr-db 15:5
said "SNR range"
run 2 "$SLID" train data -o x.slid "${TRAIN[@]}" --augment-noise pink
said "--augment-noise needs --augment N"
run 2 "$SLID" train data -o x.slid "${TRAIN[@]}" --augment 1 --augment-speeds 3 --augment-kinds speed
said "speed factor"
run 2 "$SLID" train --feats ark:none.ark --utt2lang none.u2l -o x.slid --augment 1
said "--augment needs audio"
[[ ! -e x.slid ]] || fail "a model was written after a usage error"
note "ok"
