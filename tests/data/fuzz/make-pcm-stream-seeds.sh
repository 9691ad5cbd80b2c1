#!/usr/bin/env bash
# Regenerates the seed corpus of fuzz target fuzz_pcm_stream (tests/data/fuzz/fuzz_pcm_stream/). Each
# seed is one options byte (bit 0: raw s16le at 16 kHz declared; bits 1-2: target rate 0/8k/16k/0)
# followed by the stream: 20 ms of a 440 Hz tone as sox writes WAV into a pipe (data size 0xFFFFFFFF)
# or into a file, float WAV, stereo, raw PCM, and a few damaged or non-audio streams.
set -euo pipefail
out="$(dirname "$0")/fuzz_pcm_stream"
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
seed() {  # $1 name, $2 options byte (0..7), $3 file
  { printf "\\x0$2"; cat "$3"; } >"$out/$1"
}
synth() {  # $1 sox output type, $2 file, rest: sox output options
  local t="$1" f="$2"; shift 2
  sox -n -R "$@" -t "$t" - synth 0.02 sine 440 vol 0.5 >"$f"
}
synth wav "$tmp/pipe.wav" -r 16000 -b 16 -e signed-integer;        seed wav_pipe_s16_16k 0 "$tmp/pipe.wav"
sox -n -R -r 8000 -b 16 "$tmp/file.wav" synth 0.02 sine 440 vol 0.5; seed wav_file_s16_8k_to16k 4 "$tmp/file.wav"
synth wav "$tmp/f32.wav" -r 16000 -b 32 -e floating-point;          seed wav_pipe_f32_16k 2 "$tmp/f32.wav"
synth wav "$tmp/st.wav" -r 16000 -b 16 -c 2;                        seed wav_pipe_stereo 0 "$tmp/st.wav"
synth wav "$tmp/u8.wav" -r 8000 -b 8 -e unsigned-integer;           seed wav_u8_refused 0 "$tmp/u8.wav"
synth raw "$tmp/a.raw" -r 16000 -b 16 -e signed-integer;            seed raw_s16 1 "$tmp/a.raw"
synth raw "$tmp/b.raw" -r 16000 -b 16 -e signed-integer;            seed raw_s16_to8k 3 "$tmp/b.raw"
head -c 30 "$tmp/pipe.wav" >"$tmp/cut.wav";                         seed wav_cut_header 0 "$tmp/cut.wav"
printf 'hello, not audio\n' >"$tmp/t.txt";                          seed not_audio 0 "$tmp/t.txt"
synth flac "$tmp/a.flac" -r 16000 -b 16;                            seed flac_refused 0 "$tmp/a.flac"
