#!/usr/bin/env bash
# Where inputs come from, through the program: no command is ever run from a plain path list,
# standard input or a file name; audio piped into standard input is one recording; a list is read
# literally (spaces, tabs, '#', a trailing '|', a BOM, CRLF); commands run only from a Kaldi wav.scp
# read as such (--scp FILE, DATA/wav.scp).
# Usage: bash inputs.sh <slid-binary> <tests/data dir>. Needs coreutils and sox.
set -euo pipefail
SLID=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/models/asterisk-5lang/asterisk-5lang.slid  # decisions checked below are those of the 5-language telephone model
EN=$ROOT/models/samples/en-conf-onlyperson.wav
FR=$ROOT/models/samples/fr-conf-onlyperson.wav
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "inputs: FAIL: $*" >&2; exit 1; }
# expect_exit CODE CMD...: runs CMD (stdout -> last.out, stderr -> last.err), checks its exit code.
expect_exit() {
  local want=$1; shift
  set +e
  "$@" >last.out 2>last.err
  local rc=$?
  set -e
  [[ $rc == "$want" ]] || fail "'$*' exited $rc, expected $want: $(head -3 last.err)"
}
no_pwned() { [[ -z $(find "$WORK" -name 'PWNED*' -print -quit) ]] || fail "a command ran: $1"; }

# ---- 1. The injection file name of the issue: a path ending in '|' holding "$(touch PWNED)" ----------
mkdir inj
INJ='inj/$(touch PWNED) |'
cp "$EN" "$INJ"                      # a real recording under that name: it must simply be read
printf 'not audio\n' >'inj/x $(touch PWNED2) |'   # and an unreadable one: reported, nothing run
# 1a. find | slid identify -: both names are paths; the audio one is identified, the other reported.
find inj -type f | sort | { expect_exit 3 "$SLID" identify -m "$MODEL" -; }
no_pwned "find | identify -"
grep -qF "$INJ"$'\ten\t' last.out || fail "the injection-named recording was not identified as a path: $(cat last.out)"
grep -qF 'slid: inj/x $(touch PWNED2) |: cannot read as audio' last.err || fail "bad entry not named literally: $(cat last.err)"
# 1b. --list FILE: the same.
find inj -type f | sort >list.txt
expect_exit 3 "$SLID" identify -m "$MODEL" --list list.txt
no_pwned "identify --list"
grep -qF "$INJ"$'\ten\t' last.out || fail "--list: injection-named recording not identified"
# 1c. as a file name on the command line.
expect_exit 0 "$SLID" identify -m "$MODEL" "$INJ"
no_pwned "identify FILE"
# 1d. slid features --list (it used to read a line with a space as wav.scp and run the rest).
expect_exit 3 "$SLID" features --list list.txt --out-dir feats -q
no_pwned "features --list"
[[ -f "feats/\$(touch PWNED) |.npy" ]] || fail "features --list: the injection-named recording was not processed: $(ls feats)"
# 1e. a TSV list given to eval as DATA: paths only, never commands.
printf '%s\ten\n' "$WORK/$INJ" "$WORK/inj/x \$(touch PWNED2) |" >list.tsv
expect_exit 3 "$SLID" eval -m "$MODEL" list.tsv -o ev --quiet
no_pwned "eval list.tsv"
grep -q '"num_scored": 1' ev/report.json || fail "eval on the TSV did not score the injection-named recording"

# ---- 2. Audio on standard input is one recording ------------------------------------------------
# 2a. A WAV (it used to be read as 332 "paths", some of them run).
expect_exit 0 "$SLID" identify -m "$MODEL" - <"$EN"
no_pwned "WAV on stdin"
[[ $(tail -n +2 last.out | wc -l) == 1 ]] || fail "WAV on stdin: expected one result row: $(cat last.out)"
[[ $(tail -n +2 last.out | cut -f1,2) == "<stdin>"$'\t'"en" ]] || fail "WAV on stdin: $(cat last.out)"
# ...through a pipe (not seekable), and mixed with file arguments.
cat "$FR" | { expect_exit 0 "$SLID" identify -m "$MODEL" "$EN" -; }
[[ $(tail -n +2 last.out | cut -f1,2 | tail -1) == "<stdin>"$'\t'"fr" ]] || fail "piped WAV: $(cat last.out)"
# 2b. Other containers, made by sox: FLAC, Ogg Vorbis, AIFF, Sun .au, and a WAV written into a pipe
#     (its header carries a placeholder length).
for t in flac ogg aiff au; do
  sox "$EN" -t $t - 2>/dev/null | { expect_exit 0 "$SLID" identify -m "$MODEL" -; }
  [[ $(tail -n +2 last.out | cut -f1,2) == "<stdin>"$'\t'"en" ]] || fail "$t on stdin: $(cat last.out) $(cat last.err)"
