#!/usr/bin/env bash
# slid calibrate through the program on a tiny espeak-ng corpus: train (gmm and ubm-map back-ends),
# calibrate on development data of another voice, the calibrated model says so in `slid info`, its
# posteriors sum to 1 and eval runs on it; a development set lacking a model language is an error that
# writes nothing; the model file is format version 2.
# Usage: bash calibrate.sh <slid-binary> <tests/data dir>
set -euo pipefail
SLID=$1
command -v espeak-ng >/dev/null || { echo "calibrate: espeak-ng not installed (tools/install-deps.sh)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-cal.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "calibrate: FAIL: $*" >&2; exit 1; }

declare -A TEXT
TEXT[en]="The weather is nice today and we are going to the park.|My brother works in a large office near the river.|Please close the window before you leave the house.|Can you tell me where the nearest station is?"
TEXT[de]="Das Wetter ist heute schön und wir gehen in den Park.|Mein Bruder arbeitet in einem großen Büro am Fluss.|Bitte schließe das Fenster, bevor du das Haus verlässt.|Kannst du mir sagen, wo der nächste Bahnhof ist?"
for lang in en de; do
  IFS='|' read -r -a S <<<"${TEXT[$lang]}"
  mkdir -p "train/$lang" "dev/$lang" "devbad/$lang"
  for i in 0 1 2; do espeak-ng -v "$lang" -s 160 -w "train/$lang/s$i.wav" "${S[$i]}"; done
  for i in 0 1 2 3; do espeak-ng -v "$lang+m3" -s 150 -w "dev/$lang/s$i.wav" "${S[$i]}"; done
done
cp dev/en/* devbad/en/; rmdir devbad/de

for backend in gmm ubm-map; do
  "$SLID" train train -o m.slid --num-gauss 4 --iters 3 --backend "$backend" -q
  "$SLID" info m.slid --json | grep -q '"format_version": 2' || fail "$backend: not format version 2"
  "$SLID" info m.slid | grep -q "^back-end: *$backend" || fail "$backend: info does not name the back-end"
  "$SLID" calibrate --model m.slid dev -o c.slid -q 2>cal.err || { cat cal.err >&2; fail "$backend: calibrate"; }
  "$SLID" info m.slid | grep -q "^calibration: *none" || fail "$backend: the input model was changed"
  "$SLID" info c.slid | grep -q "^calibration: *scalar" || fail "$backend: info does not show the calibration"
  "$SLID" identify --model c.slid dev/*/s3.wav >id.tsv
  awk -F'\t' 'NR > 1 { s = $8 + $9; if (s < 0.999 || s > 1.001) { print "posteriors sum to " s; bad = 1 } } END { exit bad }' id.tsv ||
    fail "$backend: calibrated posteriors do not sum to 1"
  "$SLID" eval --model c.slid dev --out-dir ev -q >/dev/null || fail "$backend: eval of the calibrated model"
  set +e
  "$SLID" calibrate --model m.slid devbad -o bad.slid 2>bad.err; rc=$?
  set -e
  [[ $rc == 1 ]] || fail "$backend: dev data without 'de': exit $rc, expected 1"
  grep -q "model language(s) de" bad.err || fail "$backend: message: $(cat bad.err)"
  [[ ! -e bad.slid ]] || fail "$backend: a failed calibration wrote a model"
done
set +e
"$SLID" train train -o x.slid --top-c 3 2>/dev/null; rc=$?
set -e
[[ $rc == 2 ]] || fail "--top-c without --backend ubm-map: exit $rc, expected 2"
echo "calibrate: ok"
