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

# --compress: Kaldi's compressed matrices (CM for more than 8 rows); text or no archive is a usage error.
"$SLID" features "$EN" --stage mfcc --ark ark:c.ark --compress -q
[ "$(head -c 24 c.ark | hex)" = "$(printf 'en-conf-onlyperson \0BCM ' | hex)" ] || fail "compressed header"
[ "$(stat -c %s c.ark)" -eq $((24 + 16 + 7 * 8 + 314 * 7)) ] || fail "compressed size $(stat -c %s c.ark)"
for bad in "--ark ark,t:c.txt --compress" "--compress"; do
  set +e
  # shellcheck disable=SC2086
  "$SLID" features "$EN" $bad -q > /dev/null 2>&1; rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "features $bad exited $rc, expected 2"
done

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
# 4. identify --feats: the shipped model's final features (its frontend: recipes/asterisk/conf/mfcc.conf)
#    as a binary ark,scp give the same scores as identifying the audio; also from ark:- and a folder of .npy.
MODEL=$DATA/../../models/asterisk-5lang/asterisk-5lang.slid  # trained with recipes/asterisk/conf/mfcc.conf
# The model predates the log-energy VAD (its header has no vad-log-energy: C0 decides, threshold 5).
CONF=$DATA/../../recipes/asterisk/conf/mfcc.conf
"$SLID" features "$EN" "$FR" --config "$CONF" --vad-log-energy=false --vad-energy-threshold=5 --ark ark,scp:final.ark,final.scp -q
"$SLID" features "$EN" "$FR" --config "$CONF" --vad-log-energy=false --vad-energy-threshold=5 --out-dir npy -q
"$SLID" identify -m "$MODEL" "$EN" "$FR" | cut -f2- > audio.tsv
[ "$(wc -l < audio.tsv)" -eq 3 ] || fail "identify on audio: $(cat audio.tsv)"
for feats in scp:final.scp ark,s,cs:final.ark npy; do
  "$SLID" identify -m "$MODEL" --feats "$feats" > feats.tsv
  cut -f1 feats.tsv | tail -n +2 | tr '\n' ' ' | grep -qx "en-conf-onlyperson fr-conf-onlyperson " ||
    fail "--feats $feats: ids $(cut -f1 feats.tsv)"
  cut -f2- feats.tsv | cmp -s - audio.tsv || fail "--feats $feats scores differ from audio: $(cat feats.tsv)"
done
"$SLID" identify -m "$MODEL" --feats ark:- --json < final.ark | grep -c '"language"' | grep -qx 2 || fail "--feats ark:-"
# An utterance without frames (Kaldi's empty matrix, 0 x 0) is scored as too little speech.
{ cat final.ark; printf 'sil \0BFM \4\0\0\0\0\4\0\0\0\0'; } > with_empty.ark
"$SLID" identify -m "$MODEL" --feats ark:with_empty.ark > feats.tsv
[ "$(tail -1 feats.tsv | cut -f1,2,4)" = "sil	-	too_little_speech" ] || fail "empty utterance: $(tail -1 feats.tsv)"
# Features of the wrong dimension: one line naming the source, the utterance and both dims; exit 1.
"$SLID" features "$EN" --stage mfcc --ark ark:mfcc.ark -q
set +e
"$SLID" identify -m "$MODEL" --feats ark:mfcc.ark > out.txt 2> err.txt
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "wrong-dimension --feats exited $rc, expected 1"
grep -q "ark:mfcc.ark: utterance 'en-conf-onlyperson' has 7-dimensional features; the model expects 56" err.txt ||
  fail "wrong-dimension message: $(cat err.txt)"
[ -s out.txt ] && fail "wrong-dimension --feats printed output: $(cat out.txt)"
# --feats with audio inputs or --list: usage error.
set +e
"$SLID" identify -m "$MODEL" --feats scp:final.scp "$EN" > /dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--feats with audio exited $rc, expected 2"
echo "kaldi_ark: all checks passed"
