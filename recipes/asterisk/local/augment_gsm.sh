#!/usr/bin/env bash
# Adds a GSM 06.10 coded copy of every training utterance to a data directory (Kaldi pipe entries,
# nothing is written to disk but the lists).
#   local/augment_gsm.sh <in-data-dir> <out-data-dir>
# Why: two of the three unseen-speaker packs (fr-armelle, es-co) ship as GSM while the core voices
# are 16-bit PCM, so without this the model learns the codec along with the language.
# Copies are named <utt>-gsm; wav.scp lines are "sox -V1 <wav> -t gsm - | sox -V1 -t gsm ... -t wav - |"
# (-V1: sox reports failures only, not its warning about the length of a WAV written to a pipe).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 <in-data-dir> <out-data-dir>" >&2; exit 2; }
in=$1; out=$2
mkdir -p "$out"
export LC_ALL=C
# A pipe entry ("<utt> <command> |", e.g. from local/augment_speed.sh) is coded through one more pipe.
awk '$NF == "|" { print; id = $1; $1 = ""; print id "-gsm" $0 " sox -V1 -t wav - -t gsm - | sox -V1 -t gsm -r 8000 -c 1 - -t wav - |"; next }
  { print; print $1 "-gsm sox -V1 " $2 " -t gsm - | sox -V1 -t gsm -r 8000 -c 1 - -t wav - |" }' "$in/wav.scp" | sort > "$out/wav.scp"
for f in utt2lang utt2spk utt2prompt utt2dur; do
  awk '{ print; $1 = $1 "-gsm"; print }' "$in/$f" | sort > "$out/$f"
done
[ "$(wc -l < "$out/wav.scp")" -eq $((2 * $(wc -l < "$in/wav.scp"))) ] || { echo "$0: wrong line count" >&2; exit 1; }
