#!/usr/bin/env bash
# Regenerates the seed corpus of fuzz target fuzz_audio (tests/data/fuzz/fuzz_audio/). Each seed is
# one byte choosing the target rate (0: native, 1: 8 kHz, 2: 16 kHz, 3: 44.1 kHz) followed by a tiny audio file
# made with sox: 20 ms of a 440 Hz tone in many formats, plus a few damaged ones.
set -euo pipefail
out="$(dirname "$0")/fuzz_audio"
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
seed() {  # $1 name, $2 rate selector byte (0..3), $3 file
  { printf "\\x0$2"; cat "$3"; } >"$out/$1"
}
synth() {  # $1 file, rest: sox output options
  local f="$1"; shift
  sox -n -R "$@" "$f" synth 0.02 sine 440 vol 0.5
}
synth "$tmp/s16.wav" -r 8000 -b 16 -e signed-integer;     seed wav_s16_8k 2 "$tmp/s16.wav"
synth "$tmp/u8.wav" -r 8000 -b 8 -e unsigned-integer;     seed wav_u8_8k 0 "$tmp/u8.wav"
synth "$tmp/s24.wav" -r 16000 -b 24 -c 2;                 seed wav_s24_stereo_16k 1 "$tmp/s24.wav"
synth "$tmp/f32.wav" -r 16000 -b 32 -e floating-point;    seed wav_f32_16k 0 "$tmp/f32.wav"
synth "$tmp/f64.wav" -r 11025 -b 64 -e floating-point;    seed wav_f64_11k 2 "$tmp/f64.wav"
synth "$tmp/ulaw.wav" -r 8000 -e u-law;                   seed wav_ulaw_8k 2 "$tmp/ulaw.wav"
synth "$tmp/a.flac" -r 16000 -b 16;                       seed flac_16k 1 "$tmp/a.flac"
synth "$tmp/a.aiff" -r 8000 -b 16;                        seed aiff_8k 2 "$tmp/a.aiff"
synth "$tmp/a.au" -r 8000 -b 16;                          seed au_8k 0 "$tmp/a.au"
synth "$tmp/a.w64" -r 8000 -b 16;                         seed w64_8k 0 "$tmp/a.w64"
synth "$tmp/c8.wav" -r 8000 -b 16 -c 8;                   seed wav_8ch_8k 2 "$tmp/c8.wav"
synth "$tmp/a.ogg" -r 8000;                               seed ogg_8k 2 "$tmp/a.ogg"
head -c 100 "$tmp/s16.wav" >"$tmp/trunc.wav";             seed wav_truncated 0 "$tmp/trunc.wav"
head -c 200 "$tmp/a.flac" >"$tmp/trunc.flac";             seed flac_truncated 2 "$tmp/trunc.flac"
head -c 44 "$tmp/s16.wav" >"$tmp/empty.wav";              seed wav_header_only 0 "$tmp/empty.wav"
printf 'this is not audio\n' >"$tmp/text";               seed not_audio 0 "$tmp/text"
synth "$tmp/r1k.wav" -r 1000 -b 16;                       seed wav_1000hz_to_44k 3 "$tmp/r1k.wav"
synth "$tmp/r384k.wav" -r 384000 -b 16;                   seed wav_384khz_to_8k 1 "$tmp/r384k.wav"
# Rates out of range: a header claiming 1 Hz (was resampled 16000-fold) and one claiming 2 GHz.
cp "$tmp/s16.wav" "$tmp/r1.wav"
printf '\x01\x00\x00\x00\x02\x00\x00\x00' | dd of="$tmp/r1.wav" bs=1 seek=24 conv=notrunc status=none
seed wav_claims_1hz 2 "$tmp/r1.wav"
cp "$tmp/s16.wav" "$tmp/r2g.wav"
printf '\x00\x94\x35\x77\x00\x28\x6b\xee' | dd of="$tmp/r2g.wav" bs=1 seek=24 conv=notrunc status=none
seed wav_claims_2ghz 1 "$tmp/r2g.wav"
