#!/usr/bin/env bash
# Training and evaluating on precomputed features (issue 9 item 3): `slid train --feats RSPECIFIER
# --utt2lang FILE` and `slid eval --feats ... --utt2lang ...`, with
#  - archives written by Kaldi's own binaries (../shared/fixtures/kaldi: the lre07/v1 SDC features as a
#    text archive, and 7-dim MFCC as compressed matrices behind an scp): without frontend options the
#    model records an external frontend (format version 3), scores those features and refuses audio;
#  - features written by `slid features --ark` with a --config: with the same --config the model
#    records that frontend (format version 2) and scores the audio exactly as its features.
# Usage: bash train_feats.sh <slid-binary> <tests/data dir>. Needs coreutils and awk.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"  # fail, note, skip, run, run_limit, said, said_both, no_temp_files
SLID=$(realpath "$1")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The shared data (ctest sets SLID_SHARED_DIR, the CMake cache variable); missing fixtures fail the test.
SHARED=${SLID_SHARED_DIR:-$ROOT/../shared}
KALDI=$(cd "$SHARED/fixtures/kaldi" 2>/dev/null && pwd) || { echo "train_feats: FAIL: $SHARED/fixtures/kaldi missing"; exit 1; }
SAMPLES=$ROOT/models/samples
CONF=$ROOT/recipes/asterisk/conf/mfcc.conf
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-train-feats.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# decisions: "utt:lang ..." of an identify TSV in last.out
decisions() { tail -n +2 last.out | cut -f1,2 | tr '\t\n' ': '; }
G=(--num-gauss 4 --iters 3)

# ---- 1. Kaldi's lre07/v1 features (text archive, 56 dims), external frontend ---------------------------
printf 'en_vm-intro_16k en\nfr_vm-intro_16k fr\n' >u16
run 0 "$SLID" train --feats "ark:$KALDI/sdc_voiced_16k.txt" --utt2lang u16 -o ext.slid "${G[@]}" --quiet
run 0 "$SLID" info ext.slid
grep -q '^format version: 3$' last.out || fail "external model not format 3: $(head -3 last.out)"
grep -q '^frontend: *external' last.out || fail "info does not say the frontend is external"
grep -q '^feature dim: *56$' last.out || fail "feature dim: $(grep dim last.out)"
run 0 "$SLID" identify -m ext.slid --feats "ark:$KALDI/sdc_voiced_16k.txt"
[[ $(decisions) == "en_vm-intro_16k:en fr_vm-intro_16k:fr " ]] || fail "decisions on the training features: $(cat last.out)"
# Audio cannot be scored by a model that does not know its frontend.
run 2 "$SLID" identify -m ext.slid "$KALDI/audio/en_vm-intro_16k.wav"
said "ext.slid" "cannot score audio"
printf '%s\ten\n' "$KALDI/audio/en_vm-intro_16k.wav" >audio.tsv
run 1 "$SLID" eval -m ext.slid audio.tsv -o ev0 --quiet
said "trained on external features" "cannot score audio"
run 0 "$SLID" eval -m ext.slid --feats "ark:$KALDI/sdc_voiced_16k.txt" --utt2lang u16 -o ev1 --quiet
grep -q '"num_scored": 2' ev1/report.json || fail "eval --feats did not score both utterances"
grep -q '"accuracy": 1' ev1/report.json || fail "eval --feats: not 100% on the training features"
awk -F'\t' 'NR > 1 && $2 != $3 { exit 1 }' ev1/scores.tsv || fail "scores.tsv truth/decision: $(cat ev1/scores.tsv)"

# ---- 2. Kaldi compressed 7-dim MFCC through an scp (paths relative to the working directory, as Kaldi) ---
(cd "$KALDI" && "$SLID" train --feats scp:mfcc_16k_compressed.scp --utt2lang "$WORK/u16" -o "$WORK/mfcc.slid" \
   --num-gauss 2 --iters 2 --quiet) || fail "train on compressed Kaldi MFCC"
