#!/usr/bin/env bash
# Issue 9 item 4 through the program: `slid features --model M` computes exactly the features M expects
# (so identify --feats scores them as identify scores the audio), and Kaldi options that do not change
# the features (--allow-downsample, --allow-upsample, --verbose, ...) are accepted, on the command line
# and in a --config file, each with a one-line note, leaving the features unchanged.
# Usage: bash features_model.sh <slid-binary> <tests/data dir>. Needs coreutils.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"  # fail, note, skip, run, run_limit, said, said_both, no_temp_files
SLID=$(realpath "$1")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MODEL=$ROOT/models/asterisk-5lang/asterisk-5lang.slid  # 8 kHz, 100-3700 Hz: not the default frontend
EN=$ROOT/models/samples/en-conf-onlyperson.wav
FR=$ROOT/models/samples/fr-conf-onlyperson.wav
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-features-model.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"


# ---- features --model: identify --feats on them prints what identify prints for the audio ----------------
printf 'en %s\nfr %s\n' "$EN" "$FR" >wav.scp
run 0 "$SLID" features --scp wav.scp --model "$MODEL" --ark ark:m.ark -q
run 0 "$SLID" identify -m "$MODEL" --feats ark:m.ark
cp last.out feats.tsv
run 0 "$SLID" identify -m "$MODEL" --scp wav.scp
cmp -s feats.tsv last.out || fail "features --model differ from what the model computes: $(diff feats.tsv last.out)"
# (and they are not simply the default frontend's: same dimension, other values)
run 0 "$SLID" features --scp wav.scp --ark ark:d.ark -q
cmp -s m.ark d.ark && fail "--model gave the default frontend's features"
# --model with frontend flags or a config is a usage error; a model of external features cannot say how to
# compute them.
run 2 "$SLID" features "$EN" --model "$MODEL" --num-ceps 13 -q
said "--model sets every frontend option"
printf 'a 1\nb 2\n' >u2l
printf 'a  [\n 1 2\n 3 4 ]\nb  [\n 5 6\n 7 9 ]\n' >x.txt
run 0 "$SLID" train --feats ark:x.txt --utt2lang u2l -o ext.slid --num-gauss 1 --iters 1 --quiet
run 2 "$SLID" features "$EN" --model ext.slid -q
said "ext.slid: trained on external features"

# ---- Kaldi options without effect: accepted with one note each, features unchanged ------------------------
run 0 "$SLID" features "$EN" --out-dir plain -q
run 0 "$SLID" features "$EN" --out-dir noop -q --allow-downsample --allow-upsample=true --verbose=2 --print-args=false
said "note: --allow-downsample does not change the features; ignored"
said "note: --allow-upsample does not change the features; ignored"
said "note: --verbose does not change the features; ignored"
said "note: --print-args does not change the features; ignored"
cmp -s plain/en-conf-onlyperson.npy noop/en-conf-onlyperson.npy || fail "no-effect options changed the features"
printf -- '--sample-frequency=8000\n--allow-downsample=true\n--high-freq=3700\n--min-duration=0.1\n' >k.conf
run 0 "$SLID" features "$EN" --config k.conf --out-dir conf -q
said "k.conf:2: note: --allow-downsample does not change the features; ignored"
said "k.conf:4: note: --min-duration does not change the features; ignored"
run 0 "$SLID" identify -m "$MODEL" "$EN" --allow-downsample
said "note: --allow-downsample"
[[ $(tail -n +2 last.out | cut -f2) == en ]] || fail "identify with --allow-downsample: $(cat last.out)"
run 0 "$SLID" train --feats ark:x.txt --utt2lang u2l -o ext2.slid --num-gauss 1 --iters 1 --quiet --verbose=1
said "note: --verbose does not change the features; ignored"
# They stay out of --help (they do nothing), and a misspelt one is still an error.
run 0 "$SLID" features --help
! grep -q -- '--allow-downsample' last.out || fail "--help lists options without effect"
run 2 "$SLID" features "$EN" --allow-downsampel -q
echo "features_model: all checks passed"