done
sox "$EN" -t wav - | { expect_exit 0 "$SLID" identify -m "$MODEL" -; }
[[ $(tail -n +2 last.out | cut -f1,2) == "<stdin>"$'\t'"en" ]] || fail "streamed WAV on stdin: $(cat last.out)"
# 2c. Audio that starts right but is broken: one error naming <stdin>, no temporary file left.
head -c 2000 "$EN" | { TMPDIR=$WORK/tmp; mkdir -p "$TMPDIR"; export TMPDIR; expect_exit 3 "$SLID" identify -m "$MODEL" -; }
grep -q '^slid: <stdin>: ' last.err || fail "truncated WAV on stdin: $(cat last.err)"
[[ -z $(ls "$WORK/tmp") ]] || fail "temporary copy of stdin left behind: $(ls "$WORK/tmp")"
# 2d. Binary junk that is not audio is a list of (odd) paths: reported, nothing run.
printf 'RIFX\0\0\0\0 | touch PWNED3 |\n' | { expect_exit 3 "$SLID" identify -m "$MODEL" -; }
no_pwned "junk on stdin"
# 2e. Empty standard input: a usage error.
expect_exit 2 "$SLID" identify -m "$MODEL" - </dev/null

# ---- 3. Lists are read literally ------------------------------------------------------------------
mkdir "odd dir"
cp "$EN" "odd dir/a b.wav"; cp "$FR" $'odd dir/tab\there.wav'; cp "$EN" 'odd dir/#hash.wav'
{ printf '\xef\xbb\xbfodd dir/a b.wav\r\n'; printf 'odd dir/tab\there.wav\r\n\r\n'; printf 'odd dir/#hash.wav\n'; } >odd.txt
expect_exit 0 "$SLID" identify -m "$MODEL" --list odd.txt
# (TSV output shows a tab inside a name as a space.)
[[ $(tail -n +2 last.out | cut -f1 | tr '\n' '|') == "odd dir/a b.wav|odd dir/tab here.wav|odd dir/#hash.wav|" ]] ||
  fail "odd names: $(cat last.out) $(cat last.err)"
[[ $(tail -n +2 last.out | cut -f2 | tr '\n' ' ') == "en fr en " ]] || fail "odd names decided wrongly: $(cat last.out)"
expect_exit 0 "$SLID" identify -m "$MODEL" - <odd.txt
# A 'path<TAB>lang' list is data (--data), not a path list: --list says so.
printf '%s\ten\n' "$EN" >lab.tsv
expect_exit 3 "$SLID" identify -m "$MODEL" --list lab.tsv
grep -q "give it with --data" last.err || fail "no hint for a TSV given to --list: $(cat last.err)"
expect_exit 0 "$SLID" identify -m "$MODEL" --data lab.tsv
[[ $(tail -n +2 last.out | cut -f1,2) == "$EN"$'\t'"en" ]] || fail "--data lab.tsv: $(cat last.out)"

# ---- 4. Commands run only from a Kaldi wav.scp read as such --------------------------------------
printf 'uttA %s\nuttB sh -c "touch RAN; cat %s" |\n' "$EN" "$FR" >wav.scp
expect_exit 0 "$SLID" identify -m "$MODEL" --scp wav.scp
[[ -e RAN ]] || fail "--scp: the command was not run"
[[ $(tail -n +2 last.out | cut -f1,2 | tr '\t\n' ': ') == "uttA:en uttB:fr " ]] || fail "--scp output not keyed by utterance id: $(cat last.out)"
rm RAN
expect_exit 0 "$SLID" features --scp wav.scp --ark ark,t:scp.ark -q
[[ -e RAN ]] || fail "features --scp: the command was not run"
grep -q '^uttB  \[$' scp.ark || fail "features --scp: no uttB in the archive"
rm RAN
# Kaldi segments over the wav.scp recordings: one line per segment, keyed by its id; the piped
# recording's command runs once for its two segments.
printf 'segA uttA 0 -1\nsegB1 uttB 0 1.5\nsegB2 uttB 1.5 -1\n' >segments
expect_exit 0 "$SLID" identify -m "$MODEL" --scp wav.scp --segments segments
[[ -e RAN ]] || fail "--segments: the command was not run"
[[ $(tail -n +2 last.out | cut -f1 | tr '\n' ' ') == "segA segB1 segB2 " ]] || fail "--segments output not keyed by segment id: $(cat last.out)"
[[ $(tail -n +2 last.out | cut -f2 | head -n1) == en ]] || fail "--segments: the whole-recording segment decided wrongly: $(cat last.out)"
rm RAN
expect_exit 2 "$SLID" identify -m "$MODEL" --segments segments "$EN"
# The same wav.scp given as a plain --list is paths, not commands (and not utterance ids).
expect_exit 3 "$SLID" identify -m "$MODEL" --list wav.scp
[[ ! -e RAN ]] || fail "--list ran a wav.scp command"
# A data directory's wav.scp runs its commands too (as in Kaldi).
mkdir kdir && cp wav.scp kdir/ && printf 'uttA en\nuttB fr\n' >kdir/utt2lang
expect_exit 0 "$SLID" eval -m "$MODEL" kdir -o ev_k --quiet
[[ -e RAN ]] || fail "data directory: the wav.scp command was not run"
grep -q '"num_scored": 2' ev_k/report.json || fail "data directory: not both utterances scored"
# A malformed wav.scp line names the file and line.
printf 'uttA %s\nlonely\n' "$EN" >bad.scp
expect_exit 1 "$SLID" identify -m "$MODEL" --scp bad.scp
grep -q 'bad.scp:2: ' last.err || fail "malformed wav.scp line not named: $(cat last.err)"
no_pwned "end"
echo "inputs: all checks passed"
