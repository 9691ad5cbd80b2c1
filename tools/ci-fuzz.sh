#!/usr/bin/env bash
# CI stage: builds the libFuzzer targets (fuzz/*.cc) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer (the library too, with coverage instrumentation, so the fuzzer sees
# inside it), then runs each target for a bounded time starting from its checked-in seed corpus
# tests/data/fuzz/<target>/. Any crash, sanitizer report, leak, timeout or out-of-memory fails the
# stage; the input that caused it is left in <build>/fuzz-out/<target>/ and its path printed.
#   tools/ci-fuzz.sh [build-dir]         (default: build-fuzz)
# Environment: SLID_FUZZ_SECONDS total fuzzing budget in wall-clock seconds (default 60), shared
# equally by the targets, which run SLID_CI_JOBS (default: nproc, at most 2) at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
src="$(pwd)"
build="${1:-build-fuzz}"
budget="${SLID_FUZZ_SECONDS:-60}"
jobs="${SLID_CI_JOBS:-$(nproc)}"; [ "$jobs" -gt 2 ] && jobs=2
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
start=$(date +%s)

# -fsanitize=fuzzer-no-link instruments the library for coverage; the targets add -fsanitize=fuzzer.
# A build dir already configured with SLID_FUZZ=ON (tools/ci-sanitize.sh makes one) is reused as it is.
if ! grep -qs '^SLID_FUZZ:BOOL=ON' "$build/CMakeCache.txt"; then
  CC=clang CXX=clang++ cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
    -DCMAKE_CXX_FLAGS="-g1 -Werror -fsanitize=fuzzer-no-link" -DSLID_FUZZ=ON -DSLID_SANITIZE=address,undefined -DCMAKE_UNITY_BUILD=ON \
    -DSLID_BUILD_TESTS=OFF -DSLID_BUILD_TOOLS=OFF -DSLID_BUILD_BENCH=OFF
fi

targets=()
for f in fuzz/*.cc; do targets+=("$(basename "$f" .cc)"); done
cmake --build "$build" -j"$jobs" --target "${targets[@]}"
[ "${#targets[@]}" -gt 0 ] || { echo "ci-fuzz: no targets in fuzz/" >&2; exit 1; }
rounds=$(( (${#targets[@]} + jobs - 1) / jobs ))
per=$(( budget / rounds )); [ "$per" -lt 5 ] && per=5
echo "ci-fuzz: ${#targets[@]} targets, $jobs at a time, $per s each"

out="$(cd "$build" && pwd)/fuzz-out"
rm -rf "$out"; mkdir -p "$out"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$src/tools/lsan-suppressions.txt"

run_one() {  # $1 = target name; returns non-zero on any finding
  local t="$1" seeds="$src/tests/data/fuzz/$1" work="$out/$1"
  mkdir -p "$work/corpus"
  [ -d "$seeds" ] || { echo "ci-fuzz: $t has no seed corpus at $seeds" >&2; return 1; }
  # New inputs go to the scratch corpus (first folder); the checked-in seeds are only read.
  # -timeout: one input taking longer is a hang; -rss_limit_mb: memory blow-ups are findings.
  if "$build/bin/$t" -max_total_time="$per" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds" >"$work/log" 2>&1; then
    echo "ci-fuzz: $t ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$') runs)"
  else
    echo "ci-fuzz: $t FAILED; log tail and reproducer:" >&2
    tail -n 60 "$work/log" >&2
    ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null >&2 || true
    return 1
  fi
}
export -f run_one
export src build out per
status=0
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} || status=1
echo "ci-fuzz: finished in $(( $(date +%s) - start )) s"
[ "$status" = 0 ] || { echo "ci-fuzz: FAILED" >&2; exit 1; }
