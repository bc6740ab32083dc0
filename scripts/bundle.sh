#!/usr/bin/env bash
# Builds attn, then a relocatable archive of the Python package for a GPU
# machine with no LLVM installed (PyTorch and a CUDA driver are enough):
#
#   bash scripts/bundle.sh [OUT.tar.xz]     (default dist/attn-python.tar.xz)
#
# The archive holds attn/ (the package, with lib/libattn_c.so and the
# libMLIR, libLLVM and libz3 it loads; the package loads them from there
# first) and quickstart.py. Use it with
#
#   tar xf attn-python.tar.xz -C DIR && PYTHONPATH=DIR python3 DIR/quickstart.py
#
# Fails when the archive exceeds 60 MB.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ATTN_BUILD_DIR:-$root/build}
out=${1:-$root/dist/attn-python.tar.xz}

bash "$root/scripts/build.sh"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/attn/lib" "$(dirname "$out")"
cp "$root"/python-bindings/attn/*.py "$stage/attn/"
cp "$build/lib/libattn_c.so" "$stage/attn/lib/"
for soname in libMLIR.so.22.1 libLLVM.so.22.1 libz3.so.4; do
  path=$(ldd "$build/lib/libattn_c.so" | awk -v l="$soname" '$1 == l {print $3}')
  if [ -z "$path" ]; then
    echo "bundle: libattn_c.so does not load $soname" >&2
    exit 1
  fi
  cp -L "$path" "$stage/attn/lib/$soname"
done
cp "$root/python-bindings/examples/quickstart.py" "$stage/"
XZ_OPT="-6 -T0" tar -C "$stage" -cJf "$out" attn quickstart.py
bytes=$(stat -c %s "$out")
echo "bundle: $out ($((bytes / 1000000)) MB)"
if [ "$bytes" -gt 60000000 ]; then
  echo "bundle: larger than 60 MB" >&2
  exit 1
fi
