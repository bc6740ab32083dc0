#!/usr/bin/env bash
# The whole GPU suite (needs a GPU, PyTorch with CUDA and pytest; not in CI):
#
#   test/gpu/run_gpu_suite.sh [BIN_DIR] [step...]
#
# Steps (default: all, in this order):
#   pytest     test/gpu/test_examples.py: every example on the GPU against
#              the float64 PyTorch reference, bf16 and fp16, lengths
#              {1, 17, 1000, 4096, 16387} and Nq > Nk; then the table of the
#              worst relative error per example and storage type.
#   against-cpu test/gpu/check_examples.sh: every example against attn's
#              own CPU reference kernel (fp32 on the same inputs).
#   sanitizer  compute-sanitizer memcheck on one run of each family
#              (attention, additive and delta linear attention, hybrid);
#              each must report 0 errors.
#   images     kernels written by attn-compile (PTX and cubin) loaded by
#              attn-run --kernel-image and checked against the CPU
#              reference; an image of another spec must be refused.
#
# ATTN_GPU_LENGTHS narrows the pytest lengths (e.g. "1,17,1000"); PYTEST_K
# selects cases by a pytest -k expression (e.g. "gla or deltanet"); other
# pytest arguments go in PYTEST_ARGS (split at spaces); SHARDS sets how many
# pytest processes share the GPU (default 6); ATTN_GPU_LOGS keeps their
# logs in that folder. Exits non-zero when a step fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/bin}
shift || true
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(pytest against-cpu sanitizer images)
status=0

run_pytest() {
  # SHARDS pytest processes share the GPU (the float64 references and the
  # input files keep the CPU busy between launches).
  local results shards=${SHARDS:-6} pids=() k
  results=$(mktemp)
  for ((k = 0; k < shards; k++)); do
    ATTN_BIN=$bin ATTN_GPU_RESULTS=$results ATTN_GPU_SHARD=$k/$shards \
      python3 -m pytest -q -p no:cacheprovider -rf \
      "$root/test/gpu/test_examples.py" ${PYTEST_K:+-k "$PYTEST_K"} \
      ${PYTEST_ARGS:-} \
      >"$results.$k.log" 2>&1 &
    pids+=($!)
  done
  for k in "${!pids[@]}"; do
    wait "${pids[$k]}" || status=1
    tail -n 3 "$results.$k.log"
  done
  grep -h "^FAILED" "$results".*.log || true
  if [ -n "${ATTN_GPU_LOGS:-}" ]; then
    mkdir -p "$ATTN_GPU_LOGS" && cp "$results".*.log "$ATTN_GPU_LOGS"/
  fi
  python3 - "$results" <<'EOF'
import collections, json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
table = collections.OrderedDict()
for r in sorted(rows, key=lambda r: r["example"]):
    cell = table.setdefault(r["example"], {})
    worst = cell.get(r["dtype"], (0.0, 0, []))
    cell[r["dtype"]] = (max(worst[0], r["max_rel_err"]), worst[1] + 1,
                        worst[2] + [r["sizes"]])
print("| example | runs | worst max_rel_err bf16 | worst max_rel_err f16 |")
print("|---|---|---|---|")
for name, cell in table.items():
    runs = sum(c[1] for c in cell.values())
    bf = cell.get("bf16", (float("nan"),))[0]
    fp = cell.get("f16", (float("nan"),))[0]
    print(f"| {name} | {runs} | {bf:.2e} | {fp:.2e} |")
print(f"{len(rows)} passing cases recorded")
EOF
  rm -f "$results" "$results".*.log
}

run_sanitizer() {
  local spec sizes output code
  for run in "causal_gqa_lse b=1,nq=70,nk=45" "gla b=1,n=77" \
             "deltanet b=1,n=77" "lolcats_hybrid b=1,n=77"; do
    read -r spec sizes <<<"$run"
    echo "compute-sanitizer memcheck: $spec $sizes"
    # Non-zero when memcheck finds an error (--error-exitcode) or the check
    # itself fails.
    output=$(compute-sanitizer --tool memcheck --error-exitcode 3 \
      "$bin/attn-run" "$root/examples/$spec.mlir" --backend=cuda --check \
      --sizes "$sizes" 2>&1)
    code=$?
    grep -E "ERROR SUMMARY|max_rel_err|error:" <<<"$output"
    [ "$code" -eq 0 ] || status=1
  done
}

run_images() {
  local dir spec
  dir=$(mktemp -d)
  for spec in causal_gqa_lse gla; do
    "$bin/attn-compile" "$root/examples/$spec.mlir" --chip=sm_90a --cubin \
      -o "$dir/$spec.ptx" || { status=1; continue; }
    for image in "$dir/$spec.ptx" "$dir/$spec.cubin"; do
      echo "kernel image: $(basename "$image")"
      "$bin/attn-run" "$root/examples/$spec.mlir" --backend=cuda --check \
        --chip=sm_90a --kernel-image="$image" --sizes b=2,n=77 || status=1
    done
  done
  echo "kernel image of another spec (must be refused):"
  if "$bin/attn-run" "$root/examples/gla.mlir" --backend=cuda --check \
      --kernel-image="$dir/causal_gqa_lse.cubin" --sizes b=1,n=17; then
    status=1
  fi
  rm -rf "$dir"
}

for step in "${steps[@]}"; do
  case $step in
    pytest) run_pytest ;;
    against-cpu) bash "$root/test/gpu/check_examples.sh" "$bin" 8 \
                   | tail -1 | tee /dev/stderr | grep -q " 0 failed" \
                   || status=1 ;;
    sanitizer) run_sanitizer ;;
    images) run_images ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
exit $status
