#!/usr/bin/env bash
# multisource recipe: real speech of many speakers and sources (../shared/corpora/real-v1), evaluated
# on speakers and on sources that training never heard (README.md: the protocol and the figures).
#   recipes/multisource/run.sh [--stage N] [--stop-stage N] [--slid PATH] [--exp DIR] [--<setting> VALUE]...
# --<setting> overrides a setting of conf/{train,calibrate,corpus}.conf for this run (dashes for underscores), e.g.
#   run.sh --stage 4 --exp exp/utt_cmvn --train-opts "--cmvn-mode utterance"
# Stages: 1 data dirs (and the Debian-package corpus, once)  2 leak checks  3 audio for slid builds without segments  4 train  5 eval
#         6 Python peer  7 summary  8 shipped model (all shippable data)
#         9 calibration on held-out speakers (conf/calibrate.conf)
# Writes under recipes/multisource/{data,exp} (or $SLID_RECIPE_OUT).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stage=1; stop_stage=99; exp_opt=
slid=${SLID:-$here/../../build/bin/slid}
overrides=()
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "run.sh: option '$1' needs a value" >&2; exit 2; }
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --stop-stage) stop_stage=$2; shift 2 ;;
    --slid) slid=$2; shift 2 ;;
    --exp) exp_opt=$2; shift 2 ;;
    --*) overrides+=("$1" "$2"); shift 2 ;;
    *) echo "run.sh: unknown option '$1' (use --stage N, --stop-stage N, --slid PATH, --exp DIR, --<conf setting> VALUE)" >&2; exit 2 ;;
  esac
