#!/usr/bin/env bash
# Scaling of distributed EM training on this machine: `mpirun -np P slid train DATA` for P = 1..MAX,
# printing per P the mean time of an EM iteration (rank 0: its E-step, then the all-reduce, which
# includes waiting for the slowest rank, then the M-step), the all-reduce time, the statistics sent per
# rank (languages x K x (2D+1) doubles plus the header) and the speed-up of the iteration against P = 1
# of the same run. One-process `slid train` on the same data is the baseline of the first line.
#   bench/mpi_scaling.sh DATA [MAX_P] [K] [ITERS]      (defaults: 4 processes, K = 256, 5 iterations)
# e.g. after recipes/jobarray/run.sh --stage 1:  bench/mpi_scaling.sh recipes/jobarray/data/train.tsv
# Needs slid built with MPI (build/bin/slid, or $SLID) and mpirun. Beyond the number of cores the ranks
# share them (--oversubscribe): the speed-up then measures the overhead, not more compute.
set -euo pipefail
data=${1:?usage: mpi_scaling.sh DATA [MAX_P] [K] [ITERS]}
max_p=${2:-4}; k=${3:-256}; iters=${4:-5}
slid=${SLID:-$(cd "$(dirname "$0")/.." && pwd)/build/bin/slid}
command -v mpirun >/dev/null || { echo "mpi_scaling.sh: no mpirun (apt-get install openmpi-bin)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/slid-scaling.XXXXXX")
trap 'rm -rf "$work"' EXIT
opts=(--num-gauss "$k" --iters "$iters" --seed 0)
# tol 0 is not a flag of slid train; 5 iterations at K >= 64 do not converge on speech (checked below).
echo "data $data, K = $k, $iters EM iterations, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
t0=$(date +%s.%N)
"$slid" train "$data" -o "$work/one.slid" "${opts[@]}" 2>"$work/one.log"
t1=$(date +%s.%N)
# slid train prints one "EM done: ... frames in X s" line: k-means++ and every iteration of every
# language, so its per-iteration figure is an upper bound (X / ITERS).
one_em=$(grep -o 'frames in [0-9.]* s' "$work/one.log" | tail -1 | awk '{ print $3 }')
printf '%-10s %-14s %-14s %-16s %-10s %s\n' processes "EM iter (s)" "all-reduce (s)" "bytes per rank" speed-up "wall (s)"
printf '%-10s %-14s %-14s %-16s %-10s %s\n' "1 (train)" "<$(awk -v a="$one_em" -v i="$iters" 'BEGIN { printf "%.3f", a / i }')" - - - \
  "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
base=""
for p in $(seq 1 "$max_p"); do
  s=$(date +%s.%N)
  mpirun --allow-run-as-root --oversubscribe -np "$p" "$slid" train "$data" -o "$work/p$p.slid" "${opts[@]}" 2>"$work/p$p.log"
  e=$(date +%s.%N)
  grep -q 'bytes per rank' "$work/p$p.log" || { echo "mpi_scaling.sh: no iteration lines from -np $p (slid built without MPI?)" >&2; exit 1; }
  line=$(grep -o 'iteration [0-9]*: [0-9.]* s, E-step [0-9.]* s, all-reduce [0-9.]* s ([0-9]* bytes per rank)' "$work/p$p.log" |
         awk '{ it += $3; ar += $9; b = substr($11, 2) } END { printf "%.3f %.3f %d", it / NR, ar / NR, b }')
  read -r it ar bytes <<<"$line"
  [ -n "$base" ] || base=$it
  printf '%-10s %-14s %-14s %-16s %-10s %s\n' "$p" "$it" "$ar" "$bytes" "$(awk -v a="$base" -v b="$it" 'BEGIN { printf "%.2fx", a / b }')" \
    "$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.1f", b - a }')"
done
grep -h "converged" "$work"/*.log | head -3 || true
