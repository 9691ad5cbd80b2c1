# Helpers shared by the tests/cli/*.sh scripts (sourced, not run; ctest runs only tests/cli/*.sh).
# The sourcing script may set, before sourcing:
#   T            the name its messages start with (default: the script's base name)
#   RUN_TIMEOUT  seconds `run` allows a command (default 300): a hang is a failure, not a wait
#   RUN_PREFIX   an array of words put before every command `run` starts (e.g. setpriv to drop root)
# Every `run` writes the command's standard output to last.out and its error output to last.err in
# the current folder; `fail` shows the head of last.err, `said` and `said_both` read it.
T=${T:-$(basename "$0" .sh)}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}
if ! declare -p RUN_PREFIX >/dev/null 2>&1; then RUN_PREFIX=(); fi

fail() { echo "$T: FAIL: $*" >&2; [[ -f last.err ]] && sed 's/^/  stderr: /' last.err | head -30 >&2; exit 1; }
note() { echo "$T: $*"; }
skip() { echo "$T: SKIP: $*"; exit 77; }  # ctest lists exit 77 as Skipped (SKIP_RETURN_CODE)

# run_limit CODE SECONDS CMD...: CMD, with standard input from /dev/null, must exit with CODE within
# SECONDS, and must not have crashed (signal exits, sanitizer reports, uncaught exceptions).
run_limit() {
  local want=$1 secs=$2; shift 2
  set +e; timeout -k 5 "$secs" "${RUN_PREFIX[@]}" "$@" >last.out 2>last.err </dev/null; local got=$?; set -e
  [[ $got != 124 && $got != 137 ]] || fail "timed out after $secs s: $*"
  if grep -q -e 'runtime error:' -e 'AddressSanitizer' -e 'LeakSanitizer' -e 'terminate called' \
       -e 'Segmentation fault' -e 'Aborted' last.err; then fail "crashed: $*"; fi
  [[ $got == "$want" ]] || fail "exit $got, expected $want: $*"
}
# run CODE CMD...: run_limit with RUN_TIMEOUT seconds.
run() { local want=$1; shift; run_limit "$want" "$RUN_TIMEOUT" "$@"; }

# said STRING...: exactly one line of last.err holds every one of the fixed strings.
said() {
  local lines; lines=$(cat last.err)
  for s in "$@"; do lines=$(grep -F -- "$s" <<<"$lines" || true); done
  [[ -n $lines && $(wc -l <<<"$lines") == 1 ]] || fail "expected one stderr line with: $*"
}
# said_both NAME PROBLEM: exactly one line of last.err names NAME (exactly) and says PROBLEM (any case).
said_both() {
  local n; n=$(grep -F -- "$1" last.err | grep -ciF -- "$2" || true)
  [[ $n == 1 ]] || fail "expected one stderr line naming '$1' with '$2', found $n"
}
# no_temp_files DIR: no "<out>.tmp.<pid>" file (an atomic write's temporary) is left in DIR.
no_temp_files() {
  ! compgen -G "$1/*.tmp.*" >/dev/null || fail "temporary files left in $1: $(ls "$1")"
}
# sanitized BINARY: true if BINARY was built with AddressSanitizer (slower, more memory; tests may
# then run a shorter version of a long case, and say so where they do).
sanitized() { grep -q __asan_init "$1"; }
# tone_languages DIR: three "languages" DIR/aa, DIR/bb, DIR/cc of 5 files of 2 s at 8 kHz each (sine
# sweeps, pink noise, brown noise, tremolo: distinct spectra, all voiced), for training tests that
# need data, not speech. Needs sox. Train on them with --sample-frequency 8000 --high-freq -200.
tone_languages() {
  command -v sox >/dev/null || fail "sox not installed"
  mkdir -p "$1/aa" "$1/bb" "$1/cc"
  local i
  for i in 1 2 3 4 5; do
    sox -n -r 8000 -b 16 "$1/aa/a$i.wav" synth 2 sine $((200 + 40 * i))-$((900 + 70 * i)) vol 0.4 tremolo 3 60 2>/dev/null
    sox -n -r 8000 -b 16 "$1/bb/b$i.wav" synth 2 pinknoise vol 0.3 tremolo $((2 + i)) 70 2>/dev/null
    sox -n -r 8000 -b 16 "$1/cc/c$i.wav" synth 2 brownnoise vol 0.5 tremolo $((3 + i)) 60 2>/dev/null
  done
}
