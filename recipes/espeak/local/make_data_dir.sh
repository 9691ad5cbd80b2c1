#!/usr/bin/env bash
# Writes a Kaldi-style data directory for synthesised utterances.
#   local/make_data_dir.sh <utts.tsv> <wav-dir> <data-dir>
# Files: wav.scp (utt path), utt2lang, utt2spk, spk2utt, text, utt2dur (seconds, measured with
# soxi), utt2voice (espeak-ng voice, rate, pitch), utt2sources (the source sentences).
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 <utts.tsv> <wav-dir> <data-dir>" >&2; exit 2; }
utts=$1; wavdir=$(cd "$2" && pwd); data=$3
mkdir -p "$data"
export LC_ALL=C
sort -t $'\t' -k1,1 "$utts" > "$data/utts.tsv"
awk -F'\t' -v d="$wavdir" '{ print $1 " " d "/" $1 ".wav" }' "$data/utts.tsv" > "$data/wav.scp"
awk -F'\t' '{ print $1 " " $2 }' "$data/utts.tsv" > "$data/utt2lang"
awk -F'\t' '{ print $1 " " $3 }' "$data/utts.tsv" > "$data/utt2spk"
awk -F'\t' '{ print $1 " " $5 " " $6 " " $7 }' "$data/utts.tsv" > "$data/utt2voice"
awk -F'\t' '{ print $1 " " $8 }' "$data/utts.tsv" > "$data/text"
awk -F'\t' '{ print $1 "\t" $9 }' "$data/utts.tsv" > "$data/utt2sources"
awk '{ s[$2] = s[$2] " " $1 } END { for (k in s) print k s[k] }' "$data/utt2spk" | sort > "$data/spk2utt"
while read -r utt path; do echo "$utt $(soxi -D "$path")"; done < "$data/wav.scp" > "$data/utt2dur"
rm "$data/utts.tsv"
