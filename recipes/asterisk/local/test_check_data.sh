#!/usr/bin/env bash
# Shows that local/check_data.pl can fail: puts an unseen-speaker utterance into a copy of train,
# then a held-out prompt of the same-speaker test, and expects both to be rejected after the
# untouched copy passes.
#   local/test_check_data.sh <data-dir>
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 <data-dir>" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
src=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sets="train test_same_speaker test_unseen_speaker test_unseen_speaker_prompt"
fresh() { rm -rf "${tmp:?}"/*; for s in $sets; do cp -r "$src/$s" "$tmp/$s"; done; }
check() { perl "$here/check_data.pl" "$tmp" 10 40 > /dev/null 2> "$tmp/err"; }
expect_fail() {
  if check; then echo "test_check_data: FAILED to reject: $1" >&2; exit 1; fi
  grep -q "$2" "$tmp/err" || { echo "test_check_data: rejected '$1' but without '$2':" >&2; cat "$tmp/err" >&2; exit 1; }
  echo "test_check_data: rejected as expected: $1"
}
move_first() {  # move the first utterance of test set $1 into train
  local utt; utt=$(head -n 1 "$tmp/$1/wav.scp" | cut -d' ' -f1)
  for f in wav.scp utt2lang utt2spk utt2dur utt2prompt; do
    grep "^$utt " "$tmp/$1/$f" >> "$tmp/train/$f"
    grep -v "^$utt " "$tmp/$1/$f" > "$tmp/x" || true; mv "$tmp/x" "$tmp/$1/$f"
  done
}
fresh; check || { cat "$tmp/err" >&2; echo "test_check_data: the untouched sets fail the checks" >&2; exit 1; }
fresh; move_first test_unseen_speaker
expect_fail "an unseen-speaker utterance in train" "is in train and in test_unseen_speaker"
fresh; move_first test_same_speaker
expect_fail "a held-out prompt in train" "is in train and in test_same_speaker"
echo "test_check_data: OK"