run 0 "$SLID" info mfcc.slid
grep -q '^feature dim: *7$' last.out || fail "7-dim external model: $(grep dim last.out)"
# ...and the 56-dim archive given to it is refused, naming the utterance and both dimensions.
run 1 "$SLID" eval -m mfcc.slid --feats "ark:$KALDI/sdc_voiced_16k.txt" --utt2lang u16 -o ev2 --quiet
said "en_vm-intro_16k" "56-dimensional" "expects 7"

# ---- 3. features written by slid features --ark, with a --config: the model records that frontend ------
printf 'en %s\nes %s\nfr %s\nes2 %s\nfr2 %s\n' "$SAMPLES/en-conf-onlyperson.wav" "$SAMPLES/es-conf-onlyperson.wav" \
  "$SAMPLES/fr-conf-onlyperson.wav" "$SAMPLES/es-co-conf-onlyperson.wav" "$SAMPLES/fr-armelle-conf-onlyperson.wav" >wav.scp
printf 'en en\nes es\nfr fr\nes2 es\nfr2 fr\n' >utt2lang
run 0 "$SLID" features --scp wav.scp --config "$CONF" --ark ark,scp:f.ark,f.scp -q
run 0 "$SLID" train --feats scp:f.scp --utt2lang utt2lang --config "$CONF" -o slidf.slid "${G[@]}" --quiet
run 0 "$SLID" info slidf.slid
grep -q '^format version: 2$' last.out || fail "a model with a slid frontend is not format 2"
grep -q -- '--high-freq=3700' last.out || fail "the --config frontend was not recorded"
# The audio scores exactly as its features (the same frontend, so the same frames).
run 0 "$SLID" identify -m slidf.slid --scp wav.scp
cp last.out audio.tsv
run 0 "$SLID" identify -m slidf.slid --feats scp:f.scp
paste audio.tsv last.out | awk -F'\t' 'NR > 1 { n = NF / 2; if ($1 != $(n + 1) || $2 != $(n + 2)) exit 1
    for (i = 6; i <= n; ++i) { d = $i - $(n + i); if (d > 1e-3 || d < -1e-3) exit 1 } }' ||
  fail "audio and its features score differently: $(paste audio.tsv last.out)"
# The same features as a folder of .npy (slid features --out-dir): the same model, so the same scores.
run 0 "$SLID" features --scp wav.scp --config "$CONF" --out-dir npy -q
run 0 "$SLID" train --feats npy --utt2lang utt2lang --config "$CONF" -o npy.slid "${G[@]}" --quiet
run 0 "$SLID" identify -m npy.slid --feats scp:f.scp
cp last.out npy.tsv
run 0 "$SLID" identify -m slidf.slid --feats scp:f.scp
cmp -s npy.tsv last.out || fail "training on .npy and on the scp gave different models: $(diff npy.tsv last.out | head -4)"
# Features of another frontend than the --config given: refused before training, naming both dimensions.
run 1 "$SLID" train --feats "ark:$KALDI/mfcc_16k.txt" --utt2lang u16 --config "$CONF" -o x.slid "${G[@]}" --quiet
said "en_vm-intro_16k" "7-dimensional" "frontend options give 56"
[[ ! -e x.slid ]] || fail "a model was written from features of another frontend"

# ---- 4. labels and usage ---------------------------------------------------------------------------
# An utterance without a label, and a label without features: both skipped and named (exit 3).
printf '\xef\xbb\xbfen en\nes es\nfr fr\nfr2 fr\nzz es\n' >part.u2l  # es2 unlabelled, zz absent; a BOM
run 3 "$SLID" train --feats scp:f.scp --utt2lang part.u2l --config "$CONF" -o part.slid "${G[@]}" --quiet
said "utterance 'es2' has no label in part.u2l"
said "part.u2l:5: utterance 'zz' is not in scp:f.scp"
[[ -s part.slid ]] || fail "no model from the labelled utterances"
run 2 "$SLID" train --feats scp:f.scp -o y.slid
said "--feats needs --utt2lang"
run 2 "$SLID" train "$WORK" --feats scp:f.scp --utt2lang utt2lang -o y.slid
run 2 "$SLID" eval -m slidf.slid --feats scp:f.scp -o ev3
echo "train_feats: all checks passed"
