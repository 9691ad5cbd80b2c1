#!/usr/bin/env bash
# Issue 10 through the program: nothing hangs, crashes or is lost on bad input, and what a person sees
# fits the terminal. Each check below failed before its fix:
#  - a WAV whose header claims 1 Hz is refused at once (it was upsampled 16000-fold: 1.5 GB, minutes);
#  - a FIFO or a device given as audio, --model, --list, --config or a training list is refused at once
#    (opening a FIFO without a writer blocked forever);
#  - unscored values print as '-' (TSV) or null (JSON), never nan; --posterior-scale 1e40 gives
#    finite posteriors;
#  - every line of every subcommand's --help fits in 80 columns.
# Usage: bash robust.sh <slid-binary> <tests/data dir>
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"  # fail, note, skip, run, run_limit, said, said_both, no_temp_files
SLID=$(realpath "$1")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for tool in sox timeout mkfifo; do command -v $tool >/dev/null || { echo "robust: $tool not installed"; exit 1; }; done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-robust.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

no_nan() {  # no field of $1 is nan/inf in any spelling
  ! grep -qiE '(^|[^a-z])-?(nan|inf)([^a-z]|$)' "$1" || fail "nan/inf printed in $1: $(grep -iE 'nan|inf' "$1" | head -3)"
}

# ---- a small model on two synthetic "languages" --------------------------------------------------------
# (Tones are fully modulated, tremolo depth 100: a steady or lightly modulated tone is no_speech to the
# VAD's speech check, include/slid/vad.h.)
mkdir -p data/lo data/hi
for i in 1 2; do
  sox -n -r 8000 -b 16 data/lo/a$i.wav synth 2 sine $((200 + 50 * i))-$((900 + 90 * i)) vol 0.4 tremolo 3 100 2>/dev/null
  sox -n -r 8000 -b 16 data/hi/b$i.wav synth 2 pinknoise vol 0.3 tremolo $((2 + i)) 70 2>/dev/null
done
run_limit 0 60 "$SLID" train data -o m.slid --num-gauss 4 --iters 2 --sample-frequency 8000 --high-freq -200 --quiet
GOOD=data/lo/a1.wav

