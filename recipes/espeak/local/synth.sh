#!/usr/bin/env bash
# Speaks every planned utterance with espeak-ng and writes 16 kHz mono 16-bit WAVs.
#   local/synth.sh <nj> <utts.tsv> <wav-dir>
# <utts.tsv>: lines from local/make_utts.pl. <nj> jobs run in parallel (xargs -P).
# Writes <wav-dir>/<utt-id>.wav; fails if any utterance could not be made.
set -euo pipefail
if [ "${1:-}" = "--worker" ]; then
  # One job: speak the utterances listed in chunk file $3 into directory $2.
  wavdir=$2; chunk=$3
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  while IFS=$'\t' read -r utt lang spk variant voice rate pitch text sources; do
    printf '%s\n' "$text" > "$tmp/t.txt"
    espeak-ng -v "$voice" -s "$rate" -p "$pitch" -b 1 -f "$tmp/t.txt" -w "$tmp/t.wav" \
      || { echo "synth.sh: espeak-ng failed on $utt" >&2; exit 1; }
    sox -q -V1 -R "$tmp/t.wav" -r 16000 -c 1 -b 16 "$wavdir/$utt.wav.tmp.wav" \
      || { echo "synth.sh: sox failed on $utt" >&2; exit 1; }
    mv "$wavdir/$utt.wav.tmp.wav" "$wavdir/$utt.wav"
  done < "$chunk"
  exit 0
fi
[ $# -eq 3 ] || { echo "usage: $0 <nj> <utts.tsv> <wav-dir>" >&2; exit 2; }
nj=$1; utts=$2; wavdir=$3
mkdir -p "$wavdir"
chunks=$(mktemp -d); trap 'rm -rf "$chunks"' EXIT
split -n "r/$nj" -d "$utts" "$chunks/chunk."
ls "$chunks"/chunk.* | xargs -P "$nj" -n 1 bash "$0" --worker "$wavdir"
n_planned=$(wc -l < "$utts")
n_made=$(cut -f1 "$utts" | while read -r u; do [ -s "$wavdir/$u.wav" ] && echo; done | wc -l)
[ "$n_planned" -eq "$n_made" ] || { echo "synth.sh: made $n_made of $n_planned utterances" >&2; exit 1; }
