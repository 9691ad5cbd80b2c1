#!/usr/bin/env bash
# asterisk recipe: real recorded telephone prompts (8 kHz) from Debian's Asterisk sound packages.
# Trains one GMM per language (en es fr it ru) on the core voices and tests on prompt packs whose
# speakers training never heard (fr es it), plus a clearly labelled same-speaker test on held-out
# prompts of the core voices (the only test Debian's data allows for en and ru).
#   recipes/asterisk/run.sh [--stage N] [--nj N] [--slid PATH] [--exp DIR] [--<setting> VALUE]...
# --<setting> overrides a setting of conf/train.conf for this run (dashes for underscores), e.g.
#   run.sh --stage 3 --exp exp/ubm --ubm true       (train and evaluate a variant in its own exp dir)
# Stages: 1 list and convert sounds  2 data dirs + checks  3 train  4 eval (one report per test set).
# Writes under recipes/asterisk/{data,exp} (or $SLID_RECIPE_OUT).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stage=1; nj=2; exp_opt=
slid=${SLID:-$here/../../build/bin/slid}
overrides=()
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "run.sh: option '$1' needs a value" >&2; exit 2; }
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --nj) nj=$2; shift 2 ;;
    --slid) slid=$2; shift 2 ;;
    --exp) exp_opt=$2; shift 2 ;;
    --*) overrides+=("$1" "$2"); shift 2 ;;
    *) echo "run.sh: unknown option '$1' (use --stage N, --nj N, --slid PATH, --exp DIR, --<train.conf setting> VALUE)" >&2; exit 2 ;;
  esac
done
case $exp_opt in ''|/*) ;; *) exp_opt=$PWD/$exp_opt ;; esac  # relative to the caller
case $slid in /*) ;; */*) slid=$PWD/$slid ;; *) slid=$(command -v "$slid" || echo "$slid") ;; esac  # relative to the caller
[ -x "$slid" ] || { echo "run.sh: no slid program at $slid (build it, or pass --slid PATH)" >&2; exit 1; }
cd "$here"
. conf/corpus.conf
. conf/train.conf
for ((i = 0; i < ${#overrides[@]}; i += 2)); do
  name=${overrides[i]#--}; name=${name//-/_}
  grep -q "^$name=" conf/train.conf || { echo "run.sh: unknown option '${overrides[i]}' (not a setting of conf/train.conf)" >&2; exit 2; }
  printf -v "$name" '%s' "${overrides[i+1]}"
done
out=${SLID_RECIPE_OUT:-$here}
data=$out/data; exp=${exp_opt:-$out/exp}
mkdir -p "$data" "$exp"
test_sets="test_unseen_speaker test_unseen_speaker_prompt test_same_speaker"
t0=$(date +%s)
log() { echo "[run.sh $(date +%H:%M:%S), +$(( $(date +%s) - t0 )) s] $*"; }

if [ "$stage" -le 1 ]; then
  log "stage 1: list the sound packages, decode GSM prompts to WAV, skip non-speech"
  mkdir -p "$data/lists"
  for kind in core unseen; do
    [ "$kind" = core ] && voices=$core_voices || voices=$unseen_voices
    for v in $voices; do
      IFS=: read -r lang spk pkg <<< "$v"
      echo "$kind $lang $spk $pkg"
    done
  done | SKIP=$skip_regex MIN=$min_seconds DATA=$data xargs -P "$nj" -n 4 \
    bash -c 'local/list_voice.sh "$2" "$3" "$4" "$SKIP" "$MIN" "$DATA/wav" > "$DATA/lists/$1.$3.tsv"' _
  cat "$data"/lists/core.*.tsv > "$data/lists/core.tsv"
  cat "$data"/lists/unseen.*.tsv > "$data/lists/unseen.tsv"
fi
if [ "$stage" -le 2 ]; then
  log "stage 2: train / test data directories ($heldout_percent % of prompts held out) and checks"
  rm -rf "$data/train" "$data"/test_*
  perl local/make_sets.pl "$heldout_percent" "$data/lists/core.tsv" "$data/lists/unseen.tsv" "$data"
  perl local/check_data.pl "$data" "$min_train_minutes_per_lang" "$min_test_utts_per_lang" | tee "$exp/corpus_summary.txt"
  local/test_check_data.sh "$data"
fi
if [ "$stage" -le 3 ]; then
  log "stage 3: train one GMM per language ($num_gauss Gaussians, $max_iters iterations, ubm=$ubm, speed_perturb='$speed_perturb', augment_gsm=$augment_gsm)"
  train_dir=$data/train
  if [ -n "$speed_perturb" ]; then
    local/augment_speed.sh "$train_dir" "${train_dir}_sp" $speed_perturb
    train_dir=${train_dir}_sp
  fi
  if [ "$augment_gsm" = true ]; then
    local/augment_gsm.sh "$train_dir" "${train_dir}_gsm"
    train_dir=${train_dir}_gsm
  fi
  method=()
  [ "$ubm" = true ] && method=(--ubm --map-relevance "$map_relevance")
  "$slid" train --config conf/mfcc.conf --num-gauss "$num_gauss" --iters "$max_iters" "${method[@]}" \
    --threads "$threads" --output "$exp/asterisk.slid" "$train_dir"
fi
if [ "$stage" -le 4 ]; then
  for t in $test_sets; do
    log "stage 4: evaluation on $t"
    "$slid" eval --model "$exp/asterisk.slid" --threads "$threads" --out-dir "$exp/eval_$t" "$data/$t"
  done
  log "reports: $(for t in $test_sets; do printf '%s ' "$exp/eval_$t/report.md"; done)"
fi
log "done"
