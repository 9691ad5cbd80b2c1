#!/usr/bin/env bash
# Command-line test of Kaldi archive output (`slid features --ark WSPECIFIER`) on the shipped samples.
# Usage: bash kaldi_ark.sh <slid-binary> <tests/data dir>. Needs only coreutils.
set -euo pipefail
SLID=$1
DATA=$2
SAMPLES=$(cd "$DATA/../../models/samples" && pwd)
EN=$SAMPLES/en-conf-onlyperson.wav
FR=$SAMPLES/fr-conf-onlyperson.wav
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
# i32 FILE OFFSET: the little-endian int32 at OFFSET.
i32() { od -An -td4 -j"$2" -N4 --endian=little "$1" | tr -d ' '; }

# 1. ark,scp: binary archive as Kaldi writes it ("<key> \0BFM " + size byte 4 + rows + 4 + cols + floats)
#    and an scp with byte offsets; the text form (ark,t:) holds the same shapes.
"$SLID" features "$EN" "$FR" --stage mfcc --ark ark,scp:f.ark,f.scp -q
[ "$(cat f.scp)" = "en-conf-onlyperson f.ark:19
fr-conf-onlyperson f.ark:$((19 + 15 + 314 * 7 * 4 + 19))" ] || fail "scp: $(cat f.scp)"
hex() { od -An -tx1 | tr -d ' \n'; }
[ "$(head -c 25 f.ark | hex)" = "$(printf 'en-conf-onlyperson \0BFM \4' | hex)" ] ||
  fail "archive header: $(head -c 25 f.ark | od -An -c)"
[ "$(i32 f.ark 25)" = 314 ] && [ "$(i32 f.ark 30)" = 7 ] || fail "rows/cols: $(i32 f.ark 25) x $(i32 f.ark 30)"
fr=$((19 + 15 + 314 * 7 * 4 + 19))  # where the second entry's object starts (the scp's offset)
[ "$(i32 f.ark $((fr + 6)))" -gt 100 ] && [ "$(i32 f.ark $((fr + 11)))" = 7 ] || fail "second entry's shape"
[ "$(stat -c %s f.ark)" -eq $((fr + 15 + $(i32 f.ark $((fr + 6))) * 7 * 4)) ] || fail "archive size $(stat -c %s f.ark)"
"$SLID" features "$EN" --stage mfcc --ark ark,t:- -q > t.txt
[ "$(head -1 t.txt)" = "en-conf-onlyperson  [" ] || fail "text archive key line: $(head -1 t.txt)"
[ "$(grep -c '^  ' t.txt)" -eq 314 ] || fail "text archive rows"
# ark:- is binary, like Kaldi; the same bytes as the file.
"$SLID" features "$EN" "$FR" --stage mfcc --ark ark:- -q > stdout.ark
cmp -s stdout.ark f.ark || fail "ark:- differs from the ark,scp archive"

# 2. Malformed or unsupported wspecifiers: usage error (exit 2), one line naming it, nothing written.
mkdir empty && cd empty
for spec in "f.ark" "-" "ark,scp:a.ark" "scp:a.scp" "ark:| gzip -c > a.gz" "ark,x:a.ark" "ark,scp:-,a.scp" "ark:"; do
  set +e
  "$SLID" features "$EN" --ark "$spec" -q > out.txt 2> err.txt
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "--ark '$spec' exited $rc, expected 2"
  [ "$(wc -l < err.txt)" -eq 1 ] || fail "--ark '$spec': expected one error line: $(cat err.txt)"
  grep -qF "'$spec'" err.txt || fail "--ark '$spec': error does not name it: $(cat err.txt)"
  [ "$(ls | sort | tr '\n' ' ')" = "err.txt out.txt " ] || fail "--ark '$spec' wrote files: $(ls)"
  [ -s out.txt ] && fail "--ark '$spec' wrote to standard output"
done
cd ..

# 3. An unwritable archive path fails before any work, leaving nothing behind.
set +e
"$SLID" features "$EN" --ark ark,scp:no/such/dir.ark,x.scp -q 2> err.txt
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "unwritable archive exited $rc, expected 1"
grep -q "no/such/dir.ark" err.txt || fail "unwritable archive not named: $(cat err.txt)"
ls | grep -q tmp && fail "temporary files left: $(ls)"
echo "kaldi_ark: all checks passed"
