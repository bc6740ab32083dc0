#!/usr/bin/env bash
# Builds, validates and runs the smoke test of attn's CUDA driver runtime
# (cuda_driver_smoke.cpp).
#
#   test/gpu/run_driver_smoke.sh [build] [ptxas] [run]    (default: all three)
#
#   build  On the development machine (LLVM/MLIR 22 and a configured build/,
#          whose generated headers it needs): compiles the smoke test with
#          the runtime's sources (CudaDriver.cpp, KernelLauncher.cpp,
#          HostTensor.cpp) into one binary, linking LLVM and MLIR's static
#          Support/IR libraries and the C++ runtime statically. The GPU
#          machine has no LLVM, and libLLVM.so/libMLIR.so are too large to
#          carry, so the binary needs nothing there but glibc >= 2.36 and the
#          driver, which it opens with dlopen. (A separate binary: the
#          "never mix static MLIR and libMLIR.so" rule is about one binary.)
#   ptxas  Validates the kernel's PTX with ptxas for sm_80 and sm_90a (needs
#          the CUDA toolkit, not a GPU).
#   run    Runs the binary: needs a GPU and libcuda.so.1.
#
# The binary goes to $ATTN_SMOKE_DIR (default build/gpu-smoke). To run it on
# a machine that has only the repository, build here and carry that folder.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${ATTN_SMOKE_DIR:-$root/build/gpu-smoke}
binary=$out/cuda_driver_smoke
llvm=${LLVM_PREFIX:-/usr/lib/llvm-22}

build() {
  local cxx=${CXX:-}
  if [[ -z $cxx ]]; then
    cxx=$(command -v clang++-22 || command -v c++)
  fi
  mkdir -p "$out"
  echo "== build $binary with $cxx"
  "$cxx" -std=gnu++17 -O2 -DNDEBUG -fno-exceptions \
    -ffunction-sections -fdata-sections \
    -I"$root/include" -I"$root/build/include" -isystem "$llvm/include" \
    "$root/test/gpu/cuda_driver_smoke.cpp" \
    "$root/lib/Runtime/CudaDriver.cpp" \
    "$root/lib/Runtime/KernelLauncher.cpp" \
    "$root/lib/Runtime/HostTensor.cpp" \
    -o "$binary" -Wl,--gc-sections \
    "$llvm/lib/libMLIRIR.a" "$llvm/lib/libMLIRSupport.a" \
    "$llvm/lib/libLLVMSupport.a" "$llvm/lib/libLLVMDemangle.a" \
    -static-libstdc++ -static-libgcc -ldl -lpthread
  ls -l "$binary"
}

ptxas_check() {
  local ptxas
  ptxas=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
  local target
  for target in sm_80 sm_90a; do
    echo "== $ptxas -arch=$target"
    "$binary" --print-ptx "$target" >"$out/axpy_$target.ptx"
    "$ptxas" -v -arch="$target" "$out/axpy_$target.ptx" \
      -o "$out/axpy_$target.cubin"
  done
}

run() {
  echo "== run $binary"
  "$binary"
}

steps=("$@")
if [[ ${#steps[@]} -eq 0 ]]; then
  steps=(build ptxas run)
fi
for step in "${steps[@]}"; do
  case $step in
  build) build ;;
  ptxas) ptxas_check ;;
  run) run ;;
  *)
    echo "unknown step '$step': use build, ptxas or run" >&2
    exit 2
    ;;
  esac
done
