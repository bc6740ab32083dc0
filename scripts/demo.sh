#!/usr/bin/env bash
# The main job: sets up and builds, compiles every example spec (verify, then
# lower to the reference and tiled kernels), and runs one example on the CPU
# backend, checking the tiled kernel against the reference. Exits non-zero
# if anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTN_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"
for spec in "$root"/examples/*.mlir; do
  "$build/bin/attn-opt" --verify-roundtrip "$spec" \
    --attn-lower-to-reference --attn-lower-to-tiles -o /dev/null
  echo "compiled $(basename "$spec")"
done
echo "==== examples/softcap_sliding_window.mlir in canonical form"
"$build/bin/attn-opt" "$root/examples/softcap_sliding_window.mlir"
echo "==== running it on the CPU backend (no GPU backend yet)"
"$build/bin/attn-run" "$root/examples/softcap_sliding_window.mlir" \
  --backend=cpu --check --sizes b=2,n=300
