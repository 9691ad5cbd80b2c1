#!/usr/bin/env bash
# Job-array training on a subset of real-v1, the way Kaldi recipes run on a cluster: every EM iteration
# is a map step over shards of the data (a job array through $cmd, Kaldi's --cmd: utils/run.sh runs
# the jobs in parallel on this machine; slurm.pl or queue.pl run them on a cluster) and a reduce step
# (sum-accs, then est). Then the same training in one process (`slid train`) and a comparison of the
# two models, parameter by parameter.
#   recipes/jobarray/run.sh [--stage N] [--nj N] [--cmd CMD] [--slid PATH]
# Stages: 1 data list  2 job-array training  3 single-process training and comparison.
# Settings in conf/train.conf. Everything is written under recipes/jobarray/{data,exp} (or $SLID_RECIPE_OUT).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
stage=1
slid=${SLID:-$here/../../build/bin/slid}
. "$here/conf/train.conf"
while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --nj) nj=$2; shift 2 ;;
    --cmd) cmd=$2; shift 2 ;;
    --slid) slid=$2; shift 2 ;;
    *) echo "run.sh: unknown option '$1' (use --stage N, --nj N, --cmd CMD, --slid PATH)" >&2; exit 2 ;;
  esac
done
case $slid in /*) ;; */*) slid=$PWD/$slid ;; *) slid=$(command -v "$slid" || echo "$slid") ;; esac
[ -x "$slid" ] || { echo "run.sh: no slid program at $slid (build it, or pass --slid PATH)" >&2; exit 1; }
cd "$here"
out=${SLID_RECIPE_OUT:-$here}
data=$out/data; exp=$out/exp
mkdir -p "$data" "$exp"
t0=$(date +%s)
log() { echo "[run.sh $(date +%H:%M:%S), +$(( $(date +%s) - t0 )) s] $*"; }
init_opts=(--num-gauss "$num_gauss" --seed "$seed" --init-max-frames "$init_max_frames")
accs() { for j in $(seq "$nj"); do echo "$exp/acc/$1.$j.acc"; done; }  # the map step's outputs, in order

if [ "$stage" -le 1 ]; then
  log "stage 1: data list ($recordings_per_lang recordings of each of $langs, $source_name)"
  local/make_list.sh "$corpus" "$source_name" "$langs" "$recordings_per_lang" "$data/train.tsv"
fi
if [ "$stage" -le 2 ]; then
  log "stage 2: job-array training, $nj shards, $iters iterations ($cmd)"
  rm -rf "$exp/acc" "$exp/feats" "$exp/log"; mkdir -p "$exp/acc"
  # Features are computed once per shard here and kept in exp/feats for every iteration.
  $cmd JOB=1:"$nj" "$exp/log/acc-init.JOB.log" \
    "$slid" acc-init "$data/train.tsv" --shard JOB/"$nj" --cache-dir "$exp/feats" -o "$exp/acc/init.JOB.acc" "${init_opts[@]}"
  "$slid" sum-accs $(accs init) -o "$exp/acc/init.acc"
  "$slid" gmm-init "$exp/acc/init.acc" -o "$exp/0.slid"
  for it in $(seq "$iters"); do
    s=$(date +%s.%N)
    $cmd JOB=1:"$nj" "$exp/log/acc.$it.JOB.log" \
      "$slid" acc-stats --model "$exp/$((it - 1)).slid" "$data/train.tsv" --shard JOB/"$nj" --cache-dir "$exp/feats" \
      -o "$exp/acc/$it.JOB.acc"
    m=$(date +%s.%N)
    "$slid" sum-accs $(accs "$it") -o "$exp/acc/$it.acc" 2>/dev/null
    "$slid" est --model "$exp/$((it - 1)).slid" "$exp/acc/$it.acc" -o "$exp/$it.slid" 2>/dev/null | tr '\n' ' '
    e=$(date +%s.%N)
    echo; log "iteration $it: map $(awk "BEGIN { printf \"%.2f\", $m - $s }") s, reduce $(awk "BEGIN { printf \"%.2f\", $e - $m }") s"
  done
  ln -sf "$iters.slid" "$exp/final.slid"
fi
if [ "$stage" -le 3 ]; then
  log "stage 3: the same training in one process, and the comparison"
  "$slid" train "$data/train.tsv" -o "$exp/single.slid" "${init_opts[@]}" --iters "$iters" -q
  /usr/bin/python3 local/compare_models.py "$exp/final.slid" "$exp/single.slid" --tol 1e-3 | tee "$exp/compare.txt"
fi
log "done"
