#!/usr/bin/env bash
# Installs the dependencies, builds slid and runs every test. This is the README's test command
# and what .ci/run calls.
# Unity build (CMAKE_UNITY_BUILD: the library, the program and the Python module compiled in batches of 8
# sources, each batch parsing Eigen/CLI11/nlohmann/pybind11 once): 249 instead of 540 CPU-s for those
# three, same code (README.md, section CI). The test files are never batched (tests/CMakeLists.txt). For
# day-to-day work with ccache, configure without it: a change would recompile a whole batch.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_UNITY_BUILD=ON
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
