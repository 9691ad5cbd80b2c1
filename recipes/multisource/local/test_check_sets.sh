#!/usr/bin/env bash
# Shows that local/check_sets.pl can fail: plants three leaks in copies of the protocol's data
# directories (a held-out speaker's label on a training utterance; a test clip inside a training
# utterance; a cross-source training utterance relabelled with the held-out source of its language)
# and expects each to be rejected, after the untouched copies pass.
#   local/test_check_sets.sh <data-dir>
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 <data-dir>" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
src=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fresh() {
  rm -rf "$tmp/d"; mkdir "$tmp/d"
  for s in "$src"/*/; do [ -f "$s/segments" ] && cp -r "$s" "$tmp/d/"; done
  return 0
}
check() { perl "$here/check_sets.pl" "$tmp/d" > /dev/null 2> "$tmp/err"; }
expect_fail() {
  if check; then echo "test_check_sets: FAILED to reject: $1" >&2; exit 1; fi
  grep -q "$2" "$tmp/err" || { echo "test_check_sets: rejected '$1' but without '$2':" >&2; cat "$tmp/err" >&2; exit 1; }
  echo "test_check_sets: rejected as expected: $1"
}
fresh
check || { cat "$tmp/err" >&2; echo "test_check_sets: the untouched sets fail the checks" >&2; exit 1; }
# 1. speaker leak: the first training utterance gets the speaker of the first held-out-speaker utterance
spk=$(head -n 1 "$src/test_spk/utt2spk" | cut -d' ' -f2)
awk -v s="$spk" 'NR == 1 { $2 = s } { print }' "$src/train/utt2spk" > "$tmp/d/train/utt2spk"
expect_fail "held-out speaker $spk in train" "train/test_spk: speaker '$spk'"
# 2. clip leak: a test clip inside the first training utterance
fresh
clip=$(head -n 1 "$src/test_rec/utt2clips" | cut -d' ' -f2)
awk -v c="$clip" 'NR == 1 { $0 = $0 " " c } { print }' "$src/train/utt2clips" > "$tmp/d/train/utt2clips"
expect_fail "test clip $clip in train" "train/test_rec: clip '$clip'"
# 3. cross-source leak: a xs1 training utterance of a tested language relabelled with the tested source
fresh
read -r utt lang < <(head -n 1 "$src/xs1_test/utt2lang")
tsrc=$(awk -v u="$utt" '$1 == u { print $2 }' "$src/xs1_test/utt2source")
tutt=$(awk -v l="$lang" '$2 == l { print $1; exit }' "$src/xs1_train/utt2lang")
awk -v u="$tutt" -v s="$tsrc" '$1 == u { $2 = s } { print }' "$src/xs1_train/utt2source" > "$tmp/d/xs1_train/utt2source"
expect_fail "source $tsrc of $lang in xs1_train" "xs1_train/xs1_test: language/source '$lang/$tsrc'"
echo "test_check_sets: OK"
