#!/usr/bin/env bash
# Command-line test of `slid features` on the shipped speech samples (models/samples).
# Usage: bash features.sh <slid-binary> <tests/data dir>. Needs only coreutils (no Python).
set -euo pipefail
SLID=$1
DATA=$2
SAMPLES=$(cd "$DATA/../../models/samples" && pwd)
EN=$SAMPLES/en-conf-onlyperson.wav
FR=$SAMPLES/fr-conf-onlyperson.wav
ES=$SAMPLES/es-conf-onlyperson.wav
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# npy_header FILE: prints the header dict of a .npy v1.0 file after checking magic and version.
npy_header() {
  [ "$(head -c 6 "$1" | od -An -c | tr -d ' \n')" = "223NUMPY" ] || fail "$1: bad .npy magic"
  [ "$(od -An -tu1 -j6 -N2 "$1" | tr -s ' ')" = " 1 0" ] || fail "$1: not .npy version 1.0"
  local len
  len=$(od -An -tu2 -j8 -N2 --endian=little "$1" | tr -d ' ')
  [ $(( (10 + len) % 64 )) -eq 0 ] || fail "$1: header not 64-byte aligned"
  head -c $((10 + len)) "$1" | tail -c "$len"
}
# npy_shape FILE: prints "ROWS COLS" and checks the file size matches the shape (float32).
npy_shape() {
  local h rows cols len size
  h=$(npy_header "$1")
  case "$h" in *"'descr': '<f4'"*"'fortran_order': False"*) ;; *) fail "$1: not '<f4' C-order: $h" ;; esac
  rows=$(echo "$h" | sed -n "s/.*'shape': (\([0-9]*\), \([0-9]*\)).*/\1/p")
  cols=$(echo "$h" | sed -n "s/.*'shape': (\([0-9]*\), \([0-9]*\)).*/\2/p")
  [ -n "$rows" ] && [ -n "$cols" ] || fail "$1: no 2-D shape in header: $h"
  len=$(od -An -tu2 -j8 -N2 --endian=little "$1" | tr -d ' ')
  size=$(stat -c %s "$1")
  [ "$size" -eq $((10 + len + rows * cols * 4)) ] || fail "$1: size $size does not match shape ($rows, $cols)"
  echo "$rows $cols"
}

# 1. --help lists every frontend option with its default, and the command's own options.
"$SLID" features --help > "$WORK/help.txt"
for opt in "--num-ceps INT=7" "--frame-length FLOAT=25" "--frame-shift FLOAT=10" "--sample-frequency INT=16000" \
           "--dither FLOAT=0" "--window-type TEXT=povey" "--num-mel-bins INT=23" "--low-freq FLOAT=20" \
           "--high-freq FLOAT=0" "--use-energy BOOL=false" "--cepstral-lifter FLOAT=22" "--sdc-n INT=7" \
           "--sdc-d INT=1" "--sdc-p INT=3" "--sdc-k INT=7" "--use-vad BOOL=true" "--stage TEXT:{mfcc,cmvn,sdc,full}=full" \
           "--config FILE" "--list FILE" "--scp FILE" "--ark WSPECIFIER" "--out-dir DIR=."; do
  grep -qF -- "$opt" "$WORK/help.txt" || fail "--help does not show '$opt'"
done
# Every option line in the frontend group carries a default ("=value").
n_front=$(sed -n '/^Frontend options/,$p' "$WORK/help.txt" | grep -cE '^  --[a-z-]+ (INT|FLOAT|BOOL|TEXT)=') || true
[ "$n_front" -ge 35 ] || fail "expected >= 35 frontend options with defaults in --help, found $n_front"

# 2. Default pipeline on the three samples: one (N, 56) .npy each, N voiced frames of at most the
#    frame count: 3.1595 s at 16 kHz = 50552 samples -> 1 + (50552 - 400) / 160 = 314 frames (en).
"$SLID" features "$EN" "$FR" "$ES" --out-dir "$WORK/npy" 2> "$WORK/log.txt"
grep -q "features 3/3 files in .*, 0 failed" "$WORK/log.txt" || fail "no progress summary on stderr: $(cat "$WORK/log.txt")"
for lang in en fr es; do
  f=$WORK/npy/$lang-conf-onlyperson.npy
  [ -f "$f" ] || fail "missing $f"
  read -r rows cols < <(npy_shape "$f")
  [ "$cols" -eq 56 ] || fail "$f: $cols dims, expected 56"
  [ "$rows" -ge 50 ] || fail "$f: only $rows voiced frames"
