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
#   sweep      test/gpu/test_sweep.py: attn.attention from the Python
#              package over what a user can pass (every head dim 16..256
#              step 16 and others, Dk != Dv, bf16 and fp16, causal or not,
#              Nq != Nk, short and prime lengths, GQA ratios and MQA)
#              against the float64 reference; then the worst relative
#              error per sweep and per head dim, and the compile count.
#   linear     test/gpu/test_linear_sweep.py: attn.linear_attention shapes
#              the tensor-core chunk kernel takes (and their neighbours)
#              against a float64 reference; and test/gpu/linear_simple_gla.mlir
#              against attn's CPU reference at lengths 1 .. 4097.
#   against-cpu test/gpu/check_examples.sh: every example against attn's
#              own CPU reference kernel (fp32 on the same inputs).
#   sanitizer  compute-sanitizer memcheck on one run of each family
#              (attention, additive and delta linear attention, hybrid),
#              and on test/gpu/capture_oob.py (captured tensors indexed out
#              of range through the package: clamped, never read outside);
#              each must report 0 errors.
#   images     kernels written by attn-compile (PTX and cubin) loaded by
#              attn-run --kernel-image and checked against the CPU
#              reference; an image of another spec must be refused.
#
# ATTN_GPU_LENGTHS narrows the pytest lengths (e.g. "1,17,1000"); PYTEST_K
# selects cases by a pytest -k expression (e.g. "gla or deltanet"); other
# pytest arguments go in PYTEST_ARGS (split at spaces); SHARDS sets how many
# pytest processes share the GPU (default 6); ATTN_GPU_LOGS keeps their
# logs in that folder. The sweep step takes SWEEP_K (a -k expression, e.g.
# "headdim and bf16") and ATTN_SWEEP_SETS (e.g. "headdim,gqa"); its shards
# share ATTN_CACHE_DIR when it is set, else a fresh folder removed at the
# end (every kernel compiles once). Exits non-zero when a step fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/bin}
shift || true
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(pytest sweep linear against-cpu sanitizer images)
status=0
# The Python package (sweep, sanitizer) loads the libattn_c.so of this
# build unless ATTN_C_LIBRARY names one.
if [ -z "${ATTN_C_LIBRARY:-}" ] && [ -f "$bin/../lib/libattn_c.so" ]; then
  ATTN_C_LIBRARY=$(cd "$bin/../lib" && pwd)/libattn_c.so
  export ATTN_C_LIBRARY
fi

# Runs SHARDS (default 6) pytest processes over test/gpu/$1, selected by
# the -k expression $2 when it is not empty, with the remaining arguments;
# the environment the caller sets applies to each. They share the GPU (the
# float64 references keep the CPU busy between launches). Logs go to
# $results.<shard>.log (and to ATTN_GPU_LOGS as <name>.<shard>.log); prints
# each shard's summary and every failure, and sets `status` to 1 when a
# shard fails.
run_shards() {
  local file=$1 filter=$2 name=${1%.py} shards=${SHARDS:-6} pids=() k
  shift 2
  for ((k = 0; k < shards; k++)); do
    ATTN_GPU_SHARD=$k/$shards python3 -m pytest -q -p no:cacheprovider -rf \
      "$root/test/gpu/$file" ${filter:+-k "$filter"} "$@" \
      >"$results.$k.log" 2>&1 &
    pids+=($!)
  done
  for k in "${!pids[@]}"; do
    wait "${pids[$k]}" || status=1
    tail -n 3 "$results.$k.log"
  done
  grep -h "^FAILED" "$results".*.log || true
  if [ -n "${ATTN_GPU_LOGS:-}" ]; then
    mkdir -p "$ATTN_GPU_LOGS"
    for k in "${!pids[@]}"; do
      cp "$results.$k.log" "$ATTN_GPU_LOGS/$name.$k.log"
    done
  fi
}

