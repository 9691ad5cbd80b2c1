#!/usr/bin/env bash
# Measures how many characters per second each language's espeak-ng voice speaks at rate 175, so
# that utterance texts can be sized for a target duration.
#   local/calibrate.sh <conf/langs.conf> <text-dir> <out-file>
# Uses 40 sentences from <text-dir>/<lang>.train (the calibration audio is thrown away).
# Writes "<lang> <chars-per-second>" lines.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 <langs.conf> <text-dir> <out-file>" >&2; exit 2; }
langs=$1; text=$2; out=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
grep -v '^\s*#' "$langs" | grep -v '^\s*$' | while read -r lang voice source script; do
  head -n 40 "$text/$lang.train" > "$tmp/t.txt"
  chars=$(perl -CSD -ne 'chomp; $n += length($_) + 1; END { print $n + 0 }' "$tmp/t.txt")
  espeak-ng -v "$voice" -s 175 -b 1 -f "$tmp/t.txt" -w "$tmp/t.wav"
  secs=$(soxi -D "$tmp/t.wav")
  awk -v l="$lang" -v c="$chars" -v s="$secs" 'BEGIN { if (s <= 0) exit 1; printf "%s %.2f\n", l, c / s }'
done > "$out.tmp"
mv "$out.tmp" "$out"
