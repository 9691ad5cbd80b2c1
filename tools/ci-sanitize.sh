#!/usr/bin/env bash
# CI stage: builds slid a second time with AddressSanitizer + UndefinedBehaviorSanitizer and runs the
# whole ctest suite (doctest executables and the tests/cli/*.sh scripts, which run the sanitized
# `slid` binary) under it. Any sanitizer report fails the stage: UBSan is built with
# -fno-sanitize-recover=all, ASan halts on the first error, LeakSanitizer reports leaks at exit, and
# every report makes the process exit non-zero, so the test that ran it fails.
# The build is made with clang and also holds the libFuzzer targets (-DSLID_FUZZ=ON, library compiled
# with -fsanitize=fuzzer-no-link), so tools/ci-fuzz.sh can reuse it instead of compiling slid a third
# time.
#   tools/ci-sanitize.sh [build-dir]      (default: build-san)
# Environment: SLID_CI_JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-san}"
jobs="${SLID_CI_JOBS:-$(nproc)}"
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
start=$(date +%s)

# Benches are skipped: they add build time and test nothing. -g1 keeps line numbers in reports.
# -O1, not Release's -O3 (what the AddressSanitizer and libFuzzer documentation use): the same checks,
# and the library and program compile in 26% less CPU time while the cli scripts under them take 10%
# more (README.md, section CI).
# -Werror: a clang warning anywhere in the tree (library, program, tests) fails CI; GCC's warnings on
# the portable library are checked by tools/ci-consumer.sh.
# Unity build (library and program in batches of 8 sources; tools/test.sh says why): library + program
# 385 instead of 532 CPU-s here.
# Keep these flags in step with tools/ci-fuzz.sh, which reuses this build when it finds SLID_FUZZ=ON.
CC=clang CXX=clang++ cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DCMAKE_CXX_FLAGS="-g1 -Werror -fsanitize=fuzzer-no-link" -DSLID_SANITIZE=address,undefined -DSLID_FUZZ=ON -DCMAKE_UNITY_BUILD=ON \
  -DSLID_BUILD_BENCH=OFF -DSLID_BUILD_TESTS=ON -DSLID_BUILD_TOOLS=ON
cmake --build "$build" -j"$jobs"

# exitcode=23 (not 1) tells a sanitizer abort apart from an ordinary error exit; log_path makes every
# report also land in $logs (file name <prefix>.<pid>), checked below.
logs="$(cd "$build" && pwd)/sanitizer-logs"
rm -rf "$logs"; mkdir -p "$logs"
common="halt_on_error=1:exitcode=23:log_path=$logs/report"
export ASAN_OPTIONS="$common:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:strict_string_checks=1"
export UBSAN_OPTIONS="$common:print_stacktrace=1"
export LSAN_OPTIONS="exitcode=23:print_suppressions=0:suppressions=$(pwd)/tools/lsan-suppressions.txt"
status=0
ctest --test-dir "$build" --output-on-failure -j"$jobs" || status=$?
# Only real reports count (not, e.g., LeakSanitizer's list of suppressions it used).
reports=$(grep -l -e 'ERROR: ' -e 'runtime error:' "$logs"/report* 2>/dev/null || true)
if [ -n "$reports" ]; then
  echo "ci-sanitize: sanitizer reports were written:" >&2
  for f in $reports; do echo "== $f" >&2; head -n 60 "$f" >&2; done
  status=1
fi
[ "$status" = 0 ] || { echo "ci-sanitize: FAILED" >&2; exit "$status"; }
echo "ci-sanitize: passed in $(( $(date +%s) - start )) s"
