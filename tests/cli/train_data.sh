#!/usr/bin/env bash
# Issue 10 item 6 through the program: `slid train` checks its data before any work and reports every
# problem in one pass, one line each naming the file (and line) and the problem; a bad list line or an
# empty language folder is skipped as a batch skips a bad file (exit 3), but data left with a language
# without audio or fewer than 2 languages is refused (exit 1); files of a language folder that slid
# does not read are named with the reason; a UTF-8 byte-order mark at the start of a list is ignored.
# Usage: bash train_data.sh <slid-binary> <tests/data dir>. Needs sox, mkfifo, timeout.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"  # fail, note, skip, run, run_limit, said, said_both, no_temp_files
SLID=$(realpath "$1")
for tool in sox timeout mkfifo; do command -v $tool >/dev/null || { echo "train_data: $tool not installed"; exit 1; }; done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-train-data.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

RUN_TIMEOUT=60  # a FIFO in a folder must not block the scan: a hang fails
no_features() { ! grep -q "features" last.err || fail "train computed features before refusing the data"; }
TRAIN=(--num-gauss 2 --iters 1 --sample-frequency 8000 --high-freq -200)

mkdir -p data/lo data/hi
for i in 1 2; do
  sox -n -r 8000 -b 16 data/lo/a$i.wav synth 1 sine $((200 + 50 * i))-$((900 + 90 * i)) vol 0.4 tremolo 3 60 2>/dev/null
  sox -n -r 8000 -b 16 data/hi/b$i.wav synth 1 pinknoise vol 0.3 tremolo $((2 + i)) 70 2>/dev/null
done

# ---- a folder: an empty language folder is skipped (exit 3); other files are named with the reason -------
mkdir -p folder/empty && cp -r data/lo data/hi folder/
printf 'm4a bytes' >folder/lo/talk.m4a
mkfifo folder/hi/pipe.wav
printf 'x' >folder/empty/readme.txt
run 3 "$SLID" train folder -o f.slid "${TRAIN[@]}"
said "folder/empty" "language folder 'empty' holds no audio files; skipped"
said "folder/lo/talk.m4a: ignored: '.m4a' is not an audio format slid reads"
said "folder/hi/pipe.wav: ignored: a named pipe (FIFO)"
said "folder/empty/readme.txt: ignored:"
[[ -s f.slid ]] || fail "no model written"
"$SLID" info f.slid >info.txt
grep -q '^languages: *2$' info.txt && grep -q '^  hi  ' info.txt && grep -q '^  lo  ' info.txt ||
  fail "model languages: $(cat info.txt)"
# ...but a folder left with one language is refused, naming every problem.
mkdir -p one/lo one/nothing && cp data/lo/*.wav one/lo/
run 1 "$SLID" train one -o o.slid "${TRAIN[@]}"
said "one/nothing" "holds no audio files"
said "needs at least 2 languages with audio; the data has 1 (lo)"
no_features
[[ ! -e o.slid ]] || fail "a model was written for one language"

# ---- a TSV list: every bad line named in one pass, the good ones trained on (exit 3) ---------------------
{ printf '\xef\xbb\xbf%s\tlo\n' "$WORK/data/lo/a1.wav"   # a byte-order mark before the first path
  printf 'no tab\n'
  printf '%s\thi\n' "$WORK/data/hi/b1.wav"
  printf '%s\t\n' "$WORK/data/hi/b2.wav"
  printf '%s\tlo\n' "$WORK/data/lo/a1.wav"
  printf '%s\thi\n' "$WORK/missing.wav"
  printf '%s\tlo\n' "$WORK/data/lo/a2.wav"; } >list.tsv
run 3 "$SLID" train list.tsv -o l.slid "${TRAIN[@]}"
said "list.tsv:2: expected '<path><TAB><language>', got 'no tab'; line skipped"
said "list.tsv:4: empty language; line skipped"
said "list.tsv:5:" "is listed again (first at line 1)"
said "missing.wav" "No such file"
! grep -q "a1.wav: cannot\|a1.wav: no such" last.err || fail "the byte-order mark became part of the first path"
grep -q "3 files in 2 languages" last.err || fail "not the 3 good files trained on"
[[ -s l.slid ]] || fail "no model written from the good lines"
# Bad labels, a language whose only file is missing: all in one error, before any features.
printf '%s\ten US\n%s\ten/US\n%s\tgone\n%s\tlo\n' "$WORK/data/lo/a1.wav" "$WORK/data/lo/a2.wav" "$WORK/nope.wav" \
  "$WORK/data/hi/b1.wav" >bad.tsv
run 1 "$SLID" train bad.tsv -o b.slid "${TRAIN[@]}"
said "bad language label(s) 'en US', 'en/US'" "language 'gone' has no usable audio"
said "nope.wav" "No such file"
no_features

# ---- a Kaldi data directory with byte-order marks and bad lines --------------------------------------------
mkdir kd
{ printf '\xef\xbb\xbfu1 %s\n' "$WORK/data/lo/a1.wav"; printf 'lonely\n'; printf 'u2 %s\n' "$WORK/data/hi/b1.wav"
  printf 'u3 %s\n' "$WORK/data/hi/b2.wav"; } >kd/wav.scp
printf '\xef\xbb\xbfu1 lo\nu2 hi\nu9 hi\n' >kd/utt2lang
run 3 "$SLID" train kd -o k.slid "${TRAIN[@]}"
said "kd/wav.scp:2: expected '<utt-id> <path>'" "line skipped"
said "kd/wav.scp:4: utterance 'u3' has no entry in" "utt2lang; skipped"
said "kd/utt2lang:3: utterance 'u9' has no entry in"
[[ -s k.slid ]] || fail "no model from the Kaldi directory"

grep -q '^  data_problems  3$' <("$SLID" info k.slid) || fail "info does not show the data problems"

# ---- eval and identify --data report the same problems and exit 3 -------------------------------------------
run 3 "$SLID" eval --model f.slid list.tsv -o ev --quiet
said "list.tsv:2: expected '<path><TAB><language>'"
[[ -s ev/report.json ]] || fail "eval wrote no report"
run 3 "$SLID" identify --model f.slid --data list.tsv
said "list.tsv:4: empty language; line skipped"
said "missing.wav" "o such file"
[[ $(tail -n +2 last.out | wc -l) == 3 ]] || fail "identify --data: not the 3 good files scored: $(cat last.out)"
echo "train_data: all checks passed"
