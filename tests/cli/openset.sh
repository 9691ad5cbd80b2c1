#!/usr/bin/env bash
# slid eval's calibration measures and the open-set statuses, through the program, on a tiny espeak-ng
# corpus (en, de in the model; fr left out):
#  1. report.json/report.md carry Cllr and min-Cllr (Cllr recomputed here from scores.tsv with awk), a
#     reliability diagram is drawn (or skipped with a note when gnuplot is missing);
#  2. noise, tones, hum, a legato melody, digital and dither-only silence made here are no_speech ('-');
#     speech (espeak, and the shipped samples with the shipped model) is not; eval counts no_speech;
#  3. --unknown-threshold: identify says unknown exactly where no posterior reaches P; eval accepts the
#     out-of-set language only with a threshold and its open-set counts match scores.tsv.
# Usage: bash openset.sh <slid-binary> <tests/data dir>
set -euo pipefail
SLID=$1
command -v espeak-ng >/dev/null || { echo "openset: espeak-ng not installed (tools/install-deps.sh)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-openset.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "openset: FAIL: $*" >&2; exit 1; }

declare -A TEXT
TEXT[en]="The weather is nice today and we are going to the park.|My brother works in a large office near the river.|Please close the window before you leave the house.|Can you tell me where the nearest station is?"
TEXT[de]="Das Wetter ist heute schön und wir gehen in den Park.|Mein Bruder arbeitet in einem großen Büro am Fluss.|Bitte schließe das Fenster, bevor du das Haus verlässt.|Kannst du mir sagen, wo der nächste Bahnhof ist?"
TEXT[fr]="Il fait beau aujourd'hui et nous allons au parc.|Mon frère travaille dans un grand bureau près de la rivière.|Fermez la fenêtre avant de quitter la maison.|Pouvez-vous me dire où se trouve la gare la plus proche?"
for lang in en de fr; do
  IFS='|' read -r -a S <<<"${TEXT[$lang]}"
  mkdir -p "test/$lang"; [[ $lang == fr ]] || mkdir -p "train/$lang"
  if [[ $lang != fr ]]; then
    for i in 0 1 2; do espeak-ng -v "$lang" -s 160 -w "train/$lang/s$i.wav" "${S[$i]}"; done
  fi
  for i in 0 1 2 3; do espeak-ng -v "$lang+m3" -s 150 -w "test/$lang/s$i.wav" "${S[$i]}"; done
done
"$SLID" train train -o m.slid --num-gauss 4 --iters 3 -q

# ---- 1. Cllr and min-Cllr in the eval report (in-set test data: en, de)
mkdir closed && mv test/en test/de closed/
"$SLID" eval --model m.slid closed --out-dir ev -q >ev.out 2>ev.err || { cat ev.err >&2; fail "eval"; }
grep -q "Cllr *minCllr" ev.out || fail "the table on standard output has no Cllr column: $(cat ev.out)"
grep -q "| Cllr | min-Cllr |" ev/report.md || fail "report.md has no Cllr column"
cllr=$(sed -n 's/^ *"cllr": \([-0-9.e+]*\),*$/\1/p' <(sed -n '/"overall"/,/"per_language"/p' ev/report.json) | head -1)
min_cllr=$(sed -n 's/^ *"min_cllr": \([-0-9.e+]*\),*$/\1/p' <(sed -n '/"overall"/,/"per_language"/p' ev/report.json) | head -1)
[[ -n $cllr && -n $min_cllr ]] || fail "report.json overall has no cllr/min_cllr: $(sed -n '/"overall"/,/"per_language"/p' ev/report.json)"
# Multiclass Cllr from scores.tsv (columns: utterance truth language score status speech llk_de llk_en ...):
# -1/C sum_c mean_{utts of c} log2 softmax(llk)_c.
awk -F'\t' -v want="$cllr" -v minc="$min_cllr" '
  NR == 1 { for (i = 1; i <= NF; ++i) if ($i ~ /^llk_/) { col[substr($i, 5)] = i; n++ } next }
  { m = -1e300; for (l in col) if ($col[l] > m) m = $col[l]
    z = 0; for (l in col) z += exp($col[l] - m)
    s[$2] += (m + log(z) - $col[$2]) / log(2); c[$2]++ }
  END { for (l in s) { t += s[l] / c[l]; k++ }; got = t / k
        d = got - want; if (d < 0) d = -d
        if (d > 1e-3 * (1 + want)) { print "Cllr from scores.tsv " got ", report.json " want; exit 1 }
        if (minc > want + 1e-6) { print "min-Cllr " minc " above Cllr " want; exit 1 }
        if (minc < 0) { print "negative min-Cllr " minc; exit 1 } }' ev/scores.tsv || fail "Cllr does not match scores.tsv"
grep -q '"reliability": \[' ev/report.json || fail "report.json has no reliability bins"
if command -v gnuplot >/dev/null; then
  [[ -s ev/reliability.png ]] || fail "no reliability.png although gnuplot is installed"
  grep -q "reliability.png" ev.out || fail "eval does not name reliability.png"
else
  grep -q "gnuplot is not installed" ev.err || fail "no note that the pictures were skipped"
fi
# Without gnuplot (PATH without it): the report is written, the pictures are skipped with a note.
env PATH=/nonexistent "$SLID" eval --model m.slid closed --out-dir ev_nognuplot -q >/dev/null 2>ng.err ||
  fail "eval without gnuplot: $(cat ng.err)"
grep -q "gnuplot is not installed" ng.err || fail "no note that the pictures were skipped: $(cat ng.err)"
[[ ! -e ev_nognuplot/reliability.png && -s ev_nognuplot/report.md ]] || fail "eval without gnuplot: $(ls ev_nognuplot)"
grep -q '"min_cllr": ' ev_nognuplot/report.json || fail "report.json without gnuplot lacks min_cllr"

# ---- 2. no speech
command -v sox >/dev/null || { echo "openset: sox not installed (tools/install-deps.sh)"; exit 1; }
mkdir ns
sox -n -r 16000 -b 16 ns/white.wav synth 3 whitenoise vol 0.3 2>/dev/null
sox -n -r 16000 -b 16 ns/pink.wav synth 3 pinknoise vol 0.3 2>/dev/null
sox -n -r 16000 -b 16 ns/tone.wav synth 3 sine 440 vol 0.3 2>/dev/null
sox -n -r 16000 -b 16 ns/hum.wav synth 3 sine 50 sine 150 sine 250 remix 1-3 vol 0.3 2>/dev/null
sox -D -n -r 16000 -b 16 ns/digital_silence.wav trim 0 3 2>/dev/null
sox -n -r 16000 -b 16 ns/dither_silence.wav trim 0 3 2>/dev/null   # sox dithers its 16-bit output
for f in 262 330 392 523 440 349 294 247; do sox -n -r 16000 -b 16 "note$f.wav" synth 0.4 square $f vol 0.2 2>/dev/null; done
sox note262.wav note330.wav note392.wav note523.wav note440.wav note349.wav note294.wav note247.wav ns/melody.wav
"$SLID" identify --model m.slid ns/*.wav closed/en/s0.wav >ns.tsv
awk -F'\t' 'NR > 1 && $1 ~ /^ns\// && !($2 == "-" && $3 == "-" && $4 == "no_speech" && $5 == "0.00") { print "not no_speech: " $0; bad = 1 }
            NR > 1 && $1 !~ /^ns\// && $4 != "ok" { print "speech not ok: " $0; bad = 1 }
            END { exit bad }' ns.tsv || fail "no_speech statuses"
[[ $(grep -c no_speech ns.tsv) == 7 ]] || fail "expected 7 no_speech lines: $(cat ns.tsv)"
"$SLID" identify --model m.slid --json ns/tone.wav >ns.json
grep -q '"language":null' ns.json && grep -q '"score":null' ns.json && grep -q '"status":"no_speech"' ns.json ||
  fail "JSON of no_speech: $(cat ns.json)"
# Real speech with the shipped model: every sample has speech.
ROOT=$(cd "$2/../.." && pwd)
"$SLID" identify --model "$ROOT/models/default.slid" "$ROOT"/models/samples/*.wav >samples.tsv
[[ $(awk -F'\t' 'NR > 1 && $4 == "ok"' samples.tsv | wc -l) == $(ls "$ROOT"/models/samples/*.wav | wc -l) ]] ||
  fail "a shipped sample is not ok: $(cat samples.tsv)"
# eval counts them apart from too_little_speech and leaves them out of the metrics.
mkdir -p evns/en && cp closed/en/*.wav ns/tone.wav ns/white.wav evns/en/
"$SLID" eval --model m.slid evns --out-dir evns.out -q >/dev/null || fail "eval with no-speech files"
grep -q '"num_no_speech": 2' evns.out/report.json || fail "report.json: $(grep num_ evns.out/report.json)"
grep -q '"num_scored": 4' evns.out/report.json || fail "report.json: $(grep num_ evns.out/report.json)"
# --vad-min-snr-db 0 (no check) gives a different model frontend: identify refuses the flag as for any frontend flag.
set +e; "$SLID" identify --model m.slid --vad-min-snr-db 0 ns/tone.wav >/dev/null 2>flag.err; rc=$?; set -e
[[ $rc == 2 ]] && grep -q "vad-min-snr-db" flag.err || fail "--vad-min-snr-db 0 against the model: exit $rc, $(cat flag.err)"

# ---- 3. unknown language
# P = the midpoint of the two middle top posteriors (exact doubles from --json): files below it must be
# unknown, the others keep their language.
top() { awk '{ match($0, /"path":"[^"]*"/); p = substr($0, RSTART + 8, RLENGTH - 9)
               match($0, /"posterior":[^,}]*/); v = substr($0, RSTART + 12, RLENGTH - 12)
               match($0, /"language":("[^"]*"|null)/); l = substr($0, RSTART + 11, RLENGTH - 11)
               match($0, /"status":"[^"]*"/); s = substr($0, RSTART + 10, RLENGTH - 11)
               print p, v, l, s }'; }
