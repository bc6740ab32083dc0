#!/usr/bin/env bash
# The main job: sets up, builds, then verifies every example spec and prints
# it in attn's canonical form. Exits non-zero if any spec fails to verify.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTN_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"
status=0
for spec in "$root"/examples/*.mlir; do
  echo "==== $(basename "$spec")"
  if ! "$build/bin/attn-opt" --verify-roundtrip "$spec"; then
    echo "FAILED: $spec" >&2
    status=1
  fi
done
exit $status
