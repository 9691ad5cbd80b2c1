#!/usr/bin/env bash
# Shows that local/check_data.pl can fail: corrupts copies of the data directories in three ways
# (a test voice variant in train, a test sentence in train, a missing bucket) and expects each
# check to reject them, after the untouched copies pass.
#   local/test_check_data.sh <train-dir> <test-dir>
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 <train-dir> <test-dir>" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { perl "$here/check_data.pl" "$tmp/train" "$tmp/test" 20 150 12 > /dev/null 2> "$tmp/err"; }
fresh() { rm -rf "$tmp/train" "$tmp/test"; cp -r "$1" "$tmp/train"; cp -r "$2" "$tmp/test"; }
fresh "$1" "$2"
check || { cat "$tmp/err" >&2; echo "test_check_data: the untouched corpus fails the checks" >&2; exit 1; }
expect_fail() {
  if check; then echo "test_check_data: FAILED to reject: $1" >&2; exit 1; fi
  grep -q "$2" "$tmp/err" || { echo "test_check_data: rejected '$1' but without '$2':" >&2; cat "$tmp/err" >&2; exit 1; }
  echo "test_check_data: rejected as expected: $1"
}
# 1. the first training utterance spoken with a test variant
test_variant=$(head -n 1 "$tmp/test/utt2voice" | awk '{ split($2, v, "+"); print v[2] }')
awk -v tv="$test_variant" 'NR == 1 { split($2, v, "+"); $2 = v[1] "+" tv } { print }' "$1/utt2voice" > "$tmp/train/utt2voice"
expect_fail "test variant $test_variant in train" "is in both train and test"
# 2. a test sentence among the sources of the first training utterance (same language)
fresh "$1" "$2"
lang=$(head -n 1 "$tmp/train/utt2lang" | cut -d' ' -f2)
utt=$(awk -v l="$lang" '$2 == l { print $1; exit }' "$tmp/test/utt2lang")
sent=$(awk -F'\t' -v u="$utt" '$1 == u { split($2, s, " \\|\\|\\| "); print s[1] }' "$tmp/test/utt2sources")
awk -F'\t' -v s="$sent" 'BEGIN { OFS = "\t" } NR == 1 { $2 = $2 " ||| " s } { print }' "$1/utt2sources" > "$tmp/train/utt2sources"
expect_fail "a test sentence of $lang in train" "used by test"
# 3. no long test utterances for one language
fresh "$1" "$2"
awk -v l="$lang" 'NR == FNR { if ($2 == l) drop[$1] = 1; next } !($1 in drop) || $2 <= 10' \
  "$tmp/test/utt2lang" "$2/utt2dur" > "$tmp/test/utt2dur"
awk 'NR == FNR { keep[$1] = 1; next } $1 in keep' "$tmp/test/utt2dur" "$2/wav.scp" > "$tmp/test/wav.scp"
expect_fail "no >10 s test utterances for $lang" "$lang: 0 test utterances in duration bucket >10 s"
echo "test_check_data: OK"
