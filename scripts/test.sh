#!/usr/bin/env bash
# Sets up, builds and runs every test: the lit suite (round trips, invalid
# inputs, passes), then ctest (GoogleTest units, example round trips,
# clean failure on invalid inputs, docs freshness). Ends with ctest's
# summary line.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTN_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"
/usr/lib/llvm-22/bin/lit -sv "$build/test"
cd "$build" && ctest --output-on-failure -j 2
