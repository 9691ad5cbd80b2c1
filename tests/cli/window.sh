#!/usr/bin/env bash
# Windowed and streaming identification (slid identify --window / --stream) on real speech.
#  1. A recording of Spanish followed by one of French (real-v1, gcompris-voices: speakers
#     Smart4Kids.com(org) and Zohra Coudoin), scored by a 2-language model trained here on four
#     OTHER recordings of the same two speakers: the timeline must be es then fr, with its change
#     point within 1 s of the true join.
#  2. The same audio streamed through a FIFO by a slow writer: a decided running line must appear
#     while the writer still holds the pipe open (it waits for it before writing the rest), and the
#     final decision must equal that of the whole stream read at once, and of the raw-PCM stream.
#     (Both use the causal frontend; `slid identify FILE` uses the whole-file one and may score a
#     little differently: only its decision on the Spanish half is compared.)
#  3. --early-stop ends the stream early with exit 0.
#  4. Bad options and a non-audio stream: one line on stderr, the documented exit code.
#  5. A gap of faint noise gets windows with status no_speech and a '-' run in the timeline.
# Usage: bash window.sh <slid-binary> <tests/data dir>
set -euo pipefail
SLID=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SLID_SHARED_DIR:-$ROOT/../shared}  # ctest sets SLID_SHARED_DIR; missing data fails the test
CORPUS=$SHARED/corpora/real-v1/audio/gcompris-voices
PY=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "window: FAIL: $*" >&2; exit 1; }
[ -d "$CORPUS" ] || fail "no corpus at $CORPUS (set SLID_SHARED_DIR)"
$PY -c 'import soundfile' 2> /dev/null || { echo "window: skipped: python3-soundfile (Opus decoding) missing"; exit 77; }

ES=$CORPUS/es/Smart4Kids.comorg/es_Smart4Kids.comorg_0039.opus
FR=$CORPUS/fr/Zohra_Coudoin/fr_Zohra_Coudoin_0019.opus
# Decode, join, and write the WAV, the raw PCM and the true change point (the Spanish length).
$PY - "$ES" "$FR" "$tmp" <<'EOF'
import sys, numpy as np, soundfile as sf
es, r1 = sf.read(sys.argv[1], dtype='int16'); fr, r2 = sf.read(sys.argv[2], dtype='int16')
assert r1 == r2 == 16000
both = np.concatenate([es, fr])
sf.write(sys.argv[3] + '/esfr.wav', both, 16000, subtype='PCM_16')
sf.write(sys.argv[3] + '/es.wav', es, 16000, subtype='PCM_16')
both.astype('<i2').tofile(sys.argv[3] + '/esfr.raw')
open(sys.argv[3] + '/truth', 'w').write('%.4f\n' % (len(es) / 16000))
open(sys.argv[3] + '/total', 'w').write('%.2f\n' % (len(both) / 16000))
EOF
truth=$(cat "$tmp/truth")

for i in 0 1 2 3; do
  printf '%s\tes\n' "$CORPUS/es/Smart4Kids.comorg/es_Smart4Kids.comorg_000$i.opus"
  printf '%s\tfr\n' "$CORPUS/fr/Zohra_Coudoin/fr_Zohra_Coudoin_000$i.opus"
done > "$tmp/train.tsv"
"$SLID" train "$tmp/train.tsv" -o "$tmp/m.slid" --num-gauss 32 --iters 8 -q || fail "training the 2-language model"

# ---- 1. windows and timeline
"$SLID" identify --model "$tmp/m.slid" --window 3 --hop 1 "$tmp/esfr.wav" > "$tmp/win.tsv" || fail "identify --window"
head -1 "$tmp/win.tsv" | grep -q $'^kind\tpath\tstart_s\tend_s\tlanguage\tscore\tstatus\tspeech_seconds\tllk_es\tllk_fr\tpost_es\tpost_fr$' \
  || fail "window header: $(head -1 "$tmp/win.tsv")"
awk -F'\t' 'NR > 1 && NF != 12 { exit 1 }' "$tmp/win.tsv" || fail "a line without 12 columns"
nwin=$(grep -c '^window' "$tmp/win.tsv")
# 61.2 s of audio, 3 s windows every 1 s: starts 0..59, the last cut short by the end.
[ "$nwin" = 60 ] || fail "expected 60 windows, got $nwin"
awk -F'\t' '$1 == "window" { if ($3 != sprintf("%.2f", n) || $7 != "ok") exit 1; n++ }' "$tmp/win.tsv" \
  || fail "window starts or statuses wrong"