done
read -r rows_en _ < <(npy_shape "$WORK/npy/en-conf-onlyperson.npy")
[ "$rows_en" -le 314 ] || fail "en: $rows_en voiced frames > 314 frames"
ls "$WORK/npy" | grep -q tmp && fail "temporary files left in the output folder"

# 3. --stage mfcc with --num-ceps 13: every frame, exactly (314, 13); at 8 kHz too (25276 samples ->
#    1 + (25276 - 200) / 80 = 314).
"$SLID" features "$EN" --stage mfcc --num-ceps 13 --out-dir "$WORK/mfcc" -q
[ "$(npy_shape "$WORK/mfcc/en-conf-onlyperson.npy")" = "314 13" ] || fail "mfcc stage shape: $(npy_shape "$WORK/mfcc/en-conf-onlyperson.npy")"
"$SLID" features "$EN" --stage mfcc --sample-frequency 8000 --out-dir "$WORK/mfcc8" -q
[ "$(npy_shape "$WORK/mfcc8/en-conf-onlyperson.npy")" = "314 7" ] || fail "8 kHz mfcc shape"
"$SLID" features "$EN" --stage sdc --out-dir "$WORK/sdc" -q
[ "$(npy_shape "$WORK/sdc/en-conf-onlyperson.npy")" = "314 56" ] || fail "sdc stage shape"

# 4. Kaldi text archive to stdout: same utterance, same number of rows as the .npy.
"$SLID" features "$EN" --ark ark,t:- -q > "$WORK/en.ark"
head -1 "$WORK/en.ark" | grep -qx "en-conf-onlyperson  \[" || fail "ark key line: $(head -1 "$WORK/en.ark")"
ark_rows=$(grep -c '^  ' "$WORK/en.ark")
[ "$ark_rows" -eq "$rows_en" ] || fail "ark has $ark_rows rows, npy $rows_en"
tail -1 "$WORK/en.ark" | grep -q ' \]$' || fail "ark does not end with ']'"
awk 'NR>1 && NF!=56 && $0 != "]" { bad=1 } END { exit bad }' <(sed 's/ ]$//' "$WORK/en.ark") || fail "ark rows are not 56 wide"

# 5. A wav.scp (--scp) with a plain path and a piped command, plus a plain path list (--list), into
#    one archive file.
printf 'uttFR %s\nuttES cat %s |\n# a comment\n\n' "$FR" "$ES" > "$WORK/wav.scp"
printf '%s\n' "$EN" > "$WORK/paths.txt"
"$SLID" features --scp "$WORK/wav.scp" --list "$WORK/paths.txt" --ark "ark,t:$WORK/list.ark" -q
[ "$(grep -c '  \[$' "$WORK/list.ark")" -eq 3 ] || fail "list archive should hold 3 entries"
grep -q '^uttES  \[$' "$WORK/list.ark" || fail "piped wav.scp entry missing"
grep -q '^en-conf-onlyperson  \[$' "$WORK/list.ark" || fail "path list entry missing"

# 5b. Kaldi segments over the wav.scp recordings (--segments): each utterance is the features of its
#     time range, equal to those of the same range cut by sox; a bad segments line is an error naming
#     the file and line (exit 1, nothing written); a range past the end fails that utterance only (3).
printf 'recEN %s\nrecFR cat %s |\n' "$EN" "$FR" > "$WORK/rec.scp"
printf 'en-mid recEN 0.5 2.5\nfr-all recFR 0 -1\n' > "$WORK/segments"
"$SLID" features --scp "$WORK/rec.scp" --segments "$WORK/segments" --stage mfcc --ark "ark,t:$WORK/seg.ark" -q
sox "$EN" "$WORK/en-mid.wav" trim 0.5 2.0
"$SLID" features "$WORK/en-mid.wav" --stage mfcc --ark "ark,t:$WORK/cut.ark" -q
"$SLID" features "$FR" --stage mfcc --ark "ark,t:$WORK/fr.ark" -q
awk '/^en-mid /,/\]$/' "$WORK/seg.ark" | tail -n +2 > "$WORK/seg_en.txt"
tail -n +2 "$WORK/cut.ark" > "$WORK/cut_en.txt"
[ "$(wc -l < "$WORK/seg_en.txt")" -eq 198 ] || fail "segment 0.5-2.5 s: $(wc -l < "$WORK/seg_en.txt") MFCC frames, expected 198"
cmp -s "$WORK/seg_en.txt" "$WORK/cut_en.txt" || fail "--segments range differs from the same range cut by sox"
cmp -s <(awk '/^fr-all /,/\]$/' "$WORK/seg.ark" | tail -n +2) <(tail -n +2 "$WORK/fr.ark") || fail "segment 0 -1 is not the whole recording"
printf 'en-mid recEN 0.5\n' > "$WORK/bad_segments"
set +e
"$SLID" features --scp "$WORK/rec.scp" --segments "$WORK/bad_segments" --ark "ark,t:$WORK/bad.ark" -q 2> "$WORK/seg_err.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "bad_segments:1: expected" "$WORK/seg_err.txt" || fail "bad segments line: exit $rc, $(cat "$WORK/seg_err.txt")"
[ ! -e "$WORK/bad.ark" ] || fail "an archive was written despite the bad segments file"
printf 'late recEN 9 10\nfr-all recFR 0 -1\n' > "$WORK/late_segments"
set +e
"$SLID" features --scp "$WORK/rec.scp" --segments "$WORK/late_segments" --ark "ark,t:$WORK/late.ark" -q 2> "$WORK/late_err.txt"
rc=$?
set -e
[ "$rc" -eq 3 ] && grep -q "late_segments:1" "$WORK/late_err.txt" && grep -q '^fr-all  \[$' "$WORK/late.ark" ||
  fail "range past the end: exit $rc (expected 3), $(cat "$WORK/late_err.txt")"
