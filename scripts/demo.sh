#!/usr/bin/env bash
# The main job: sets up and builds, compiles every example spec (verify, then
# lower to the reference and tiled kernels, and to PTX for sm_90a), and runs
# one example: on the GPU when the machine has one (libcuda and a device),
# checked against the CPU reference kernel; otherwise on the CPU backend,
# the tiled kernel checked against the reference. Exits non-zero if anything
# fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTN_BUILD_DIR:-$root/build}

bash "$root/scripts/build.sh"
ptx_dir=$build/demo-ptx
mkdir -p "$ptx_dir"
for spec in "$root"/examples/*.mlir; do
  name=$(basename "$spec" .mlir)
  "$build/bin/attn-opt" --verify-roundtrip "$spec" \
    --attn-lower-to-reference --attn-lower-to-tiles -o /dev/null
  "$build/bin/attn-compile" "$spec" --chip=sm_90a -o "$ptx_dir/$name.ptx"
  echo "compiled $name.mlir (CPU kernels; PTX in $ptx_dir/$name.ptx)"
done
echo "==== examples/softcap_sliding_window.mlir in canonical form"
"$build/bin/attn-opt" "$root/examples/softcap_sliding_window.mlir"

has_gpu() {
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU
}
if has_gpu; then
  echo "==== running it on the GPU, checked against the CPU reference"
  "$build/bin/attn-run" "$root/examples/softcap_sliding_window.mlir" \
    --backend=cuda --check --sizes b=2,n=300
else
  echo "==== no GPU here: running it on the CPU backend"
  "$build/bin/attn-run" "$root/examples/softcap_sliding_window.mlir" \
    --backend=cpu --check --sizes b=2,n=300
fi