grep '^run' "$tmp/win.tsv" | cut -f3-5 > "$tmp/runs"
cat "$tmp/runs"
[ "$(cut -f3 "$tmp/runs" | tr '\n' ' ')" = "es fr " ] || fail "timeline is not es then fr: $(tr '\n' ' ' < "$tmp/runs")"
change=$(sed -n 2p "$tmp/runs" | cut -f1)
awk -v c="$change" -v t="$truth" 'BEGIN { d = c - t; if (d < 0) d = -d; exit !(d <= 1.0) }' \
  || fail "change point $change s is more than 1 s from the truth $truth s"
[ "$(tail -1 "$tmp/runs" | cut -f2)" = "$(cat "$tmp/total")" ] || fail "timeline does not end at the end of the audio"
echo "window: change point $change s (truth $truth s)"
# A 6 s gap of faint noise between two Spanish stretches: its windows get no_speech, the timeline a
# '-' run whose ends are within half a window (1.5 s) of the gap's: a window holding any speech next to
# the gap gets a decision, so the run shrinks by up to that much at each end.
sox -n -r 16000 -b 16 -c 1 "$tmp/gap.wav" synth 6 whitenoise vol 0.001
sox "$tmp/es.wav" "$tmp/gap.wav" "$tmp/es.wav" "$tmp/es-gap-es.wav"
"$SLID" identify --model "$tmp/m.slid" --window 3 --hop 1 "$tmp/es-gap-es.wav" > "$tmp/gap.tsv" || fail "identify --window (gap)"
grep -q $'^window\t.*\t-\t-\tno_speech\t' "$tmp/gap.tsv" || fail "no window of the gap got no_speech"
grep '^run' "$tmp/gap.tsv" | cut -f3-5 > "$tmp/gapruns"
[ "$(cut -f3 "$tmp/gapruns" | tr '\n' ' ')" = "es - es " ] || fail "gap timeline: $(tr '\n' ' ' < "$tmp/gapruns")"
awk -F'\t' -v t="$truth" 'NR == 2 { a = $1 - t; b = $2 - (t + 6); if (a < 0) a = -a; if (b < 0) b = -b; exit !(a <= 1.5 && b <= 1.5) }' \
  "$tmp/gapruns" || fail "gap run $(sed -n 2p "$tmp/gapruns") is not within 1.5 s of [$truth, $truth + 6]"
# JSON lines: every line parses; kinds window then run.
"$SLID" identify --model "$tmp/m.slid" --window 3 --hop 1 --json "$tmp/esfr.wav" > "$tmp/win.json"
$PY - "$tmp/win.json" <<'EOF' || fail "JSON lines"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
kinds = [l['kind'] for l in lines]
assert kinds == ['window'] * 60 + ['run'] * 2, kinds
assert lines[-1]['language'] == 'fr' and lines[0]['status'] == 'ok'
EOF

# ---- 2. streaming through a FIFO, written slowly
mkfifo "$tmp/fifo"
"$SLID" identify --model "$tmp/m.slid" --stream --hop 1 "$tmp/fifo" > "$tmp/slow.tsv" &
reader=$!
# The writer sends the header and 4 s of audio, then waits (up to 60 s) for a decided running line
# before sending the rest; it records whether the line came while the pipe was still open.
$PY - "$tmp/esfr.wav" "$tmp/fifo" "$tmp/slow.tsv" "$tmp/seen" <<'EOF'
import sys, time
data = open(sys.argv[1], 'rb').read()
head = 44 + 4 * 32000
with open(sys.argv[2], 'wb', buffering=0) as f:
    f.write(data[:head])
    seen = 'no'
    for _ in range(600):
        if any(l.startswith('running') and l.split('\t')[4] != '-' for l in open(sys.argv[3])):
            seen = 'yes'
            break
        time.sleep(0.1)
    open(sys.argv[4], 'w').write(seen)
    for i in range(head, len(data), 65536):
        f.write(data[i:i + 65536])
EOF
wait $reader || fail "streaming from the FIFO failed"
[ "$(cat "$tmp/seen")" = yes ] || fail "no decided running line before the writer closed the pipe"
"$SLID" identify --model "$tmp/m.slid" --stream --hop 1 - < "$tmp/esfr.wav" > "$tmp/fast.tsv" || fail "stream from stdin"
"$SLID" identify --model "$tmp/m.slid" --stream --hop 1 --stream-format s16le --stream-rate 16000 - < "$tmp/esfr.raw" \
  > "$tmp/raw.tsv" || fail "raw stream"
for f in slow fast raw; do
  [ "$(tail -1 "$tmp/$f.tsv" | cut -f1)" = final ] || fail "$f: last line is not final"
  [ "$(grep -c '^running' "$tmp/$f.tsv")" = 61 ] || fail "$f: expected 61 running lines (one per second)"