# ---- 1. sample rates below the minimum: refused before resampling ----------------------------------------
# A 14 s, 8 kHz WAV whose header is patched to claim 1 Hz (bytes 24-27: rate, 28-31: byte rate).
sox -n -r 8000 -b 16 rate1.wav synth 14 sine 300 vol 0.5 2>/dev/null
printf '\x01\x00\x00\x00\x02\x00\x00\x00' | dd of=rate1.wav bs=1 seek=24 conv=notrunc status=none
run_limit 3 20 "$SLID" identify --model m.slid rate1.wav $GOOD
said_both rate1.wav "sample rate 1 Hz"
grep -qF "$GOOD" last.out || fail "the batch stopped at the 1 Hz file"
mkdir -p lowrate/lo lowrate/hi && cp data/lo/*.wav lowrate/lo/ && cp data/hi/*.wav lowrate/hi/ && cp rate1.wav lowrate/hi/
run_limit 3 30 "$SLID" train lowrate -o low.slid --num-gauss 4 --iters 2 --sample-frequency 8000 --high-freq -200 --quiet
said_both rate1.wav "sample rate 1 Hz"
hours=$("$SLID" info --json low.slid | grep -o '"audio_hours": *[0-9.e+-]*' | grep -o '[0-9.e+-]*$' || echo 0)
awk -v h="$hours" 'BEGIN { exit !(h < 0.01) }' || fail "train recorded $hours h of audio for 8 s of files"
run_limit 3 20 "$SLID" features --out-dir feats rate1.wav
said_both rate1.wav "sample rate 1 Hz"
# 999 Hz is refused, 1000 Hz (the documented minimum) is read.
sox -n -r 1000 -b 16 rate1000.wav synth 2 sine 200 vol 0.5 tremolo 3 100 2>/dev/null
cp rate1000.wav rate999.wav
printf '\xe7\x03\x00\x00\xce\x07\x00\x00' | dd of=rate999.wav bs=1 seek=24 conv=notrunc status=none
run_limit 3 20 "$SLID" identify --model m.slid rate999.wav rate1000.wav
said_both rate999.wav "sample rate 999 Hz"
grep -qF rate1000.wav last.out || fail "a 1000 Hz file was refused"

# ---- 2. FIFOs and devices where a file is expected: refused at once, never waited on ----------------------
mkfifo fifo.wav fifo.slid fifo.list fifo.conf fifo.tsv
run_limit 3 10 "$SLID" identify --model m.slid fifo.wav $GOOD
said_both fifo.wav "named pipe"
grep -qF "$GOOD" last.out || fail "the batch stopped at the FIFO"
run_limit 3 10 "$SLID" identify --model m.slid /dev/zero $GOOD
said_both /dev/zero "character device"
run_limit 1 10 "$SLID" identify --model fifo.slid $GOOD
said_both fifo.slid "named pipe"
run_limit 1 10 "$SLID" info fifo.slid
said_both fifo.slid "named pipe"
run_limit 1 10 "$SLID" identify --model m.slid --list fifo.list
said_both fifo.list "named pipe"
run_limit 2 10 "$SLID" identify --model m.slid --frontend-check fifo.conf $GOOD
said_both fifo.conf "named pipe"
run_limit 2 10 "$SLID" features --config fifo.conf --out-dir feats $GOOD
said_both fifo.conf "named pipe"
run_limit 1 10 "$SLID" train fifo.tsv -o f.slid --quiet
said_both fifo.tsv "named pipe"
run_limit 3 10 "$SLID" features --out-dir feats fifo.wav
said_both fifo.wav "named pipe"
printf 'u1 %s\nu2 %s\nu3 %s\n' "$WORK/data/lo/a1.wav" "$WORK/fifo.wav" "$WORK/data/hi/b1.wav" >scp
printf 'u1 lo\nu2 lo\nu3 hi\n' >u2l
mkdir -p kdir && mv scp kdir/wav.scp && mv u2l kdir/utt2lang
run_limit 3 30 "$SLID" train kdir -o wf.slid --num-gauss 2 --iters 1 --sample-frequency 8000 --high-freq -200 --quiet
said_both fifo.wav "named pipe"
# '-' still reads paths from standard input where documented.
set +e; echo "$GOOD" | timeout 10 "$SLID" identify --model m.slid - >last.out 2>last.err; rc=$?; set -e
[[ $rc == 0 ]] && grep -qF "$GOOD" last.out || fail "identify - (paths on standard input) broke: exit $rc"

# ---- 5. unscored values are '-' / null, never nan ----------------------------------------------------------
sox -D -n -r 8000 -b 16 silence.wav trim 0 2 2>/dev/null
run_limit 0 20 "$SLID" identify --model m.slid silence.wav
no_nan last.out
row=$(grep -F silence.wav last.out)
[[ $(cut -f4 <<<"$row") == no_speech ]] || fail "silence not no_speech: $row"
[[ $(cut -f2,3 <<<"$row") == $'-\t-' ]] || fail "unscored language/score not '-': $row"
[[ $(cut -f6- <<<"$row" | tr '\t' '\n' | sort -u) == "-" ]] || fail "unscored llk/post not '-': $row"
run_limit 0 20 "$SLID" identify --model m.slid --top 2 silence.wav
no_nan last.out
run_limit 0 20 "$SLID" identify --model m.slid --json silence.wav
no_nan last.out
grep -q '"score":null' last.out || fail "unscored JSON score is not null: $(cat last.out)"
# --posterior-scale 1e40: posteriors stay finite; the best language gets 1, the others 0.
run_limit 0 20 "$SLID" identify --model m.slid --posterior-scale 1e40 $GOOD data/hi/b1.wav
no_nan last.out
awk -F'\t' 'NR > 1 { s = 0; for (i = NF - 1; i <= NF; ++i) s += $i; if (s < 0.999 || s > 1.001) exit 1 }' last.out ||
  fail "posteriors at scale 1e40 do not sum to 1: $(cat last.out)"
# eval's scores.tsv with an utterance that has no speech.
mkdir -p evdata/lo evdata/hi && cp data/lo/a2.wav evdata/lo/ && cp data/hi/b2.wav silence.wav evdata/hi/
run_limit 0 60 "$SLID" eval --model m.slid evdata --out-dir ev --quiet
no_nan ev/scores.tsv
grep -q no_speech ev/scores.tsv || fail "scores.tsv lacks the no_speech row"

# ---- 4. --segment-seconds is a memory setting: it does not change the answer -----------------------------------
# The shipped model on a shipped sample (3.3 s) and on a 12-minute file (more than one block of
# 60000 SDC frames), read in segments of 0.1 s, 1 s and 600 s, against the same files given through a
# Kaldi wav.scp with piped entries (a separate reading path: the command's output is copied first). Before: 0.25-1 s segments gave another language and
# 0.1 s made 3 s of speech too_little_speech.
MODEL=$ROOT/models/asterisk-5lang/asterisk-5lang.slid  # decisions checked below are those of the 5-language telephone model
SAMPLE=$ROOT/models/samples/it-menardi-conf-onlyperson.wav
sox -n -r 8000 -b 16 long12.wav synth 720 sine 200-1800 vol 0.4 tremolo 3 100 2>/dev/null
printf 'a cat %s |\nb cat %s |\n' "$SAMPLE" "$WORK/long12.wav" >whole.scp
run_limit 0 60 "$SLID" identify --model "$MODEL" --scp whole.scp
cut -f2- last.out >whole.tsv
# Under AddressSanitizer (slow), one segment length: the one furthest from the whole-file reading.
segs=(0.1 1 600); sanitized "$SLID" && segs=(0.1)
for seg in "${segs[@]}"; do
  run_limit 0 60 "$SLID" identify --model "$MODEL" --segment-seconds $seg "$SAMPLE" long12.wav
  cut -f2- last.out >seg.tsv
  paste whole.tsv seg.tsv | awk -F'\t' -v seg=$seg 'NR > 1 {
      n = NF / 2
      if ($1 != $(n + 1) || $3 != $(n + 3)) { print "segment " seg ": decision " $(n + 1) "/" $(n + 3) ", whole file " $1 "/" $3; exit 1 }
      for (i = 2; i <= n; ++i) if (i != 3) { d = $i - $(n + i); if (d < 0) d = -d; if (d > 1e-3 * (1 + ($i < 0 ? -$i : $i))) {
        print "segment " seg ": column " i " is " $(n + i) ", whole file " $i; exit 1 } } }' ||
    fail "--segment-seconds $seg changed the result"
done

# ---- 3. an output path that is one of the inputs is refused before any work ------------------------------------
cp data/lo/a1.wav a1.backup
run_limit 1 30 "$SLID" train data -o data/lo/a1.wav --num-gauss 2 --iters 1 --sample-frequency 8000 --high-freq -200
said_both data/lo/a1.wav "one of the inputs"
cmp -s a1.backup data/lo/a1.wav || fail "train -o onto a training file overwrote it"
grep -q "features" last.err && fail "train did work before refusing its output path"
mkdir -p kd3
printf 'u1 %s\nu2 %s\n' "$WORK/data/lo/a1.wav" "$WORK/data/hi/b1.wav" >kd3/wav.scp
printf 'u1 lo\nu2 hi\n' >kd3/utt2lang
cp kd3/wav.scp scp.backup
run_limit 1 30 "$SLID" train kd3 -o kd3/wav.scp --num-gauss 2 --iters 1 --sample-frequency 8000 --high-freq -200
said_both kd3/wav.scp "one of the inputs"
cmp -s scp.backup kd3/wav.scp || fail "train -o onto wav.scp overwrote it"
printf '%s\tlo\n%s\thi\n' "$WORK/data/lo/a2.wav" "$WORK/data/hi/b2.wav" >list3.tsv
ln -s list3.tsv link3.tsv
run_limit 1 30 "$SLID" train list3.tsv -o link3.tsv --num-gauss 2 --iters 1 --sample-frequency 8000 --high-freq -200
said_both link3.tsv "one of the inputs"

# ---- 7. leftovers of killed runs are removed by the next run; eval replaces its report folder whole ------------
dead=$(sh -c 'echo $$')  # the pid of a process that has exited
live=$$                  # this shell: running
[[ ! -d /proc/$dead ]] || fail "test set-up: pid $dead is running again"
mkdir -p tmp7/slid-train-$dead tmp7/slid-train-$live
head -c 1000000 /dev/zero >tmp7/slid-train-$dead/lo.$dead.feats
cp m.slid m7.slid.tmp.$dead; cp m.slid m7.slid.tmp.$live
mkdir -p cache7; touch cache7/lo.$dead.feats cache7/hi.$dead.feats.tmp.$dead cache7/lo.$live.feats cache7/notes.txt
TMPDIR=$WORK/tmp7 run_limit 0 60 "$SLID" train data -o m7.slid --num-gauss 2 --iters 1 --sample-frequency 8000 --high-freq -200 --quiet
[[ ! -e tmp7/slid-train-$dead ]] || fail "the cache folder of a dead run was not removed"
[[ -d tmp7/slid-train-$live ]] || fail "the cache folder of a running process was removed"
[[ ! -e m7.slid.tmp.$dead ]] || fail "the temporary model of a dead run was not removed"
[[ -e m7.slid.tmp.$live ]] || fail "the temporary model of a running process was removed"
run_limit 0 60 "$SLID" train data -o m7.slid --cache-dir cache7 --num-gauss 2 --iters 1 --sample-frequency 8000 --high-freq -200 --quiet
[[ $(cd cache7 && ls | sort | tr '\n' ' ') == "lo.$live.feats notes.txt " ]] || fail "cache folder after the run: $(ls cache7)"
# eval: a killed run's temporary report folder is removed; a re-run replaces the report as a whole; a
# folder holding other files is not replaced.
mkdir -p ev7.tmp.$dead && touch ev7.tmp.$dead/report.json
run_limit 0 60 "$SLID" eval --model m.slid evdata --out-dir ev7 --quiet
[[ ! -e ev7.tmp.$dead ]] || fail "eval left the temporary report folder of a dead run"
cp m.slid other.slid
run_limit 0 60 "$SLID" eval --model other.slid evdata --out-dir ev7 --quiet
grep -q '"model": "other.slid"' ev7/report.json || fail "the re-run did not replace report.json"
[[ -z $(ls -d ev7.* 2>/dev/null) ]] || fail "eval left folders beside its report: $(ls -d ev7.*)"
mkdir -p mine && echo keep >mine/notes.txt
run_limit 1 60 "$SLID" eval --model m.slid evdata --out-dir mine --quiet
said_both mine "notes.txt"
[[ $(cat mine/notes.txt) == keep ]] || fail "eval replaced a folder holding other files"

# ---- 9. eval outputs: a NIST-style score file, audio seconds in scores.tsv, buckets by speech seconds, DET ----
# A 6 s file with 2 s of sound: 2 s of speech, in the <=3 s bucket (by audio length it would be 3-10 s).
sox -n -r 8000 -b 16 tone.wav synth 2 sine 250-880 vol 0.4 tremolo 3 100 2>/dev/null
sox -D -n -r 8000 -b 16 quiet4.wav trim 0 4 2>/dev/null
mkdir -p ev9/lo ev9/hi && cp data/hi/b2.wav ev9/hi/ && sox tone.wav quiet4.wav ev9/lo/padded.wav
run_limit 0 60 "$SLID" eval --model m.slid ev9 --out-dir out9 --quiet
[[ -s out9/scores.llr ]] || fail "no scores.llr beside scores.tsv"
[[ $(wc -l <out9/scores.llr) == 4 ]] || fail "scores.llr: expected 2 utterances x 2 languages: $(cat out9/scores.llr)"
awk 'NF != 3 || $3 !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/ { exit 1 }' out9/scores.llr || fail "scores.llr is not 'utt lang llr': $(cat out9/scores.llr)"
head -1 out9/scores.tsv | tr '\t' '\n' | tail -1 | grep -qx audio_seconds || fail "scores.tsv lacks audio_seconds"
grep padded out9/scores.tsv | awk -F'\t' '{ exit !($NF > 5.9 && $NF < 6.1) }' || fail "audio_seconds of padded.wav is not 6"
/usr/bin/python3 -c '
import json, sys
r = json.load(open("out9/report.json"))["by_duration"]
sys.exit(0 if r["<=3s"]["num_trials"] == 2 and r["3-10s"]["num_trials"] == 0 else 1)' ||
  fail "duration buckets do not count seconds of speech: $(grep -A3 by_duration out9/report.json)"
if command -v gnuplot >/dev/null; then
  grep -q "invnorm(0.995)" out9/plots.gp || fail "the DET axes do not reach 99.5 %"
  [[ $(grep -c '^# lo$\|^# hi$' out9/det.dat) == 2 ]] || fail "det.dat lacks the per-language curves"
  grep -q "title \"lo\"" out9/plots.gp || fail "the DET picture lacks the per-language curves"
  # Replay the DET plot into a table: no point may sit on the border of the plot (clipped, not data).
  (cd out9 && sed -n '/^reset/,$p' plots.gp | sed '/^set output .reliability/,$d' | sed 's/^set output.*/set table "det.table"/' | gnuplot 2>/dev/null)
  # (The dashed p_miss = p_fa diagonal is a line, not data: it is skipped.)
  awk 'function near(a, b) { return (a - b < 1e-3 && b - a < 1e-3) }
       /^# Curve title/ { diag = /p_miss = p_fa/ }
       !diag && $3 == "i" && (near($1, -3.0902) || near($2, -3.0902) || near($1, 2.5758) || near($2, 2.5758)) { bad = 1 }
       END { exit bad }' out9/det.table || fail "DET points drawn on the border of the plot"
  [[ $(grep -c '^# Curve title' out9/det.table) == 4 ]] || fail "the DET plot does not have pooled + 2 language curves"
