#!/usr/bin/env bash
# CI stage: slid as a dependency of another project. Uses the Release build that tools/test.sh made.
#  1. `cmake --install` into a temporary prefix; tests/consumer built with find_package(slid) against
#     it (so the exported package, its dependencies and the -march=native usage requirement are
#     checked), then run on a shipped sample; the same source built with pkg-config (slid.pc); and the
#     installed Python package imported from that prefix.
#  2. tests/consumer built with add_subdirectory(slid) (slid not top-level: portable code, no
#     -march=native) and run. This build compiles the library with GCC, -DSLID_NATIVE=OFF and
#     -Werror, so a GCC warning in the portable library fails CI (tools/ci-sanitize.sh builds the
#     whole tree, program and tests too, with clang and -Werror).
#   tools/ci-consumer.sh [build-dir]    (default: build)
# Environment: SLID_CI_JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
src="$(pwd)"
build="${1:-build}"
jobs="${SLID_CI_JOBS:-$(nproc)}"
start=$(date +%s)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
model="$src/models/default.slid"
sample="$src/models/samples/fr-conf-onlyperson.wav"
# What the program decides on the sample with the default model: every consumer must decide the same.
expect=$("$build/bin/slid" identify --model "$model" "$sample" | tail -n 1 | cut -f2)
[ -n "$expect" ] && [ "$expect" != - ] || { echo "ci-consumer: slid identify gave no decision on $sample" >&2; exit 1; }
# The installed default model is the file models/default.slid links to.

# 1. Installed package.
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
cmake -S tests/consumer -B "$tmp/by-package" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/by-package" -j"$jobs" >/dev/null
cmp "$tmp/prefix/share/slid/models/default.slid" "$model" || { echo "ci-consumer: the installed default model is not models/default.slid" >&2; exit 1; }
"$tmp/by-package/slid_consumer" "$tmp/prefix/share/slid/models/default.slid" "$sample" "$expect"

# pkg-config: one compiler call, flags from slid.pc only.
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# shellcheck disable=SC2046  # word splitting of the flags is intended
c++ -std=c++17 -O2 tests/consumer/main.cc -o "$tmp/by-pkg-config" $(pkg-config --cflags --libs slid)
"$tmp/by-pkg-config" "$model" "$sample" "$expect"

"$tmp/prefix/bin/slid" --version
test -s "$tmp/prefix/share/doc/slid/help/slid-identify.txt"
pysite=$(find "$tmp/prefix" -path '*-packages/slid/__init__.py' -printf '%h\n' | head -n1)
if [ -n "$pysite" ]; then
  (cd "$tmp" && PYTHONPATH="$(dirname "$pysite")" /usr/bin/python3 -c "
import slid, sys
r = slid.Model.load(sys.argv[1]).identify(sys.argv[2])
assert slid.__file__.startswith(sys.argv[3]), slid.__file__
assert r.decision == sys.argv[4], r
print('installed Python package:', slid.__file__, '->', r.decision)" "$model" "$sample" "$tmp/prefix" "$expect")
else
  echo "ci-consumer: no Python package in the install (built without SLID_BUILD_PYTHON)"
fi

# 2. add_subdirectory, portable, warnings as errors (the library only: no program, tests, benches, Python).
# -O1 (not -O3): this build checks that the portable library compiles cleanly and works, not its speed,
# and compiles in about half the time. No precompiled header: with GCC it costs CPU time instead of
# saving it (CMakeLists.txt, SLID_PCH). Not a unity build (the other trees are): a project that adds slid
# with add_subdirectory compiles each library source on its own, so this is where CI checks that every
# source compiles alone (a missing #include hidden by a batch shows here); it costs ~90 CPU-s more.
cmake -S tests/consumer -B "$tmp/by-subdirectory" -DCMAKE_BUILD_TYPE=Release -DSLID_CONSUMER_SUBDIRECTORY="$src" \
  -DCMAKE_CXX_FLAGS=-Werror -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" >/dev/null
cmake --build "$tmp/by-subdirectory" -j"$jobs" >"$tmp/subdirectory.log" 2>&1 || { cat "$tmp/subdirectory.log" >&2; exit 1; }
if grep -qs -- '-march=native' "$tmp/by-subdirectory/CMakeFiles/slid_consumer.dir/flags.make"; then
  echo "ci-consumer: a sub-project build got -march=native" >&2; exit 1
fi
"$tmp/by-subdirectory/slid_consumer" "$model" "$sample" "$expect"
echo "ci-consumer: passed in $(( $(date +%s) - start )) s"
