#!/usr/bin/env bash
# A file without read permission (audio or model) is reported as "permission denied" (issue 5).
# root reads a chmod 000 file anyway, so as root the program runs as 'nobody' (setpriv). Where that
# cannot be done the test exits 77, which ctest reports as Skipped (SKIP_RETURN_CODE), not Passed.
# Usage: bash errors_unreadable.sh <slid-binary> <tests/data dir>
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"  # fail, note, skip, run, run_limit, said, said_both, no_temp_files
SLID=$(realpath "$1")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-unreadable.XXXXXX")
trap 'chmod -R u+rwX "$WORK"; rm -rf "$WORK"' EXIT
cd "$WORK"
RUN_TIMEOUT=60
AS_USER=()
if [[ $(id -u) == 0 ]]; then
  command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 || skip "running as root without setpriv or user nobody"
  AS_USER=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups)
  chmod 755 "$WORK"
fi
"${AS_USER[@]}" test -x "$SLID" 2>/dev/null || skip "$SLID is not executable by $("${AS_USER[@]}" id -un)"
RUN_PREFIX=("${AS_USER[@]}")
mkdir -p data/lo data/hi
sox -n -r 16000 -b 16 data/lo/a.wav synth 2 sine 300-900 vol 0.4 tremolo 3 100 2>/dev/null  # steady sounds are no_speech
sox -n -r 16000 -b 16 data/hi/b.wav synth 2 pinknoise vol 0.3 tremolo 3 70 2>/dev/null
"$SLID" train data -o m.slid --num-gauss 2 --iters 1 --quiet || fail "cannot train the test model"
chmod 644 m.slid
cp data/lo/a.wav locked.wav && chmod 000 locked.wav
run 3 "$SLID" identify --model m.slid locked.wav
said_both locked.wav "permission denied"
cp m.slid locked.slid && chmod 000 locked.slid
run 1 "$SLID" info locked.slid
said_both locked.slid "permission denied"
echo "errors_unreadable: all checks passed"