[ "$(wc -l < "$WORK/late_err.txt")" -eq 1 ] || fail "range past the end: not one error line: $(cat "$WORK/late_err.txt")"

# 6. --config applies first; explicit flags override it.
printf -- '--num-ceps=13\n# comment\n--use-sdc=false\n--use-vad=false\n' > "$WORK/mfcc.conf"
"$SLID" features "$EN" --config "$WORK/mfcc.conf" --out-dir "$WORK/conf1" -q
[ "$(npy_shape "$WORK/conf1/en-conf-onlyperson.npy")" = "314 13" ] || fail "config not applied"
"$SLID" features "$EN" --config "$WORK/mfcc.conf" --num-ceps 10 --out-dir "$WORK/conf2" -q
[ "$(npy_shape "$WORK/conf2/en-conf-onlyperson.npy")" = "314 10" ] || fail "flag does not override config"

# 7. A bad file among good ones: one line naming it, the others written, exit code 3.
printf 'not audio at all\n' > "$WORK/bad.wav"
set +e
"$SLID" features "$EN" "$WORK/bad.wav" "$WORK/missing.wav" "$FR" --out-dir "$WORK/mixed" -q 2> "$WORK/err.txt"
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "exit code $rc with a bad input, expected 3"
grep -q "^slid: $WORK/bad.wav: " "$WORK/err.txt" || fail "bad file not reported: $(cat "$WORK/err.txt")"
grep -q "^slid: $WORK/missing.wav: no such file$" "$WORK/err.txt" || fail "missing file not reported"
[ "$(wc -l < "$WORK/err.txt")" -eq 2 ] || fail "expected exactly 2 error lines: $(cat "$WORK/err.txt")"
[ -f "$WORK/mixed/en-conf-onlyperson.npy" ] && [ -f "$WORK/mixed/fr-conf-onlyperson.npy" ] || fail "good files not processed"

# 8. Usage errors exit 2: bad value, unknown option, contradictory options, no input, bad config line.
expect_usage() {
  set +e
  "$SLID" features "$@" > /dev/null 2>&1
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "'slid features $*' exited $rc, expected 2"
}
expect_usage "$EN" --num-ceps abc
expect_usage "$EN" --no-such-option 1
expect_usage "$EN" --high-freq 9000
expect_usage "$EN" --stage bogus
expect_usage
printf -- '--num-cepz=3\n' > "$WORK/bad.conf"
expect_usage "$EN" --config "$WORK/bad.conf"

# 9. Feature warping (--cmvn-mode warp): 7 warped cepstra per frame; with --norm-vars a usage error.
"$SLID" features "$EN" --cmvn-mode warp --stage cmvn --out-dir "$WORK/warp" -q || fail "--cmvn-mode warp failed"
read -r rows cols < <(npy_shape "$WORK/warp/en-conf-onlyperson.npy")
[ "$cols" -eq 7 ] || fail "--cmvn-mode warp --stage cmvn: $cols columns, expected 7"
expect_usage "$EN" --cmvn-mode warp --norm-vars true

echo "features.sh: all checks passed"
