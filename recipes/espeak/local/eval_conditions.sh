#!/usr/bin/env bash
# Evaluates MODEL on data/test and on its degraded copies (conf/degrade.conf), making the copies first if
# they are missing, then writes OUT/conditions.tsv: per condition the accuracy over scored utterances
# (what slid eval reports) and over all listed ones (a refusal, no_speech or too_little_speech, counts
# as an error there), and the refusals.
#   local/eval_conditions.sh SLID MODEL DATA OUT [THREADS]
set -euo pipefail
slid=$1; model=$2; data=$3; out=$4; threads=${5:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/conf/degrade.conf"
mkdir -p "$out"
printf 'condition\tlisted\tscored\tno_speech\ttoo_little\tacc_scored\tacc_listed\tcavg\n' > "$out/conditions.tsv"
for c in $conditions; do
  name=$(echo "$c" | tr ':+' '_-')
  if [ "$c" = clean ]; then d=$data/test; else d=$data/test_$name; fi
  if [ "$c" != clean ] && [ ! -s "$d/wav.scp" ]; then
    /usr/bin/python3 "$here/local/degrade.py" "$data/test" "$d" "$c" "$degrade_seed"
  fi
  "$slid" eval --model "$model" --threads "$threads" --out-dir "$out/$name" "$d" > "$out/$name.log" 2>&1
  /usr/bin/python3 - "$c" "$out/$name" >> "$out/conditions.tsv" <<'PY'
import csv, json, sys
cond, d = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(d + "/scores.tsv"), delimiter="\t"))
n = len(rows)
status = [r["status"] for r in rows]
ok = [r for r in rows if r["status"] == "ok"]
right = sum(r["truth"] == r["language"] for r in ok)
cavg = json.load(open(d + "/report.json"))["overall"]["cavg"]
print(f"{cond}\t{n}\t{len(ok)}\t{status.count('no_speech')}\t{status.count('too_little_speech')}\t"
      f"{100 * right / max(1, len(ok)):.2f}\t{100 * right / max(1, n):.2f}\t{cavg:.4f}")
PY
done
column -t "$out/conditions.tsv"
