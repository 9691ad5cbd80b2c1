#!/usr/bin/env bash
# End to end through the program: a tiny corpus spoken by espeak-ng (3 languages x 2 training voices x
# 6 sentences; test: 4 other sentences in a third voice), then train -> info -> identify -> eval, the
# three data formats (folder, Kaldi dir with a piped wav.scp entry, TSV), exit codes and error paths.
# Usage: bash e2e.sh <slid-binary> <tests/data dir>
set -euo pipefail
SLID=$1
command -v espeak-ng >/dev/null || { echo "e2e: espeak-ng not installed (tools/install-deps.sh)"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "e2e: FAIL: $*" >&2; exit 1; }
expect_exit() {  # expect_exit CODE cmd...
  local want=$1; shift
  set +e; "$@" >"$WORK/last.out" 2>"$WORK/last.err"; local got=$?; set -e
  [[ $got == "$want" ]] || { cat "$WORK/last.err" >&2; fail "exit $got, expected $want: $*"; }
}

# ---- corpus -------------------------------------------------------------------------------------
declare -A TEXT
TEXT[en]="The weather is nice today and we are going to the park.|My brother works in a large office near the river.|Please close the window before you leave the house.|I would like a cup of coffee with milk and sugar.|The children are playing football in the garden.|We have been waiting for the train for twenty minutes.|Can you tell me where the nearest station is?|She reads a book every evening before going to sleep.|The meeting has been moved to next Thursday afternoon.|Our neighbours bought a new car last week."
TEXT[de]="Das Wetter ist heute schön und wir gehen in den Park.|Mein Bruder arbeitet in einem großen Büro am Fluss.|Bitte schließe das Fenster, bevor du das Haus verlässt.|Ich möchte eine Tasse Kaffee mit Milch und Zucker.|Die Kinder spielen Fußball im Garten hinter dem Haus.|Wir warten seit zwanzig Minuten auf den Zug.|Kannst du mir sagen, wo der nächste Bahnhof ist?|Sie liest jeden Abend ein Buch, bevor sie schlafen geht.|Die Besprechung wurde auf nächsten Donnerstag verschoben.|Unsere Nachbarn haben letzte Woche ein neues Auto gekauft."
TEXT[es]="Hoy hace buen tiempo y vamos al parque con los niños.|Mi hermano trabaja en una oficina grande cerca del río.|Por favor, cierra la ventana antes de salir de la casa.|Quisiera una taza de café con leche y azúcar.|Los niños están jugando al fútbol en el jardín.|Llevamos veinte minutos esperando el tren de la mañana.|¿Puedes decirme dónde está la estación más cercana?|Ella lee un libro todas las noches antes de dormir.|La reunión se ha cambiado al próximo jueves por la tarde.|Nuestros vecinos compraron un coche nuevo la semana pasada."
VOICES_TRAIN=("" "+f3")
VOICE_TEST="+m3"
mkdir -p train test
for lang in en de es; do
  IFS='|' read -r -a S <<<"${TEXT[$lang]}"
  mkdir -p "train/$lang" "test/$lang"
  for i in 0 1 2 3 4 5; do
    for v in "${VOICES_TRAIN[@]}"; do
      espeak-ng -v "$lang$v" -s 160 -w "train/$lang/s${i}${v/+/_}.wav" "${S[$i]}"
    done
  done
  for i in 6 7 8 9; do
    espeak-ng -v "$lang$VOICE_TEST" -s 150 -w "test/$lang/s${i}.wav" "${S[$i]}"
  done
done
echo "e2e: corpus: $(find train -name '*.wav' | wc -l) training and $(find test -name '*.wav' | wc -l) test files"

