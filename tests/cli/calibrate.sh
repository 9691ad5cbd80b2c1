#!/usr/bin/env bash
# slid calibrate through the program on a tiny espeak-ng corpus: train (gmm and ubm-map back-ends),
# calibrate on development data of another voice, the calibrated model says so in `slid info`, its
# posteriors sum to 1 and eval runs on it; a development set lacking a model language calibrates (a
# notice names the language, which gets finite posteriors that sum to 1 with the others), unless
# --require-all-languages, which makes it an error that writes nothing, as is a development set of one
# language; the model file is format version 2.
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
TEXT[fr]="Il fait beau aujourd'hui et nous allons au parc.|Mon frère travaille dans un grand bureau près de la rivière.|Ferme la fenêtre avant de quitter la maison, s'il te plaît.|Peux-tu me dire où se trouve la gare la plus proche ?"
for lang in en de fr; do
  IFS='|' read -r -a S <<<"${TEXT[$lang]}"
  mkdir -p "train/$lang" "dev/$lang" "devpart/$lang" "devone/$lang"
  for i in 0 1 2; do espeak-ng -v "$lang" -s 160 -w "train/$lang/s$i.wav" "${S[$i]}"; done
  for i in 0 1 2 3; do espeak-ng -v "$lang+m3" -s 150 -w "dev/$lang/s$i.wav" "${S[$i]}"; done
done
cp dev/en/* devpart/en/; cp dev/fr/* devpart/fr/; rmdir devpart/de   # de absent
cp dev/en/* devone/en/; rmdir devone/de devone/fr                       # one language only

for backend in gmm ubm-map; do
  "$SLID" train train -o m.slid --num-gauss 4 --iters 3 --backend "$backend" -q
  "$SLID" info m.slid --json | grep -q '"format_version": 2' || fail "$backend: not format version 2"
  "$SLID" info m.slid | grep -q "^back-end: *$backend" || fail "$backend: info does not name the back-end"
  "$SLID" calibrate --model m.slid dev -o c.slid -q 2>cal.err || { cat cal.err >&2; fail "$backend: calibrate"; }
  "$SLID" info m.slid | grep -q "^calibration: *none" || fail "$backend: the input model was changed"
  "$SLID" info c.slid | grep -q "^calibration: *scalar" || fail "$backend: info does not show the calibration"
  "$SLID" identify --model c.slid dev/*/s3.wav >id.tsv
  # posterior columns: every column named p_* (3 languages)
  sums() {
    awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^p_/) c[++n] = i; if (n != 3) { print "posterior columns: " n; exit 1 } next }
      { s = 0; for (k = 1; k <= n; k++) { v = $c[k]; if (v != v + 0 || v < 0 || v > 1) { print "posterior " v; bad = 1 } s += v }
        if (s < 0.999 || s > 1.001) { print "posteriors sum to " s; bad = 1 } } END { exit bad }' "$1"
  }
  sums id.tsv || fail "$backend: calibrated posteriors do not sum to 1"
  "$SLID" eval --model c.slid dev --out-dir ev -q >/dev/null || fail "$backend: eval of the calibrated model"
  # de has no development data: calibrates, says so, de keeps finite posteriors on its own recordings
  "$SLID" calibrate --model m.slid devpart -o part.slid -q 2>part.err || { cat part.err >&2; fail "$backend: calibrate without de"; }
  grep -q "notice: no development data for 1 of 3 languages (de)" part.err || fail "$backend: notice: $(cat part.err)"
  "$SLID" info part.slid --json | grep -q '"languages_without_data"' || fail "$backend: info does not list languages without data"
  "$SLID" identify --model part.slid dev/de/*.wav dev/en/s0.wav >idp.tsv
  sums idp.tsv || fail "$backend: posteriors with de absent from dev"
  set +e
  "$SLID" calibrate --model m.slid devpart --require-all-languages -o bad.slid 2>bad.err; rc=$?
  set -e
  [[ $rc == 1 ]] || fail "$backend: --require-all-languages without 'de': exit $rc, expected 1"
  grep -q "model language(s) de" bad.err || fail "$backend: message: $(cat bad.err)"
  [[ ! -e bad.slid ]] || fail "$backend: a failed calibration wrote a model"
  set +e
  "$SLID" calibrate --model m.slid devone -o bad.slid 2>bad.err; rc=$?
  set -e
  [[ $rc == 1 ]] || fail "$backend: dev data of one language: exit $rc, expected 1"
  grep -q "at least 2" bad.err || fail "$backend: message: $(cat bad.err)"
  [[ ! -e bad.slid ]] || fail "$backend: a failed calibration wrote a model"
done
set +e
"$SLID" train train -o x.slid --top-c 3 2>/dev/null; rc=$?
set -e
[[ $rc == 2 ]] || fail "--top-c without --backend ubm-map: exit $rc, expected 2"
echo "calibrate: ok"