fi

# ---- 6. bad language labels: all named at once, before any work ------------------------------------------------
mkdir -p "labels6/en US" "labels6/fr,x" labels6/ok
cp data/lo/a1.wav "labels6/en US/"; cp data/lo/a2.wav "labels6/fr,x/"; cp data/hi/b1.wav labels6/ok/
run_limit 1 30 "$SLID" train labels6 -o l6.slid --num-gauss 2 --iters 1 --sample-frequency 8000 --high-freq -200
said_both "'en US'" "'fr,x'"
grep -q "features" last.err && fail "train extracted features before refusing bad labels"
printf '%s\ten/US\n%s\tok\n' "$WORK/data/lo/a1.wav" "$WORK/data/hi/b1.wav" >labels6.tsv
run_limit 1 30 "$SLID" train labels6.tsv -o l6.slid --num-gauss 2 --iters 1 --sample-frequency 8000 --high-freq -200
said_both labels6.tsv "'en/US'"

# ---- 9. --help fits in 80 columns, for the program and every subcommand -------------------------------------
for sub in "" features train identify eval info version; do
  # shellcheck disable=SC2086
  run_limit 0 10 "$SLID" $sub --help
  [[ -s last.out ]] || fail "slid $sub --help printed nothing"
  wide=$(awk 'length($0) > 80' last.out)
  [[ -z $wide ]] || fail "slid $sub --help has $(wc -l <<<"$wide") line(s) wider than 80 columns, e.g.: $(head -1 <<<"$wide")"