"$SLID" identify --model m.slid --json test/fr/*.wav closed/*/*.wav | top >id.txt
P=$(awk '{ print $2 }' id.txt | sort -g | awk '{ v[NR] = $1 } END { h = int(NR / 2); printf "%.17g\n", (v[h] + v[h + 1]) / 2 }')
awk -v p="$P" 'BEGIN { n = 0 } $2 < p { n++ } END { exit !(n > 0 && n < NR) }' id.txt ||
  fail "the test needs top posteriors on both sides of P = $P: $(cat id.txt)"
"$SLID" identify --model m.slid --json --unknown-threshold "$P" test/fr/*.wav closed/*/*.wav | top >unk.txt
paste -d' ' id.txt unk.txt | awk -v p="$P" '{
    if ($1 != $5) { print "order: " $0; bad = 1 }
    if ($2 < p && !($7 == "\"unknown\"" && $8 == "unknown")) { print "should be unknown: " $0; bad = 1 }
    if ($2 >= p && ($7 != $3 || $8 != "ok")) { print "should keep its language: " $0; bad = 1 } }
  END { exit bad }' || fail "--unknown-threshold $P"
"$SLID" identify --model m.slid --unknown-threshold "$P" test/fr/*.wav closed/*/*.wav >unk.tsv
awk -F'\t' '$4 == "unknown" && !($2 == "unknown" && $3 == "-") { bad = 1 } END { exit bad }' unk.tsv &&
  grep -q $'\tunknown\t-\tunknown\t' unk.tsv || fail "TSV of unknown: $(cat unk.tsv)"