done
case $exp_opt in ''|/*) ;; *) exp_opt=$PWD/$exp_opt ;; esac  # relative to the caller
case $slid in /*) ;; */*) slid=$PWD/$slid ;; *) slid=$(command -v "$slid" || echo "$slid") ;; esac
[ -x "$slid" ] || { echo "run.sh: no slid program at $slid (build it, or pass --slid PATH)" >&2; exit 1; }
cd "$here"
. conf/corpus.conf
. conf/train.conf
. conf/calibrate.conf
for ((i = 0; i < ${#overrides[@]}; i += 2)); do
  name=${overrides[i]#--}; name=${name//-/_}
  grep -q "^$name=" conf/train.conf conf/calibrate.conf conf/corpus.conf ||
    { echo "run.sh: unknown option '${overrides[i]}' (not a setting of conf/train.conf, calibrate.conf or corpus.conf)" >&2; exit 2; }
  printf -v "$name" '%s' "${overrides[i+1]}"
done
out=${SLID_RECIPE_OUT:-$here}
data=$out/data; exp=${exp_opt:-$out/exp}
mkdir -p "$data" "$exp"
t0=$(date +%s)
log() { echo "[run.sh $(date +%H:%M:%S), +$(( $(date +%s) - t0 )) s] $*"; }
run() { [ "$stage" -le "$1" ] && [ "$1" -le "$stop_stage" ]; }
# Does this slid read Kaldi segments? If not, stage 3 writes each utterance as a WAV file.
# (grep reads all of it: with -q it would stop early, slid would die of SIGPIPE, and pipefail would say "no")
if "$slid" train --help 2>&1 | grep -i segments > /dev/null; then segs=true; else segs=false; fi
dir() { if [ "$segs" = true ]; then echo "$data/$1"; else echo "$data/wav_sets/$1"; fi; }
# Does model set $1 also get its one-speaker-per-language baseline ($1_1spk)? conf/train.conf, baselines.
has_baseline() {
  case " $baselines " in *" all "*|*" true "*) return 0 ;; *" $1 "*) return 0 ;; *) return 1 ;; esac
}
# (model set, test set) pairs of the protocol: within-source (train) and cross-source folds (xs<k>).
pairs() {
  local b
  for b in train $(cd "$data" && ls -d xs*_train 2> /dev/null); do
    for s in "$b" $(has_baseline "$b" && echo "${b}_1spk"); do
      if [ "$b" = train ]; then echo "$s test_spk"; echo "$s test_rec"; else echo "$s ${b%_train}_test"; fi
    done
  done
}
models() { pairs | cut -d' ' -f1 | uniq; }
# The corpora pooled by make_data.pl (colon-separated): real-v1, the Debian corpus, extra_corpora.
debian_dir=${debian_corpus_dir:-$out/corpus/debian}
corpora=$realv1${extra_corpora:+:$extra_corpora}
[ "$debian_corpus" = true ] && corpora=$corpora:$debian_dir

if run 1; then
  [ -f "$realv1/recordings.tsv" ] || { echo "run.sh: no corpus at $realv1 (set SLID_REALV1)" >&2; exit 1; }
  if [ "$debian_corpus" = true ]; then
    stamp=$(md5sum < local/make_debian_corpus.py | cut -d' ' -f1)
    if [ "$(cat "$debian_dir/.made_by" 2> /dev/null)" != "$stamp" ]; then
      log "stage 1: the Debian-package corpus -> $debian_dir (decodes and resamples ~20 000 files, once)"
      /usr/bin/python3 local/make_debian_corpus.py "$debian_dir"
      echo "$stamp" > "$debian_dir/.made_by"
    fi
  fi
  log "stage 1: data directories from $corpora (utterances of >= $merge_min_seconds s) and the protocol's sets"
  rm -rf "$data"; mkdir -p "$data"
  perl local/make_data.pl "$corpora" "$merge_min_seconds" "$exclude_sources" "$data/all"
  perl local/make_sets.pl "$data/all" "$test_speaker_percent" "$test_recording_percent" "$max_train_minutes" \
    "$max_test_utts" "$data" "$fold_max_held_per_lang" "$fold_min_source_minutes"
  cat "$data/folds.txt" "$data/sets.txt"
  perl local/lang_table.pl "$data/all" > "$data/languages.md"
  perl local/fold_table.pl "$data" | tee "$data/folds.md"
fi
if run 2; then
  log "stage 2: leak checks (and a planted speaker, clip and source leak must fail them)"
  perl local/check_sets.pl "$data" | tee "$exp/checks.txt"
  local/test_check_sets.sh "$data" | tee -a "$exp/checks.txt"
fi
if run 3 && [ "$segs" = false ]; then
  log "stage 3: this slid reads no segments: writing each utterance as a WAV file"
  for s in $(cd "$data" && ls -d */ | tr -d /); do
    [ -f "$data/$s/segments" ] && [ "$s" != all ] || continue
    /usr/bin/python3 local/materialise.py "$data/$s" "$data/wav" "$data/wav_sets/$s"
  done
fi
if run 4; then
  for m in $(models); do
    log "stage 4: slid train $m ($num_gauss Gaussians, $max_iters iterations${train_opts:+, $train_opts})"
    # shellcheck disable=SC2086
    "$slid" train -q --config conf/mfcc.conf --num-gauss "$num_gauss" --iters "$max_iters" --threads "$threads" \
      $train_opts --output "$exp/$m.slid" "$(dir "$m")"
  done
fi
if run 5; then
  pairs | while read -r m t; do
    log "stage 5: slid eval $m on $t"
    "$slid" eval -q --model "$exp/$m.slid" --threads "$threads" --out-dir "$exp/eval_${m}_$t" "$(dir "$t")"
  done
fi
if run 6 && [ "$run_peer" = true ]; then
  mkdir -p "$exp/peer"
  pairs | grep -v _1spk | while read -r m t; do
    log "stage 6: Python peer: train on $m, test on $t${peer_opts:+ ($peer_opts)}"
    [ -f "$exp/peer/$m.pkl" ] || /usr/bin/python3 local/peer.py train "$data/$m" "$exp/peer/$m.pkl" $peer_opts \
      --feats-cache "$exp/peer/feats_$m.npz"
    /usr/bin/python3 local/peer.py eval "$exp/peer/$m.pkl" "$data/$t" "$exp/peer/scores_${m}_$t.tsv" \
      --feats-cache "$exp/peer/feats_$t.npz"
  done
fi
if run 7; then
  log "stage 7: summary"
  args=()
  while read -r m t; do
    args+=("slid $m → $t=$exp/eval_${m}_$t/scores.tsv=$data/$t")
    [ -f "$exp/peer/scores_${m}_$t.tsv" ] && args+=("peer $m → $t=$exp/peer/scores_${m}_$t.tsv=$data/$t")
  done < <(pairs)
  perl local/summary.pl "${args[@]}" | tee "$exp/summary.md"
fi
if run 8; then
  log "stage 8: shipped model: every utterance of every source except '$ship_exclude_sources'"
  rm -rf "$data/ship"; mkdir -p "$data/ship"
  perl local/make_data.pl "$corpora" "$merge_min_seconds" "$ship_exclude_sources" "$data/ship/all"
  # nothing held out (0 %): ship/train = every utterance, capped per (language, source) as the protocol's
  perl local/make_sets.pl "$data/ship/all" 0 0 "$ship_max_train_minutes" 0 "$data/ship"
  ship_dir=$data/ship/train
  # languages under ship_min_language_seconds of training audio are left out of the shipped model
  awk -v min="$ship_min_language_seconds" 'NR == FNR { d[$1] = $2; next } { m[$2] += d[$1] }
    END { for (l in m) if (m[l] < min) print l }' "$ship_dir/utt2dur" "$ship_dir/utt2lang" | sort > "$data/ship/dropped_langs"
  if [ -s "$data/ship/dropped_langs" ]; then
    log "stage 8: left out (under $ship_min_language_seconds s): $(tr '\n' ' ' < "$data/ship/dropped_langs")"
    mkdir -p "$data/ship/kept"
    awk 'NR == FNR { drop[$1] = 1; next } !drop[$2] { print $1 }' "$data/ship/dropped_langs" "$ship_dir/utt2lang" > "$data/ship/kept/utts"
    for f in segments utt2lang utt2spk utt2dur utt2source; do
      [ -f "$ship_dir/$f" ] && awk 'NR == FNR { k[$1] = 1; next } k[$1]' "$data/ship/kept/utts" "$ship_dir/$f" > "$data/ship/kept/$f"
    done
    awk 'NR == FNR { r[$2] = 1; next } r[$1]' "$data/ship/kept/segments" "$ship_dir/wav.scp" > "$data/ship/kept/wav.scp"
    rm "$data/ship/kept/utts"; ship_dir=$data/ship/kept
  fi
  if [ "$segs" = false ]; then
    /usr/bin/python3 local/materialise.py "$ship_dir" "$data/wav" "$data/wav_sets/ship"; ship_dir=$data/wav_sets/ship
  fi
  # shellcheck disable=SC2086
  "$slid" train -q --config conf/mfcc.conf --num-gauss "$num_gauss" --iters "$max_iters" --threads "$threads" \
    $train_opts --output "$exp/ship.slid" "$ship_dir"
  "$slid" info "$exp/ship.slid" | head -n 20
fi
if run 9; then
  # Calibration on development speakers the model never heard (conf/calibrate.conf, README "Calibration").
  # Outputs already present (models, eval reports) are kept: delete them to redo a step.
  test_sets() { if [ "$1" = train ]; then echo test_spk test_rec; else echo "${1%_train}_test"; fi; }
  for m in $cal_sets; do
    log "stage 9: $m -> ${m}_caltrain + ${m}_caldev (held-out speakers, $dev_speaker_percent %)"
    rm -rf "$data/${m}_caltrain" "$data/${m}_caldev"
    perl local/make_dev.pl "$data/$m" "$dev_speaker_percent" "$data/${m}_caltrain" "$data/${m}_caldev"
    if [ "$segs" = false ]; then
      for s in ${m}_caltrain ${m}_caldev; do
        /usr/bin/python3 local/materialise.py "$data/$s" "$data/wav" "$data/wav_sets/$s"
      done
    fi
    if [ ! -f "$exp/${m}_caltrain.slid" ]; then
      log "stage 9: slid train ${m}_caltrain"
      # shellcheck disable=SC2086
      "$slid" train -q --config conf/mfcc.conf --num-gauss "$num_gauss" --iters "$max_iters" --threads "$threads" \
        $train_opts --output "$exp/${m}_caltrain.slid" "$(dir "${m}_caltrain")"
    fi
    if [ ! -f "$exp/${m}_caltrain_cal.slid" ]; then
      log "stage 9: slid calibrate ${m}_caltrain on ${m}_caldev"
      "$slid" calibrate -q --model "$exp/${m}_caltrain.slid" --threads "$threads" -o "$exp/${m}_caltrain_cal.slid" \
        "$(dir "${m}_caldev")"
    fi
    for t in $(test_sets "$m"); do
      for v in ${m}_caltrain ${m}_caltrain_cal; do
        [ -f "$exp/eval_${v}_$t/report.md" ] && continue
        log "stage 9: slid eval $v on $t"
        "$slid" eval -q --model "$exp/$v.slid" --threads "$threads" --out-dir "$exp/eval_${v}_$t" "$(dir "$t")"
      done
    done
  done
  if [ "$cal_on_test_rec" = true ] && [ -f "$exp/train.slid" ]; then
    if [ ! -f "$exp/train_cal_test_rec.slid" ]; then
      log "stage 9: slid calibrate train on test_rec (heard speakers)"
      "$slid" calibrate -q --model "$exp/train.slid" --threads "$threads" -o "$exp/train_cal_test_rec.slid" "$(dir test_rec)"
    fi
    for v in train train_cal_test_rec; do
      [ -f "$exp/eval_${v}_test_spk/report.md" ] && continue   # (stage 5 makes eval_train_test_spk)
      log "stage 9: slid eval $v on test_spk"
      "$slid" eval -q --model "$exp/$v.slid" --threads "$threads" --out-dir "$exp/eval_${v}_test_spk" "$(dir test_spk)"
    done
  fi
  # one line per evaluation: its directory, then the 'all' row of its report (accuracy ... Cllr, min-Cllr)
  for d in "$exp"/eval_*_caltrain*_* "$exp"/eval_train_cal_test_rec_test_spk "$exp"/eval_train_test_spk; do
    [ -f "$d/report.md" ] || continue
    printf '%s %s\n' "$(basename "$d")" "$(grep -m1 '^| all ' "$d/report.md")"
  done | tee "$exp/calibration.txt"
fi
log "done"