run_pytest() {
  local results
  results=$(mktemp)
  # shellcheck disable=SC2086 # PYTEST_ARGS is split at spaces on purpose.
  ATTN_BIN=$bin ATTN_GPU_RESULTS=$results \
    run_shards test_examples.py "${PYTEST_K:-}" ${PYTEST_ARGS:-}
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

run_sweep() {
  # The cases that share a kernel run in one process (test_sweep.py groups
  # them), so each kernel compiles once; the processes share a disk cache.
  local results cache own_cache=
  results=$(mktemp)
  cache=${ATTN_CACHE_DIR:-}
  if [ -z "$cache" ]; then
    cache=$(mktemp -d) && own_cache=1
  fi
  ATTN_CACHE_DIR=$cache ATTN_SWEEP_RESULTS=$results \
    run_shards test_sweep.py "${SWEEP_K:-}"
  python3 - "$results" <<'EOF'
import collections, json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def worst(rs, dtype):
    errs = [r["max_rel_err"] for r in rs if r["dtype"] == dtype]
    return f"{max(errs):.2e}" if errs else "-"
by_sweep = collections.OrderedDict()
for r in rows:
    by_sweep.setdefault(r["sweep"], []).append(r)
print("| sweep | passing cases | worst max_rel_err bf16 | worst f16 |")
print("|---|---|---|---|")
for name, rs in by_sweep.items():
    print(f"| {name} | {len(rs)} | {worst(rs, 'bf16')} | {worst(rs, 'f16')} |")
by_dim = collections.defaultdict(list)
for r in rows:
    by_dim[(r["dk"], r["dv"])].append(r)
print("| Dk x Dv | kernel | passing cases | worst bf16 | worst f16 |")
print("|---|---|---|---|---|")
for (dk, dv), rs in sorted(by_dim.items()):
    paths = "/".join(sorted({r["path"] for r in rs}))
    print(f"| {dk} x {dv} | {paths} | {len(rs)} | {worst(rs, 'bf16')} | "
          f"{worst(rs, 'f16')} |")
compiled = [r for r in rows if r["compiled"]]
if compiled:
    slow = max(compiled, key=lambda r: r["seconds"])
    print(f"{len(rows)} passing cases; {len(compiled)} compiled a kernel "
          f"(first call incl. compile and load: "
          f"{sum(r['seconds'] for r in compiled):.1f} s in all, slowest "
          f"{slow['seconds']:.2f} s for {slow['id']})")
elif rows:
    print(f"{len(rows)} passing cases; every kernel came from the cache")
else:
    print("0 passing cases")
EOF
  rm -f "$results" "$results".*.log
  if [ -n "$own_cache" ]; then rm -rf "$cache"; fi
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
  # Captured tensors indexed out of range through the Python package: the
  # indices are clamped (docs/semantics.md 2.5), so memcheck must see no
  # read outside them and the script must match the clamped reference.
  echo "compute-sanitizer memcheck: capture_oob.py (python package)"
  output=$(compute-sanitizer --tool memcheck --error-exitcode 3 \
    python3 "$root/test/gpu/capture_oob.py" 2>&1)
  code=$?
  grep -E "ERROR SUMMARY|capture_oob|Invalid|Error|error:" <<<"$output" \
    | head -n 60
  grep -q "ERROR SUMMARY: 0 errors" <<<"$output" || status=1
  [ "$code" -eq 0 ] || status=1
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

run_linear() {
  python3 -m pytest -q "$root/test/gpu/test_linear_sweep.py" || status=1
  for sizes in b=1,n=1 b=1,n=63 b=2,n=200 b=2,n=1000 b=1,n=4097; do
    "$bin/attn-run" "$root/test/gpu/linear_simple_gla.mlir" --backend=cuda \
      --check --half-storage=bf16 --sizes "$sizes" | tail -1 || status=1
  done
}

for step in "${steps[@]}"; do
  case $step in
    pytest) run_pytest ;;
    sweep) run_sweep ;;
    linear) run_linear ;;
    against-cpu) bash "$root/test/gpu/check_examples.sh" "$bin" 8 \
                   | tail -1 | tee /dev/stderr | grep -q " 0 failed" \
                   || status=1 ;;
    sanitizer) run_sanitizer ;;
    images) run_images ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
exit $status