# eval: fr is not in the model: refused without a threshold (naming the way out), open set with one.
mkdir -p open && cp -r closed/en closed/de test/fr open/
set +e; "$SLID" eval --model m.slid open --out-dir evo -q >/dev/null 2>evo.err; rc=$?; set -e
[[ $rc == 1 ]] && grep -q "'fr' is not in the model" evo.err && grep -q "unknown threshold" evo.err ||
  fail "eval with an out-of-set language and no threshold: exit $rc, $(cat evo.err)"
"$SLID" eval --model m.slid open --out-dir evo --unknown-threshold "$P" -q >evo.out || fail "open-set eval"
grep -q '"num_scored": 8' evo/report.json || fail "closed-set figures must count the 8 in-set files only"
# The open-set counts agree with scores.tsv (columns: utterance truth language ... status).
read -r oos_n oos_u in_n in_u < <(awk -F'\t' 'NR > 1 && ($5 == "ok" || $5 == "unknown") {
    if ($2 == "fr") { on++; ou += $3 == "unknown" } else { in_n++; iu += $3 == "unknown" } }
  END { print on + 0, ou + 0, in_n + 0, iu + 0 }' evo/scores.tsv)
for kv in "out_of_set_trials $oos_n" "out_of_set_unknown $oos_u" "in_set_trials $in_n" "in_set_unknown $in_u"; do
  set -- $kv
  grep -q "\"$1\": $2," evo/report.json || fail "report.json open_set $1 is not $2: $(sed -n '/"open_set"/,/per_language/p' evo/report.json)"
done
[[ $oos_n == 4 ]] || fail "expected the 4 fr files out of set, got $oos_n"
grep -q "## Open set (unknown threshold" evo/report.md || fail "report.md has no open-set section"
grep -q "^open set (unknown threshold" evo.out || fail "the table on standard output has no open-set line"
echo "openset: ok"
