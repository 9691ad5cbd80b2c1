#!/usr/bin/env bash
# Splits a training data directory by voice variant into a training part and a development part, for
# choosing training settings without looking at the test set (voices of the dev part are not trained on).
#   local/dev_split.sh SRC_DATA TRAIN_OUT DEV_OUT "VARIANT..."      e.g. ... "m7 f5 klatt3"
set -euo pipefail
src=$1; tr_out=$2; dev_out=$3; dev_variants=$4
mkdir -p "$tr_out" "$dev_out"
# utt2voice: "<utt> <espeak voice>+<variant> <rate> <pitch>"
awk -v v="$dev_variants" 'BEGIN { n = split(v, a, " "); for (i = 1; i <= n; i++) dev[a[i]] = 1 }
  { split($2, p, "+"); print $1, (p[2] in dev) ? "dev" : "train" }' "$src/utt2voice" > "$dev_out/.side"
for f in wav.scp utt2lang utt2spk utt2dur utt2voice text utt2sources; do
  [ -f "$src/$f" ] || continue
  awk 'NR == FNR { side[$1] = $2; next } side[$1] == "train"' "$dev_out/.side" "$src/$f" > "$tr_out/$f"
  awk 'NR == FNR { side[$1] = $2; next } side[$1] == "dev"' "$dev_out/.side" "$src/$f" > "$dev_out/$f"
done
rm "$dev_out/.side"
echo "dev_split.sh: $(wc -l < "$tr_out/wav.scp") training and $(wc -l < "$dev_out/wav.scp") development utterances (dev variants: $dev_variants)"
