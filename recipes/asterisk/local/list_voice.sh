#!/usr/bin/env bash
# Lists the sound files of one Debian Asterisk sound package, converted to 8 kHz WAV where needed.
#   local/list_voice.sh <lang> <speaker> <package> <skip-regex> <min-seconds> <wav-dir>
# Prints tab-separated lines: lang, speaker, prompt name, WAV path, duration in seconds.
# The prompt name is the path below the voice directory without extension ("digits/7"), the same
# across languages and packs. Raw GSM files (.gsm, no header) are decoded with sox into <wav-dir>.
# Files whose prompt matches <skip-regex> or that last less than <min-seconds> are reported on
# stderr and left out.
set -euo pipefail
[ $# -eq 6 ] || { echo "usage: $0 <lang> <speaker> <package> <skip-regex> <min-seconds> <wav-dir>" >&2; exit 2; }
lang=$1; spk=$2; pkg=$3; skip=$4; min_s=$5; wavdir=$6
root=/usr/share/asterisk/sounds
files=$(dpkg -L "$pkg" 2>/dev/null | grep -E '\.(wav|gsm)$' | sort -u) || true
[ -n "$files" ] || { echo "$0: package $pkg is not installed or has no sounds (tools/install-deps.sh --recipes)" >&2; exit 1; }
n_skip=0
while read -r f; do
  rel=${f#"$root"/}
  prompt=${rel#*/}; prompt=${prompt%.*}
  if [[ $prompt =~ $skip ]]; then n_skip=$((n_skip + 1)); continue; fi
  case $f in
    *.gsm)
      out=$wavdir/$spk/$prompt.wav
      mkdir -p "$(dirname "$out")"
      [ -s "$out" ] || sox -q -t gsm -r 8000 -c 1 "$f" -b 16 "$out.tmp.wav"
      [ -s "$out" ] || mv "$out.tmp.wav" "$out"
      wav=$out ;;
    *) wav=$f ;;
  esac
  dur=$(soxi -D "$wav")
  if awk -v d="$dur" -v m="$min_s" 'BEGIN { exit !(d < m) }'; then n_skip=$((n_skip + 1)); continue; fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$lang" "$spk" "$prompt" "$wav" "$dur"
done <<< "$files"
echo "$pkg: skipped $n_skip non-speech or too short files" >&2
