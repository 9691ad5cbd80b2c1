#!/usr/bin/env bash
# slid train --backend ivector through the program on a tiny espeak-ng corpus: the model is written,
# described by `slid info`, identifies and evaluates; training from the per-language disk caches
# (utterance boundaries recovered from the recorded file lengths) gives the same model as memory;
# each classifier trains; --ivector-* without --backend ivector is a usage error.
# Usage: bash train_ivector.sh <slid-binary> <tests/data dir>
set -euo pipefail
SLID=$1
command -v espeak-ng >/dev/null || { echo "train_ivector: espeak-ng not installed (tools/install-deps.sh)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-ivector.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "train_ivector: FAIL: $*" >&2; exit 1; }

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

IV=(--backend ivector --num-gauss 8 --iters 5 --ivector-dim 6 --ivector-iters 2)
"$SLID" train train -o iv.slid "${IV[@]}" 2>train.err || { cat train.err >&2; fail "train --backend ivector"; }
grep -q "i-vector extractor" train.err || fail "no i-vector extractor progress line"
"$SLID" info iv.slid >info.txt
grep -q "ivector" info.txt || fail "slid info does not name the ivector back-end"
"$SLID" identify --model iv.slid test/*/s3.wav >mem.tsv || fail "identify with the ivector model"
[[ $(wc -l <mem.tsv) == 3 ]] || fail "identify: expected header + 2 lines"
"$SLID" eval --model iv.slid test --out-dir ev >eval.txt 2>&1 || { cat eval.txt >&2; fail "eval with the ivector model"; }
[[ -s ev/scores.tsv ]] || fail "eval wrote no scores.tsv"

# Frames streamed from per-language disk caches, cut back into files: same model, same scores.
"$SLID" train train -o d.slid "${IV[@]}" --max-memory-mb 0.05 --cache-dir "$WORK/cache" -q
"$SLID" identify --model d.slid test/*/s3.wav >disk.tsv
cmp -s mem.tsv disk.tsv || fail "ivector model from the disk cache differs from training in memory"

for c in cosine logreg; do
  "$SLID" train train -o "$c.slid" "${IV[@]}" --ivector-classifier "$c" -q || fail "train --ivector-classifier $c"
  "$SLID" identify --model "$c.slid" test/*/s3.wav >/dev/null || fail "identify with the $c classifier"
done

set +e
"$SLID" train train -o x.slid --ivector-dim 8 2>/dev/null; rc=$?
set -e
[[ $rc == 2 ]] || fail "--ivector-dim without --backend ivector: exit $rc, expected 2"
[[ ! -e x.slid ]] || fail "a usage error wrote a model"
echo "train_ivector: ok"
