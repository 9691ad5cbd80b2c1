#!/usr/bin/env bash
# slid train --ubm (GMM-UBM + MAP adaptation) through the program on a tiny espeak-ng corpus:
# the model is written and identifies; streaming the pooled UBM frames from the disk cache gives the
# same model as memory; a huge relevance factor leaves every language at the UBM (equal scores);
# a bad relevance is a usage error.
# Usage: bash train_ubm.sh <slid-binary> <tests/data dir>
set -euo pipefail
SLID=$1
command -v espeak-ng >/dev/null || { echo "train_ubm: espeak-ng not installed (tools/install-deps.sh)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-ubm.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "train_ubm: FAIL: $*" >&2; exit 1; }

declare -A TEXT
TEXT[en]="The weather is nice today and we are going to the park.|My brother works in a large office near the river.|Please close the window before you leave the house.|Can you tell me where the nearest station is?"
TEXT[de]="Das Wetter ist heute schön und wir gehen in den Park.|Mein Bruder arbeitet in einem großen Büro am Fluss.|Bitte schließe das Fenster, bevor du das Haus verlässt.|Kannst du mir sagen, wo der nächste Bahnhof ist?"
for lang in en de; do
  IFS='|' read -r -a S <<<"${TEXT[$lang]}"
  mkdir -p "train/$lang" "test/$lang"
  for i in 0 1 2; do
    for v in "" "+f3"; do espeak-ng -v "$lang$v" -s 160 -w "train/$lang/s${i}${v/+/_}.wav" "${S[$i]}"; done
  done
  espeak-ng -v "$lang+m3" -s 150 -w "test/$lang/s3.wav" "${S[3]}"
done

"$SLID" train train -o u.slid --num-gauss 8 --iters 5 --ubm --map-relevance 16 2>train.err || { cat train.err >&2; fail "train --ubm"; }
grep -q "EM UBM" train.err || fail "no UBM progress line"
grep -q "MAP adaptation" train.err || fail "no MAP progress line"
"$SLID" info u.slid --json >info.json
grep -q '"map_relevance"' info.json || fail "model summary lacks the UBM/MAP settings"
"$SLID" identify --model u.slid test/*/s3.wav >mem.tsv || fail "identify with the UBM-MAP model"
[[ $(wc -l <mem.tsv) == 3 ]] || fail "identify: expected header + 2 lines"

# Pooled UBM frames streamed from per-language disk caches (re-blocked across languages): same model.
"$SLID" train train -o d.slid --num-gauss 8 --iters 5 --ubm --max-memory-mb 0.05 --cache-dir "$WORK/cache" -q
"$SLID" identify --model d.slid test/*/s3.wav >disk.tsv
cmp -s mem.tsv disk.tsv || fail "UBM-MAP from the disk cache differs from training in memory"

# r huge: alpha_k ~ N_k / r ~ 1e-7, so every language model is the UBM: scores equal within 1e-3.
"$SLID" train train -o big.slid --num-gauss 8 --iters 5 --ubm --map-relevance 1e9 -q
"$SLID" identify --model big.slid test/*/s3.wav | awk -F'\t' 'NR > 1 {
  d = $6 - $7; if (d < 0) d = -d; if (d > 1e-3) { print "scores differ by " d ": " $0; bad = 1 } }
  END { exit bad }' || fail "r = 1e9 should give every language the UBM"
# ... while r = 16 separates them.
awk -F'\t' 'NR > 1 { d = $6 - $7; if (d < 0) d = -d; if (d > 1e-2) ok++ } END { exit !(ok == 2) }' mem.tsv ||
  fail "r = 16 left the language models at the UBM"

set +e
"$SLID" train train -o x.slid --ubm --map-relevance -1 2>/dev/null; rc=$?
set -e
[[ $rc == 2 ]] || fail "--map-relevance -1: exit $rc, expected 2"
set +e
"$SLID" train train -o x.slid --map-relevance 8 2>/dev/null; rc=$?
set -e
[[ $rc == 2 ]] || fail "--map-relevance without --ubm: exit $rc, expected 2"
[[ ! -e x.slid ]] || fail "a usage error wrote a model"
echo "train_ubm: ok"
