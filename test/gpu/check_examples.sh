#!/usr/bin/env bash
# Runs every example spec on the GPU against the CPU reference kernel, with
# bf16 and with fp16 storage, on awkward lengths, and prints one line per run
# (attn-run's line: shapes, max_rel_err, empty rows, times) plus a summary.
#
#   test/gpu/check_examples.sh [BIN_DIR] [JOBS]
#
# Each run is `attn-run SPEC --backend=cuda --check --half-storage=T --sizes
# S`: random inputs rounded to T, the GPU output poisoned with NaN before the
# launch, compared with the CPU reference (fp32 on the same rounded inputs)
# with tolerance 1e-2 (bf16) or 5e-3 (fp16) relative to the reference's
# largest magnitude; rows the mask empties must be exactly 0 and no output
# may be NaN. Examples with `// attn-run: ARGS` lines run with those sizes
# (their lengths are fixed); the others run with
#   n in {1, 17, 77, 1000} (b = 2, or 1 for n = 1000),
# and attention examples also with Nq = 70 > Nk = 45 (causal masks empty
# whole rows). Sizes of 4096 and more are left to bench/ and the pytest
# suite: the CPU reference is too slow there.
set -u
BIN=${1:-build/bin}
JOBS=${2:-8}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOG=$(mktemp -d)

runs=()
for spec in "$ROOT"/examples/*.mlir; do
  mapfile -t lines < <(sed -n 's|^// attn-run: ||p' "$spec")
  if [ ${#lines[@]} -eq 0 ]; then
    lines=("--sizes b=2,n=1" "--sizes b=2,n=17" "--sizes b=2,n=77"
           "--sizes b=1,n=1000")
    if grep -q "attn.attention" "$spec"; then
      lines+=("--sizes b=2,nq=70,nk=45")
    fi
  fi
  for dtype in bf16 f16; do
    for args in "${lines[@]}"; do
      runs+=("$spec|$dtype|$args")
    done
  done
done

run_one() {
  IFS='|' read -r spec dtype args <<<"$1"
  name=$(basename "$spec" .mlir)
  # shellcheck disable=SC2086
  if out=$("$BIN/attn-run" "$spec" --backend=cuda --check \
             --half-storage="$dtype" $args 2>&1); then
    echo "PASS $name $dtype $args :: $out"
  else
    echo "FAIL $name $dtype $args :: $out"
  fi
}
export -f run_one
export BIN

printf '%s\n' "${runs[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one "$@"' _ {} \
  | tee "$LOG/all.txt"
pass=$(grep -c '^PASS' "$LOG/all.txt")
fail=$(grep -c '^FAIL' "$LOG/all.txt")
echo "check_examples: $pass passed, $fail failed (${#runs[@]} runs)"
[ "$fail" -eq 0 ]