# ---- train (folder format) ------------------------------------------------------------------------
expect_exit 0 "$SLID" train train -o m.slid --num-gauss 8 --iters 5 --threads 2
[[ -s m.slid ]] || fail "no model written"
grep -q "EM " last.err || fail "no EM progress lines on stderr"
grep -q "avg log-likelihood" last.err || fail "progress lacks the log-likelihood"
expect_exit 0 "$SLID" train train -o q.slid --num-gauss 8 --iters 5 --quiet
[[ ! -s last.err ]] || fail "--quiet still printed: $(cat last.err)"
# The model does not depend on the number of threads (features appended in data order, EM merges
# statistics in block order): the 2-thread and 1-thread models score identically.
"$SLID" identify --model m.slid test/*/s6.wav >ident_m.tsv
"$SLID" identify --model q.slid test/*/s6.wav >ident_q.tsv
cmp -s ident_m.tsv ident_q.tsv || fail "models trained with 1 and 2 threads differ"
# With a tiny memory budget the features are streamed from the on-disk cache: same model, cache removed.
expect_exit 0 "$SLID" train train -o d.slid --num-gauss 8 --iters 5 --max-memory-mb 0.05 --cache-dir "$WORK/cache"
grep -q "streamed from the disk cache" last.err || fail "disk cache not used"
[[ ! -e "$WORK/cache" ]] || fail "cache folder left behind"
"$SLID" identify --model d.slid test/*/s6.wav >ident_d.tsv
cmp -s ident_m.tsv ident_d.tsv || fail "disk-cached and in-memory training differ"

# ---- info -------------------------------------------------------------------------------------------
expect_exit 0 "$SLID" info m.slid
grep -q "^languages: *3" last.out || fail "info: languages"
grep -q "num-ceps" last.out || fail "info: frontend options"
expect_exit 0 "$SLID" info m.slid --json
grep -q '"format_version": 2' last.out || fail "info --json: format_version"
grep -q '"audio_hours"' last.out || fail "info --json: summary"

# ---- identify ---------------------------------------------------------------------------------------
expect_exit 0 "$SLID" identify --model m.slid test/en/s6.wav test/de/s6.wav test/es/s6.wav
[[ $(wc -l <last.out) == 4 ]] || fail "identify: expected header + 3 lines"
head -1 last.out | grep -q $'^path\tlanguage\tscore\tstatus\tspeech_seconds\tllk_de\tllk_en\tllk_es\tpost_de\tpost_en\tpost_es$' ||
  fail "identify: header is $(head -1 last.out)"
awk -F'\t' 'NR > 1 { s = $9 + $10 + $11; if (NF != 11 || s < 0.999 || s > 1.001) exit 1 }' last.out ||
  fail "identify: malformed line or posteriors not summing to 1"
# JSON lines, --top, --languages, list from standard input
find test -name '*.wav' | sort >list.txt
expect_exit 0 "$SLID" identify --model m.slid --json --top 2 - <list.txt
[[ $(wc -l <last.out) == 12 ]] || fail "identify --json: 12 lines expected"
while IFS= read -r line; do
  [[ $line == "{"*'"scores":['*'}' ]] || fail "identify --json: not a JSON object: $line"
  [[ $(grep -o '"posterior"' <<<"$line" | wc -l) == 2 ]] || fail "identify --top 2: $line"
done <last.out
expect_exit 0 "$SLID" identify --model m.slid --languages en,de --list list.txt
head -1 last.out | grep -q $'llk_de\tllk_en\tpost_de' || fail "--languages en,de header"
cut -f2 last.out | tail -n +2 | grep -qv -e '^en$' -e '^de$' && fail "--languages: a language outside en,de was chosen"
# No speech: 0.3 s of a steady tone is reported as such (status no_speech), not guessed.
sox -n -r 16000 -b 16 short.wav synth 0.3 sine 300 2>/dev/null
expect_exit 0 "$SLID" identify --model m.slid short.wav
tail -1 last.out | grep -q $'\t-\t-\tno_speech\t' || fail "no speech: $(tail -1 last.out)"
# A bad file among good ones: exit 3, one stderr line naming it, the others still printed.
echo "not audio" >bad.wav
expect_exit 3 "$SLID" identify --model m.slid test/en/s6.wav bad.wav test/de/s7.wav
[[ $(wc -l <last.out) == 3 ]] || fail "exit 3 run should still print 2 results"
grep -q "bad.wav" last.err || fail "bad file not named on stderr"
# identify takes the frontend from the model: no frontend flags; --frontend-check FILE stops if a
# config differs from the model's options, and accepts an equal one.
expect_exit 2 "$SLID" identify --model m.slid --num-ceps 7 test/en/s6.wav
grep -q "num-ceps" last.err || fail "a frontend flag given to identify should be named: $(cat last.err)"
printf -- '--num-ceps=13\n' >ceps13.conf; printf -- '--num-ceps=7\n--allow-downsample=true\n' >ceps7.conf
expect_exit 2 "$SLID" identify --model m.slid --frontend-check ceps13.conf test/en/s6.wav
grep -q "ceps13.conf: frontend options differ .*num-ceps=13 (model: 7)" last.err || fail "frontend mismatch should name the option: $(cat last.err)"
expect_exit 0 "$SLID" identify --model m.slid --frontend-check ceps7.conf test/en/s6.wav
grep -q "ceps7.conf:2: note: --allow-downsample" last.err || fail "no note for the option without effect: $(cat last.err)"
"$SLID" identify --help >help.txt
! grep -q -e '--num-ceps' -e '--config' help.txt || fail "identify --help still lists frontend options"
expect_exit 2 "$SLID" identify --model m.slid --languages xx test/en/s6.wav
expect_exit 2 "$SLID" identify --model m.slid --no-such-flag test/en/s6.wav
expect_exit 2 "$SLID" identify --model m.slid
# Damaged or truncated models are clear errors (exit 1).
head -c 2000 m.slid >trunc.slid
expect_exit 1 "$SLID" identify --model trunc.slid test/en/s6.wav
grep -q "truncated" last.err || fail "truncated model: $(cat last.err)"
expect_exit 1 "$SLID" info wav_not_model.slid
# Frontend options from --config and flags are stored in the model and used when identifying.
printf -- '--num-ceps=10\n# comment\n--sdc-n=5\n' >fe.conf
expect_exit 0 "$SLID" train train -o c.slid --num-gauss 4 --iters 2 --config fe.conf --low-freq 40 --quiet
expect_exit 0 "$SLID" info c.slid
grep -q "^feature dim: *40$" last.out || fail "config not applied (expected 5*7+5 = 40 dims): $(grep 'feature dim' last.out)"
grep -q -- "--low-freq=40" last.out || fail "explicit flag not stored in the model"
expect_exit 0 "$SLID" identify --model c.slid --frontend-check fe.conf test/en/s6.wav
printf -- '--sdc-n=7\n' >sdc7.conf
expect_exit 2 "$SLID" identify --model c.slid --frontend-check sdc7.conf test/en/s6.wav
grep -q "sdc-n=7 (model: 5)" last.err || fail "mismatch message: $(cat last.err)"
# Feature warping is stored in the model and used when identifying, whole files and streamed.
expect_exit 0 "$SLID" train train -o w.slid --num-gauss 4 --iters 2 --cmvn-mode warp --quiet
expect_exit 0 "$SLID" info w.slid
grep -q -- "--cmvn-mode=warp" last.out || fail "cmvn-mode warp not stored in the model"
expect_exit 0 "$SLID" identify --model w.slid test/en/s6.wav
expect_exit 0 "$SLID" identify --model w.slid --stream test/en/s6.wav
# A TSV list ("path<TAB>lang") is accepted by identify --data (as by train/eval); --list is plain paths.
printf 'test/en/s6.wav\ten\n' >one.tsv
expect_exit 0 "$SLID" identify --model m.slid --data one.tsv
[[ $(tail -1 last.out | cut -f1) == test/en/s6.wav ]] || fail "identify --list with a TSV line"

# ---- eval ---------------------------------------------------------------------------------------------
expect_exit 0 "$SLID" eval --model m.slid test --out-dir ev --threads 2
for f in report.json report.md scores.tsv; do [[ -s ev/$f ]] || fail "eval: missing $f"; done
grep -q "accuracy" last.out || fail "eval: no human table"
acc=$(sed -n 's/.*"num_scored": \([0-9]*\).*/\1/p' ev/report.json)
[[ $acc == 12 ]] || fail "eval: expected 12 scored utterances, report says '$acc'"
python_free_accuracy=$(awk '/"overall"/ { o = 1 } o && /"accuracy"/ { gsub(/[",]/, ""); print $2; exit }' ev/report.json)
echo "e2e: held-out accuracy $python_free_accuracy (chance 0.333)"
awk -v a="$python_free_accuracy" 'BEGIN { exit !(a > 0.5) }' || fail "accuracy $python_free_accuracy not above chance"
grep -q '"cavg"' ev/report.json && grep -q '"eer"' ev/report.json && grep -q '"<=3s"' ev/report.json || fail "eval: metrics missing"
grep -q "Confusion matrix" ev/report.md || fail "eval: markdown lacks the confusion matrix"
if command -v gnuplot >/dev/null; then
  for f in confusion.png det.png; do
    [[ $(head -c 8 "ev/$f" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "eval: $f is not a PNG"
  done
  expect_exit 0 "$SLID" eval --model m.slid test --out-dir ev_svg --plot-format svg --quiet
  grep -q "<svg" ev_svg/det.svg || fail "eval: det.svg is not SVG"
fi
# Without gnuplot: the report is still written, the pictures are skipped with a message.
expect_exit 0 env PATH=/nonexistent "$SLID" eval --model m.slid test --out-dir ev_nognuplot --quiet
[[ -s ev_nognuplot/report.json && ! -e ev_nognuplot/confusion.png ]] || fail "eval without gnuplot"
grep -q "gnuplot is not installed" last.err || fail "eval without gnuplot should say so"

# ---- the other data formats: Kaldi dir (with a piped entry) and TSV ---------------------------------
mkdir -p kaldi
: >kaldi/wav.scp; : >kaldi/utt2lang
n=0
for f in $(find "$PWD/train" -name '*.wav' | sort); do
  lang=$(basename "$(dirname "$f")"); utt="${lang}_$n"; n=$((n + 1))
  if (( n % 5 == 0 )); then echo "$utt sox $f -t wav - |" >>kaldi/wav.scp; else echo "$utt $f" >>kaldi/wav.scp; fi
  echo "$utt $lang" >>kaldi/utt2lang
done
grep -q '|$' kaldi/wav.scp || fail "no piped entry in the Kaldi wav.scp"
expect_exit 0 "$SLID" train kaldi -o k.slid --num-gauss 8 --iters 5
grep -q "kaldi data" last.err || fail "train did not read the Kaldi format"
(cd test && find . -name '*.wav' | sort | sed 's|^\./||' | awk -F/ '{ print $0 "\t" $1 }') >test/list.tsv
expect_exit 0 "$SLID" eval --model k.slid test/list.tsv --out-dir ev_tsv --quiet
grep -q '"num_scored": 12' ev_tsv/report.json || fail "eval on the TSV list"
(cd train && find . -name '*.wav' | sort | sed 's|^\./||' | awk -F/ '{ print $0 "\t" $1 }') >train.tsv
sed -i 's|^|train/|' train.tsv
expect_exit 0 "$SLID" train train.tsv -o t.slid --num-gauss 8 --iters 5 --quiet
expect_exit 0 "$SLID" identify --model t.slid test/es/s9.wav
# A failing piped command is reported and skipped: exit 3, model still written.
cp -r kaldi kaldi_bad
echo "zz_bad false |" >>kaldi_bad/wav.scp; echo "zz_bad en" >>kaldi_bad/utt2lang
expect_exit 3 "$SLID" train kaldi_bad -o kb.slid --num-gauss 8 --iters 2 --quiet
grep -q "false |" last.err || fail "failing command not named"
[[ -s kb.slid ]] || fail "model not written after a skipped file"
# A language without usable audio is an error naming it; empty/missing data are clear errors.
mkdir -p onlybad/xx onlybad/en && cp train/en/s0.wav onlybad/en/ && echo junk >onlybad/xx/a.wav
expect_exit 1 "$SLID" train onlybad -o ob.slid --num-gauss 2 --iters 1 --quiet
grep -q "language 'xx' has no usable audio" last.err || fail "language without audio: $(cat last.err)"
[[ ! -e ob.slid ]] || fail "a model was written despite the error"
mkdir -p emptydir
expect_exit 1 "$SLID" train emptydir -o e.slid
grep -q "no language sub-folders" last.err || fail "empty folder message: $(cat last.err)"
expect_exit 1 "$SLID" train does_not_exist -o e.slid
grep -q "does_not_exist: no such file" last.err || fail "missing data message: $(cat last.err)"
expect_exit 2 "$SLID" train train
echo "e2e: all checks passed"