done

# ---- 9. the asterisk recipe's augmentation commands print no sox warnings ----------------------------------
# (1,966 "sox WARN" lines in one run of the recipe: the WAV length of a pipe, and clipping by `speed`.)
mkdir -p aug/in
sox -n -r 8000 -b 16 aug/loud.wav synth 1 sine 300 gain 0 2>/dev/null  # full scale: speed 1.1 clips
echo "u1 $WORK/aug/loud.wav" >aug/in/wav.scp; echo "u1 en" >aug/in/utt2lang
echo "u1 s1" >aug/in/utt2spk; echo "u1 p1" >aug/in/utt2prompt; echo "u1 1.0" >aug/in/utt2dur
bash "$ROOT/recipes/asterisk/local/augment_speed.sh" aug/in aug/sp 0.9 1.1
bash "$ROOT/recipes/asterisk/local/augment_gsm.sh" aug/sp aug/gsm
[[ $(wc -l <aug/gsm/wav.scp) == 6 ]] || fail "augmentation lists: $(cat aug/gsm/wav.scp)"
while read -r utt cmd; do
  [[ $cmd == *'|' ]] || continue
  sh -c "${cmd%|}" >aug/out.wav 2>aug/err.txt || fail "augmentation command failed: $cmd"
  [[ -s aug/out.wav ]] || fail "augmentation command wrote no audio: $cmd"
  [[ ! -s aug/err.txt ]] || fail "augmentation command for $utt wrote to stderr: $(head -2 aug/err.txt)"
done <aug/gsm/wav.scp

note "all checks passed"
