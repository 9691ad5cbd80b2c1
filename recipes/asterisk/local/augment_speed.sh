#!/usr/bin/env bash
# Speed perturbation (Ko et al., "Audio augmentation for speech recognition", Interspeech 2015;
# Kaldi's utils/data/perturb_data_dir_speed_3way.sh): adds copies of every training utterance played
# at other speeds with sox `speed` (pitch and tempo together, as a shorter or longer vocal tract
# would), followed by sox's automatic resampling back to 8 kHz. Nothing is written but the lists.
#   local/augment_speed.sh <in-data-dir> <out-data-dir> <factor>...     e.g. 0.9 1.1
# Copies are named <utt>-sp<factor>; wav.scp lines are "sox -V1 -R <wav> -t wav - speed <factor> |"
# (-V1: failures only; sox warned twice per copy, "length in output .wav header will be wrong"
# since it writes to a pipe, and "rate clipped N samples": 1,966 lines in one run of the recipe)
# (-R: sox dithers the resampled output, with a new random seed on every run without it; those
# +-1 LSB differences alone moved the unseen-speaker accuracy by several points, see the README);
# utt2dur is divided by the factor. The original utterances are kept. wav.scp and utt2lang are
# required; utt2spk, utt2prompt and utt2dur are carried over when present.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 <in-data-dir> <out-data-dir> <factor>..." >&2; exit 2; }
in=$1; out=$2; shift 2
mkdir -p "$out"
export LC_ALL=C
files=(wav.scp utt2lang)
for f in utt2spk utt2prompt utt2dur; do [ -f "$in/$f" ] && files+=("$f"); done
for f in "${files[@]}"; do cp "$in/$f" "$out/$f.tmp"; done
for s in "$@"; do
  awk -v s="$s" '$NF == "|" { print "'"$0"': pipe entries are not supported: " $0 > "/dev/stderr"; exit 1 }
    { print $1 "-sp" s " sox -V1 -R " $2 " -t wav - speed " s " |" }' "$in/wav.scp" >> "$out/wav.scp.tmp"
  for f in "${files[@]}"; do
    case $f in
      wav.scp) ;;
      utt2dur) awk -v s="$s" '{ printf "%s-sp%s %.6f\n", $1, s, $2 / s }' "$in/$f" >> "$out/$f.tmp" ;;
      *) awk -v s="$s" '{ $1 = $1 "-sp" s; print }' "$in/$f" >> "$out/$f.tmp" ;;
    esac
  done
done
for f in "${files[@]}"; do sort "$out/$f.tmp" > "$out/$f"; rm "$out/$f.tmp"; done
[ "$(wc -l < "$out/wav.scp")" -eq $(( ($# + 1) * $(wc -l < "$in/wav.scp") )) ] || { echo "$0: wrong line count" >&2; exit 1; }
