#!/usr/bin/env bash
# A disk that fills while slid writes (issue 5): train and features fail with one line saying the
# disk is full, leave no partial file or temporary file, and the model that was there before is
# still intact. Uses a 128 KiB tmpfs, so it needs mount (root or CAP_SYS_ADMIN); elsewhere it exits
# 77, which ctest reports as Skipped (SKIP_RETURN_CODE), not Passed.
# Usage: bash errors_full_disk.sh <slid-binary> <tests/data dir>
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"  # fail, note, skip, run, run_limit, said, said_both, no_temp_files
SLID=$(realpath "$1")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-fulldisk.XXXXXX")
MNT=""
trap 'if [[ -n $MNT ]]; then umount "$MNT" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
cd "$WORK"
RUN_TIMEOUT=120
mkdir -p full data/lo data/hi
mount -t tmpfs -o size=128k slid-full-disk full 2>/dev/null || skip "cannot mount a tmpfs (not root?)"
MNT=$WORK/full
for i in 1 2; do
  sox -n -r 16000 -b 16 data/lo/a$i.wav synth 2 sine $((200 + 50 * i))-900 vol 0.4 tremolo 3 100 2>/dev/null  # a steady tone is no_speech
  sox -n -r 16000 -b 16 data/hi/b$i.wav synth 2 pinknoise vol 0.3 tremolo $((2 + i)) 70 2>/dev/null
done
run 0 "$SLID" train data -o m.slid --num-gauss 4 --iters 2 --quiet
# The previous model goes on the small disk first (it must fit: checked), then the disk is filled.
cp m.slid full/prev.slid || fail "the previous model does not fit on the test tmpfs"
cmp -s m.slid full/prev.slid || fail "the previous model was not copied whole"
dd if=/dev/zero of=full/filler bs=4k 2>/dev/null || true
run 1 "$SLID" train data -o full/prev.slid --num-gauss 8 --iters 2 --quiet
said_both full/prev.slid "no space"
cmp -s m.slid full/prev.slid || fail "the previous model was damaged by a write to a full disk"
run 1 "$SLID" train data -o full/new.slid --num-gauss 4 --iters 2 --quiet
said_both full/new.slid "no space"
[[ ! -e full/new.slid ]] || fail "a partial model was left on the full disk"
! compgen -G "full/*.tmp.*" >/dev/null || fail "temporary files left: $(ls full)"
# Each output file fails on its own: reported per file (exit 3), nothing partial left.
run 3 "$SLID" features --out-dir full/feats data/lo/a1.wav data/hi/b1.wav
said_both a1.npy "no space left"
said_both b1.npy "no space left"
[[ -z $(ls full/feats) ]] || fail "partial feature files on the full disk: $(ls full/feats)"
echo "errors_full_disk: all checks passed"