done
# Final lines: same decision, speech and scores (to printed precision, 1e-4 relative) whatever the pieces.
paste <(tail -1 "$tmp/slow.tsv" | cut -f5- | tr '\t' '\n') <(tail -1 "$tmp/fast.tsv" | cut -f5- | tr '\t' '\n') \
  <(tail -1 "$tmp/raw.tsv" | cut -f5- | tr '\t' '\n') | awk -F'\t' '
  function close_(a, b) { if (a == b) return 1; d = a - b; if (d < 0) d = -d; m = a < 0 ? -a : a; return d <= 1e-4 * (1 + m) }
  { if (!close_($1, $2) || !close_($1, $3)) { print "differs: " $0; bad = 1 } } END { exit bad }' \
  || fail "final decisions of the slow FIFO, stdin and raw streams differ"
tail -1 "$tmp/fast.tsv" | cut -f1,4-8
# The Spanish half alone: the streamed (causal) decision equals the whole-file one.
s=$("$SLID" identify --model "$tmp/m.slid" --stream - < "$tmp/es.wav" | tail -1 | cut -f5)
w=$("$SLID" identify --model "$tmp/m.slid" "$tmp/es.wav" | tail -1 | cut -f2)
[ "$s" = es ] && [ "$w" = es ] || fail "es.wav: streamed '$s', whole file '$w' (expected es)"

# ---- 3. early stop
"$SLID" identify --model "$tmp/m.slid" --stream --early-stop 0.9 - < "$tmp/esfr.wav" > "$tmp/early.tsv" \
  || fail "early stop did not exit 0"
last=$(tail -1 "$tmp/early.tsv")
[ "$(cut -f1 <<< "$last")" = early_stop ] || fail "last line is not early_stop: $last"
[ "$(cut -f5 <<< "$last")" = es ] || fail "early stop decided $(cut -f5 <<< "$last")"
awk -v e="$(cut -f4 <<< "$last")" 'BEGIN { exit !(e < 10) }' || fail "early stop only at $(cut -f4 <<< "$last") s"
# Three decisions in a row above 0.9 (the default --early-stop-decisions).
tail -3 "$tmp/early.tsv" | awk -F'\t' '$5 != "es" || $11 <= 0.9 { exit 1 }' || fail "early stop before 3 decisions above 0.9"

# ---- 4. bad input: one line on stderr, exit 2 for options, 1 for a stream that is not audio
expect() {  # code pattern command...
  local want=$1 pat=$2 rc=0; shift 2
  "$@" > "$tmp/out" 2> "$tmp/err" || rc=$?
  [ "$rc" = "$want" ] || fail "exit $rc (want $want): $*: $(cat "$tmp/err")"
  [ "$(wc -l < "$tmp/err")" = 1 ] || fail "not one line on stderr: $*: $(cat "$tmp/err")"
  grep -q -- "$pat" "$tmp/err" || fail "stderr lacks '$pat': $(cat "$tmp/err")"
}
expect 2 "--hop" "$SLID" identify --model "$tmp/m.slid" --window 3 --hop 5 "$tmp/es.wav"
expect 2 "--window" "$SLID" identify --model "$tmp/m.slid" --window 0 "$tmp/es.wav"
expect 2 "--window" "$SLID" identify --model "$tmp/m.slid" --window -2 "$tmp/es.wav"
expect 2 "--hop" "$SLID" identify --model "$tmp/m.slid" --hop 1 "$tmp/es.wav"
expect 2 "--stream" "$SLID" identify --model "$tmp/m.slid" --window 3 --stream "$tmp/es.wav"
expect 2 "standard input" "$SLID" identify --model "$tmp/m.slid" --window 3 -
expect 2 "--early-stop" "$SLID" identify --model "$tmp/m.slid" --stream --early-stop 1.5 -
expect 1 "not a WAV stream" sh -c "printf 'hello\nworld\n' | '$SLID' identify --model '$tmp/m.slid' --stream -"
expect 1 "only WAV or raw PCM" sh -c "cat '$ROOT/models/samples/es-conf-onlyperson.wav' | sox -t wav - -t flac - | '$SLID' identify --model '$tmp/m.slid' --stream -"
# A bad file in a windowed batch is reported and skipped (exit 3); the good one is still scored.
rc=0; "$SLID" identify --model "$tmp/m.slid" --window 3 "$tmp/missing.wav" "$tmp/es.wav" > "$tmp/out" 2> "$tmp/err" || rc=$?
[ "$rc" = 3 ] && grep -q '^run' "$tmp/out" && grep -q "missing.wav" "$tmp/err" || fail "windowed batch with a bad file (exit $rc)"
echo "window: ok"
