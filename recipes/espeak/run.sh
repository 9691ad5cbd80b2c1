#!/usr/bin/env bash
# espeak recipe: a corpus spoken by espeak-ng in 25 languages (sentences from the translated
# messages of Debian packages), one GMM per language, evaluated on voices and sentences that
# training never saw.
#   recipes/espeak/run.sh [--stage N] [--nj N] [--slid PATH]
# Stages: 1 text  2 calibrate  3 train corpus  4 test corpus  5 checks  6 train  7 eval.
# Run from anywhere; everything is written under recipes/espeak/{data,exp} (or $SLID_RECIPE_OUT).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stage=1; nj=2
slid=${SLID:-$here/../../build/bin/slid}
while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --nj) nj=$2; shift 2 ;;
    --slid) slid=$2; shift 2 ;;
    *) echo "run.sh: unknown option '$1' (use --stage N, --nj N, --slid PATH)" >&2; exit 2 ;;
  esac
done
case $slid in /*) ;; */*) slid=$PWD/$slid ;; *) slid=$(command -v "$slid" || echo "$slid") ;; esac  # relative to the caller
[ -x "$slid" ] || { echo "run.sh: no slid program at $slid (build it, or pass --slid PATH)" >&2; exit 1; }
cd "$here"
. conf/corpus.conf
. conf/train.conf
out=${SLID_RECIPE_OUT:-$here}
data=$out/data; exp=$out/exp
mkdir -p "$data" "$exp"
langs() { grep -v '^\s*#' conf/langs.conf | grep -v '^\s*$'; }
t0=$(date +%s)
log() { echo "[run.sh $(date +%H:%M:%S), +$(( $(date +%s) - t0 )) s] $*"; }

if [ "$stage" -le 1 ]; then
  log "stage 1: sentences from gettext catalogues, split into train/test"
  local/prepare_text.sh conf/langs.conf conf/corpus.conf "$data/text"
fi
if [ "$stage" -le 2 ]; then
  log "stage 2: characters per second of each espeak-ng voice"
  local/calibrate.sh conf/langs.conf "$data/text" "$data/text/cps175"
fi
cps() { awk -v l="$1" '$1 == l { print $2 }' "$data/text/cps175"; }
if [ "$stage" -le 3 ]; then
  log "stage 3: training corpus (variants: $train_variants)"
  langs | while read -r lang voice source script; do
    perl local/make_utts.pl train "$lang" "$voice" "$data/text/$lang.train" "$(cps "$lang")" "$seed" \
      "$train_variants" "$rate_min" "$rate_max" "$pitch_min" "$pitch_max" \
      "$train_seconds_per_lang" "$train_utt_seconds_min" "$train_utt_seconds_max"
  done > "$data/train_utts.tsv"
  rm -rf "$data/wav/train"
  local/synth.sh "$nj" "$data/train_utts.tsv" "$data/wav/train"
  local/make_data_dir.sh "$data/train_utts.tsv" "$data/wav/train" "$data/train"
fi
if [ "$stage" -le 4 ]; then
  log "stage 4: test corpus (variants: $test_variants)"
  langs | while read -r lang voice source script; do
    perl local/make_utts.pl test "$lang" "$voice" "$data/text/$lang.test" "$(cps "$lang")" "$((seed + 1))" \
      "$test_variants" "$rate_min" "$rate_max" "$pitch_min" "$pitch_max" "$test_utts_per_bucket"
  done > "$data/test_utts.tsv"
  rm -rf "$data/wav/test"
  local/synth.sh "$nj" "$data/test_utts.tsv" "$data/wav/test"
  local/make_data_dir.sh "$data/test_utts.tsv" "$data/wav/test" "$data/test"
fi
if [ "$stage" -le 5 ]; then
  log "stage 5: corpus checks"
  perl local/check_data.pl "$data/train" "$data/test" "$min_languages" "$min_train_seconds_per_lang" \
    "$min_test_utts_per_bucket" | tee "$exp/corpus_summary.txt"
  local/test_check_data.sh "$data/train" "$data/test"
fi
if [ "$stage" -le 6 ]; then
  log "stage 6: train one GMM per language ($num_gauss Gaussians, $max_iters iterations)"
  "$slid" train --config conf/mfcc.conf --num-gauss "$num_gauss" --iters "$max_iters" \
    --threads "$threads" --output "$exp/espeak.slid" "$data/train"
fi
if [ "$stage" -le 7 ]; then
  log "stage 7: evaluation on unseen voices and sentences"
  "$slid" eval --model "$exp/espeak.slid" --threads "$threads" --out-dir "$exp/eval_test" "$data/test"
  log "report: $exp/eval_test/report.md"
fi
log "done"
