#!/usr/bin/env bash
# What a person sees on an 80-column terminal (issue 10, item 9), run in a pseudo-terminal
# (/usr/bin/python3's pty; no other tool needed) and replayed through a small terminal emulator
# (80 columns, auto-wrap, \r, \n, ESC[K) to get the screen a person would be left with:
#  - every row of the final screen is a whole line: a progress line cut to the width, or a line of
#    its own; no stale fragment of a wrapped status line (a line wider than the terminal wrapped,
#    and the redraw then cleared only its last row);
#  - EM leaves one line per language (it left one per iteration: 20 per language here);
#  - a wav.scp command's stderr (a sox-style warning) appears as a line of its own, not inside the
#    status line;
#  - every time-left estimate says what it is for.
# Usage: bash progress_tty.sh <slid-binary> <tests/data dir>
set -euo pipefail
SLID=$(realpath "$1")
PY=/usr/bin/python3
[[ -x $PY ]] || { echo "progress_tty: $PY not found"; exit 1; }
command -v sox >/dev/null || { echo "progress_tty: sox not installed"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slid-progress.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "progress_tty: FAIL: $*" >&2; exit 1; }

# Six "languages" with long names (so that status lines are wider than 80 columns), two files each;
# one file comes from a command that also writes a warning to its stderr, as sox does.
LANGS=(lang_alpha_with_a_long_name lang_bravo_with_a_long_name lang_charlie_long lang_delta_long lang_echo lang_foxtrot)
mkdir -p kdir audio
: >kdir/wav.scp; : >kdir/utt2lang
i=0
for l in "${LANGS[@]}"; do
  for j in 1 2; do
    i=$((i + 1))
    sox -n -r 8000 -b 16 "audio/$l-$j.wav" synth 2 sine $((150 + 60 * i))-$((700 + 80 * i)) vol 0.4 tremolo $((2 + j)) 100 2>/dev/null
    if [[ $i == 3 ]]; then
      echo "utt$i sh -c 'echo \"sox WARN rate: rate clipped 12 samples; decrease volume?\" >&2; cat $WORK/audio/$l-$j.wav' |" >>kdir/wav.scp
    else
      echo "utt$i $WORK/audio/$l-$j.wav" >>kdir/wav.scp
    fi
    echo "utt$i $l" >>kdir/utt2lang
  done
done

cat >screen.py <<'PYEOF'
import os, pty, sys, fcntl, termios, struct, select
cols, argv = int(sys.argv[1]), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack('HHHH', 24, cols, 0, 0))
    os.environ.pop('COLUMNS', None)
    os.execv(argv[0], argv)
raw = b''
while True:
    try:
        r, _, _ = select.select([fd], [], [], 120)
        if not r: break
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk: break
    raw += chunk
_, status = os.waitpid(pid, 0)
open('raw.out', 'wb').write(raw)
# Replay on an emulated terminal: auto-wrap at `cols`, \r, \n, ESC[K (erase to end of line).
rows, r, c = [[]], 0, 0
text, i = raw.decode('utf-8', 'replace'), 0
while i < len(text):
    ch = text[i]
    if ch == '\x1b' and text[i + 1:i + 3] == '[K':
        del rows[r][c:]; i += 3; continue
    if ch == '\r': c = 0
    elif ch == '\n':
        r += 1; c = 0
        if r == len(rows): rows.append([])
    else:
        if c >= cols:
            r += 1; c = 0
            if r == len(rows): rows.append([])
        row = rows[r]
        row.extend(' ' * (c - len(row)))
        if c < len(row): row[c] = ch
        else: row.append(ch)
        c += 1
    i += 1
with open('screen.out', 'w') as f:
    for row in rows:
        f.write(''.join(row).rstrip() + '\n')
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') else status >> 8)
PYEOF

set +e
$PY screen.py 80 "$SLID" train kdir -o m.slid --num-gauss 4 --iters 20 --sample-frequency 8000 --high-freq -200
rc=$?
set -e
[[ $rc == 0 ]] || { cat screen.out >&2; fail "train exited $rc in the pseudo-terminal"; }
sed -i '/^$/d' screen.out
echo "progress_tty: final screen:"; sed 's/^/  | /' screen.out

awk 'length($0) > 80' screen.out | grep -q . && fail "a screen row is wider than 80 columns"
# Every row is a progress line, the continuation of a folded permanent line (indented by two), or the
# child's warning: a fragment of a wrapped status line starts otherwise.
bad=$(grep -v -e '^slid train: ' -e '^  [^ ]' -e '^sox WARN rate: ' screen.out || true)
[[ -z $bad ]] || fail "stale or broken rows on the screen: $bad"
grep -qx 'sox WARN rate: rate clipped 12 samples; decrease volume?' screen.out ||
  fail "the child's warning is not a line of its own"
for l in "${LANGS[@]}"; do
  n=$(grep -c "^slid train: EM $l " screen.out || true)
  [[ $n == 1 ]] || fail "EM for $l left $n lines on the screen, expected 1"
done
grep -q '^slid train: EM done: 6 languages' screen.out || fail "no EM summary line"
# Time-left estimates are labelled ("phase: ~3 s left", "total: ~1 min left"), label first so that
# cutting the line cannot separate them.
unlabelled=$(tr '\r' '\n' <raw.out | grep -o '.\{0,10\}~[0-9]' | grep -v -e 'phase: ~' -e 'total: ~' || true)
[[ -z $unlabelled ]] || fail "unlabelled time-left estimate: $(head -1 <<<"$unlabelled")"
echo "progress_tty: all checks passed"
