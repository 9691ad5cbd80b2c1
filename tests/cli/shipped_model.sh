#!/usr/bin/env bash
# The shipped default model on the shipped samples, as the README's first command runs it
# (whisper.cpp-style: a real model through the real program in ctest).
# Checks: the model loads (slid info), identify exits 0 with one well-formed row per sample, every
# posterior row sums to 1, and the five training voices saying a prompt held out of training
# (models/samples/{en,es,fr,it,ru}-conf-onlyperson.wav) are identified as their language.
# Usage: bash shipped_model.sh <slid-binary> <tests/data dir>
set -euo pipefail
SLID=$1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL=$ROOT/models/default.slid
fail() { echo "shipped_model: FAIL: $*" >&2; exit 1; }

"$SLID" info "$MODEL" >/dev/null || fail "slid info cannot read $MODEL"
langs=$("$SLID" info --json "$MODEL" | grep -c '"languages"') || true
[[ $langs -ge 1 ]] || fail "slid info --json has no languages"

out=$("$SLID" identify --model "$MODEL" "$ROOT"/models/samples/*.wav) || fail "identify exited $?"
nsamples=$(ls "$ROOT"/models/samples/*.wav | wc -l)
nrows=$(printf '%s\n' "$out" | tail -n +2 | wc -l)
[[ $nrows == "$nsamples" ]] || fail "$nrows result rows for $nsamples samples"

# Columns: path language score status speech_seconds, then llk_<lang>... and post_<lang>...
printf '%s\n' "$out" | awk -F'\t' '
  NR == 1 { for (i = 6; i <= NF; i++) if ($i ~ /^post_/) post[i] = 1; if (length(post) == 0) { print "no post_ columns"; bad = 1; exit } next }
  {
    if ($4 != "ok") { print "status " $4 " for " $1; bad = 1 }
    s = 0; for (i in post) s += $i
    if (s < 0.999 || s > 1.001) { print "posteriors sum to " s " for " $1; bad = 1 }
  }
  END { exit bad }' || fail "malformed identify output"

for lang in en es fr it ru; do
  got=$(printf '%s\n' "$out" | awk -F'\t' -v f="/$lang-conf-onlyperson.wav" 'index($1, f) { print $2 }')
  [[ $got == "$lang" ]] || fail "$lang-conf-onlyperson.wav identified as '$got'"
done
echo "shipped_model: ok ($nrows samples)"
