#!/usr/bin/env bash
# Issue 12 items 2 and 8 through the program: job-array training (acc-init -> sum-accs -> gmm-init ->
# [acc-stats -> sum-accs -> est] x iterations, over 3 shards, driven by the recipe's utils/run.sh)
# gives the model `slid train` gives on the same data, parameter by parameter within 1e-3 (weights
# absolute, means in standard deviations, variances relative; compare_models.py reads both files
# itself). The statistics are added in another order and per-block products are float, so the models
# agree to float rounding, not bit for bit (measured: 3e-5 at most, in a variance; the initial models
# agree within 1e-5). Also: features are cached per shard and reused; a missing, repeated, stale or
# damaged accumulator file is refused naming it; a bad --shard is a usage error; run.sh fails when a
# job fails and keeps its log.
# Usage: bash jobarray.sh <slid-binary> <tests/data dir>. Needs sox and /usr/bin/python3.
set -euo pipefail
SLID=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
RUN_TIMEOUT=120
source "$HERE/lib/common.sh"  # fail, run, said, tone_languages
RUN=$HERE/../../recipes/jobarray/utils/run.sh
COMPARE=$HERE/../../recipes/jobarray/local/compare_models.py
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-jobarray.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

tone_languages data
mkdir -p acc
FE=(--sample-frequency 8000 --high-freq -200)
K=4; ITERS=3; NJ=3
# A subsample smaller than the data (~560 frames per language), so that the keyed draw matters.
INIT=(--num-gauss $K --seed 3 --init-max-frames 300)

run 0 "$SLID" train data -o single.slid "${INIT[@]}" --iters $ITERS "${FE[@]}" -q

# The job array: map steps through run.sh (3 jobs at a time), reduce steps once.
run 0 "$RUN" --max-jobs-run 3 JOB=1:$NJ log/init.JOB.log "$SLID" acc-init data --shard JOB/$NJ --cache-dir feats \
  -o acc/init.JOB.acc "${INIT[@]}" "${FE[@]}"
grep -q "^# Ended (code 0)" log/init.2.log || fail "run.sh log of job 2 has no end line"
[[ -f feats/feats.1.3.feats && -f feats/feats.3.3.json ]] || fail "no feature cache written"
run 0 "$SLID" sum-accs acc/init.3.acc acc/init.1.acc acc/init.2.acc -o acc/init.acc
run 0 "$SLID" gmm-init acc/init.acc -o m0.slid
for it in $(seq $ITERS); do
  prev=m$((it - 1)).slid
  run 0 "$RUN" JOB=1:$NJ log/acc.$it.JOB.log "$SLID" acc-stats --model $prev data --shard JOB/$NJ --cache-dir feats \
    -o acc/$it.JOB.acc
  grep -q "features from the cache" log/acc.$it.1.log || fail "acc-stats did not use the cached features"
  run 0 "$SLID" sum-accs acc/$it.2.acc acc/$it.3.acc acc/$it.1.acc -o acc/$it.acc
  run 0 "$SLID" est --model $prev acc/$it.acc -o m$it.slid
done
run 0 /usr/bin/python3 "$COMPARE" m$ITERS.slid single.slid --tol 1e-3
cat last.out
# The initial models agree too: k-means++ on the same keyed subsample (slid train with 0 iterations).
run 0 "$SLID" train data -o single0.slid "${INIT[@]}" --iters 0 "${FE[@]}" -q
run 0 /usr/bin/python3 "$COMPARE" m0.slid single0.slid --tol 1e-5

# Sum order does not matter: the sums of (3,1,2) and of (1,(2,3)) give models within float rounding.
run 0 "$SLID" sum-accs acc/1.2.acc acc/1.3.acc -o acc/1.23.acc
run 0 "$SLID" sum-accs acc/1.1.acc acc/1.23.acc -o acc/1.tree.acc
run 0 "$SLID" est --model m0.slid acc/1.tree.acc -o m1.tree.slid
run 0 /usr/bin/python3 "$COMPARE" m1.tree.slid m1.slid --tol 1e-9

# Refusals, each naming what is wrong.
run 1 "$SLID" gmm-init acc/init.1.acc -o x.slid
said "missing shard(s) 2,3"
run 1 "$SLID" sum-accs acc/1.1.acc acc/1.23.acc acc/1.2.acc -o x.acc
said "acc/1.2.acc: cannot add accumulators of shards {2}"
said "shard 2 is in both"
run 1 "$SLID" sum-accs acc/1.1.acc acc/init.2.acc -o x.acc
said "kinds differ"
run 1 "$SLID" est --model m1.slid acc/1.acc -o x.slid
said "made against another model"
head -c 100 acc/1.acc >cut.acc
run 1 "$SLID" est --model m0.slid cut.acc -o x.slid
said "cut.acc: damaged or truncated"
[[ ! -e x.slid && ! -e x.acc ]] || fail "a refused command left an output"
run 1 "$SLID" acc-stats --model single.slid data --shard 1/3 -o x.acc
said "carries no EM state"
run 2 "$SLID" acc-stats --model m0.slid data --shard 4/3 -o x.acc
said "--shard '4/3'"
# A failing job: run.sh exits 1 after all jobs, naming the logs; the failing job's log has its error.
run 1 "$RUN" JOB=1:$NJ log/bad.JOB.log "$SLID" acc-stats --model missing.slid data --shard JOB/$NJ -o acc/bad.JOB.acc
said "run.sh: 3 / 3 failed, log is in log/bad.*.log"
grep -q "missing.slid" log/bad.2.log || fail "the failing job's log does not name the problem"
echo "jobarray: ok"
