#!/usr/bin/env bash
# A local job array, as Kaldi's utils/run.pl: run a command once per job, in parallel on this machine.
#   utils/run.sh [--max-jobs-run N] JOB=1:N LOGFILE COMMAND [ARG...]
#   utils/run.sh [--max-jobs-run N] LOGFILE COMMAND [ARG...]          (one job)
# Every occurrence of the string JOB in LOGFILE and in each ARG is replaced by the job number (1..N).
# Each job's standard output and error go to its log file, which also records the command, the start
# and end times and the exit code (as run.pl writes them). Arguments are passed as given (each quoted),
# never re-split by a shell. At most --max-jobs-run jobs (default: the number of processors) run at a
# time. Exit 0 if every job succeeded; otherwise 1, after all jobs ended, with one line naming how
# many failed and where their logs are. A recipe takes the command in a variable so that a cluster
# wrapper with the same interface (Kaldi's queue.pl, slurm.pl) can replace this one: --cmd "slurm.pl".
set -uo pipefail
max_jobs=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
  case "$1" in
    --max-jobs-run) max_jobs=$2; shift 2 ;;
    --*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done
first=1; last=1; array=0
if [[ $# -gt 0 && $1 =~ ^JOB=([0-9]+):([0-9]+)$ ]]; then
  first=${BASH_REMATCH[1]}; last=${BASH_REMATCH[2]}; array=1; shift
  [ "$first" -le "$last" ] || { echo "run.sh: empty job range JOB=$first:$last" >&2; exit 2; }
fi
[ $# -ge 2 ] || { echo "usage: run.sh [--max-jobs-run N] [JOB=1:N] LOGFILE COMMAND [ARG...]" >&2; exit 2; }
[[ $max_jobs =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --max-jobs-run must be a positive number" >&2; exit 2; }
log_pattern=$1; shift

run_job() {  # run_job J: one job, its output into its log file
  local j=$1 log cmd="" a
  shift
  if [ $array = 1 ]; then log=${log_pattern//JOB/$j}; else log=$log_pattern; fi
  for a in "$@"; do
    [ $array = 1 ] && a=${a//JOB/$j}
    cmd+=$(printf '%q ' "$a")
  done
  mkdir -p "$(dirname "$log")" || return 1
  local t0; t0=$(date +%s)
  {
    echo "# $cmd"
    echo "# Started at $(date)"
    bash -c "$cmd"
    local rc=$?
    echo "# Accounting: time=$(( $(date +%s) - t0 )) threads=1"
    echo "# Ended (code $rc) at $(date)"
    exit $rc
  } >"$log" 2>&1
}

pids=(); jobs_of=(); failed=0
for ((j = first; j <= last; j++)); do
  while [ "$(jobs -rp | wc -l)" -ge "$max_jobs" ]; do wait -n 2>/dev/null || true; done
  run_job "$j" "$@" &
  pids+=($!); jobs_of+=("$j")
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=$((failed + 1))
done
if [ $failed -gt 0 ]; then
  if [ $array = 1 ]; then
    echo "run.sh: $failed / $((last - first + 1)) failed, log is in ${log_pattern//JOB/*}" >&2
  else
    echo "run.sh: job failed, log is in $log_pattern" >&2
  fi
  exit 1
fi
exit 0
