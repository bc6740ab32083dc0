#!/usr/bin/env bash
# Compiles one spec to PTX for one chip and has ptxas assemble it:
#
#   test/ptx/check_ptx.sh ATTN_COMPILE SPEC CHIP OUT_DIR
#
# Prints one line per kernel, `PTX <spec> <chip> <kernel> registers=R
# stack=S spill_stores=A spill_loads=B`, and fails when attn-compile or
# ptxas fails, or when a kernel spills registers. ptxas is taken from
# $PTXAS, $CUDA_HOME/bin, /usr/local/cuda/bin or PATH.
set -euo pipefail
compile=$1 spec=$2 chip=$3 out=$4
name=$(basename "$spec" .mlir)
mkdir -p "$out"
ptx=$out/$name.$chip.ptx

ptxas=${PTXAS:-}
for candidate in "${CUDA_HOME:-/nonexistent}/bin/ptxas" /usr/local/cuda/bin/ptxas \
                 "$(command -v ptxas || true)"; do
  if [ -z "$ptxas" ] && [ -n "$candidate" ] && [ -x "$candidate" ]; then
    ptxas=$candidate
  fi
done
if [ -z "$ptxas" ]; then
  echo "check_ptx: no ptxas (set PTXAS or install the CUDA toolkit)" >&2
  exit 1
fi

"$compile" "$spec" --chip="$chip" -o "$ptx"
report=$("$ptxas" -arch="$chip" -O3 -v "$ptx" -o "$out/$name.$chip.cubin" 2>&1) || {
  echo "$report" >&2
  echo "check_ptx: ptxas rejected $ptx" >&2
  exit 1
}
# ptxas -v prints, per kernel: "Compiling entry function 'NAME'", then
# "N bytes stack frame, A bytes spill stores, B bytes spill loads", then
# "Used R registers, ...".
status=0
echo "$report" | awk -v spec="$name" -v chip="$chip" '
  /Compiling entry function/ { match($0, /'"'"'[^'"'"']*'"'"'/);
                               kernel = substr($0, RSTART + 1, RLENGTH - 2) }
  /bytes stack frame/ { stack = $1; stores = $5; loads = $9 }
  /Used [0-9]+ registers/ {
    for (i = 1; i <= NF; ++i) if ($i == "Used") regs = $(i + 1)
    printf "PTX %s %s %s registers=%s stack=%s spill_stores=%s spill_loads=%s\n",
           spec, chip, kernel, regs, stack, stores, loads
  }' | tee "$out/$name.$chip.report"
if grep -qE 'spill_stores=[1-9]|spill_loads=[1-9]' "$out/$name.$chip.report"; then
  echo "check_ptx: a kernel of $name spills registers on $chip" >&2
  status=1
fi
if ! grep -q '^PTX ' "$out/$name.$chip.report"; then
  echo "check_ptx: ptxas reported no kernel for $ptx" >&2
  status=1
fi
exit $status
