"""Every example, run on the GPU through attn's runtime, against a float64
PyTorch reference (test/gpu/torch_reference.py, written from
docs/semantics.md).

Each case runs

    attn-run examples/NAME.mlir --backend=cuda --half-storage=T \
        --sizes S --seed N --write-outputs DIR

which draws the inputs, rounds them to T (bf16 or f16), poisons the
outputs with NaN, launches the PTX kernel through the CUDA driver and writes
every argument as the kernel saw it. The test evaluates the example's
transcription (test/reference/example_refs.py) in float64 on those inputs
and asserts

    max|got - ref| / max|ref| <= 1e-2 (bf16) or 5e-3 (f16)

for every output (NaN must meet NaN, so a poisoned element left unwritten
fails), and that rows whose every key is masked are exactly +0.

Lengths: {1, 17, 1000, 4096, 16387} (B = 2 up to 1000, then 1), and
Nq = 70 > Nk = 45 for attention examples, which empties the first rows of a
causal mask; examples with fixed lengths run at their own sizes
(`// attn-run:` lines). Heads, GQA groups and head dims are the examples'
own (causal_gqa_lse is GQA 4:1, sigma_diffqkv has Dk != Dv).

Environment: ATTN_BIN (default build/bin), ATTN_BACKEND (default cuda; cpu
runs the CPU backend instead, to check the suite itself on a machine without
a GPU), ATTN_GPU_RESULTS (a file that
receives one JSON line per case, for the summary of run_gpu_suite.sh),
ATTN_GPU_LENGTHS (override the lengths, e.g. "1,17"), ATTN_GPU_SHARD ("k/n":
run only every n-th case from the k-th, so n processes share the GPU).
"""

import json
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "test", "reference"))
import example_refs  # noqa: E402
import torch_reference as T  # noqa: E402

BIN = os.environ.get("ATTN_BIN", os.path.join(REPO, "build", "bin"))
BACKEND = os.environ.get("ATTN_BACKEND", "cuda")
TOLERANCE = {"bf16": 1e-2, "f16": 5e-3}
LENGTHS = [int(n) for n in
           os.environ.get("ATTN_GPU_LENGTHS", "1,17,1000,4096,16387").split(",")]
OUTPUT_NAMES = ("output", "lse", "final_state")


def _examples():
    names = sorted(f[:-5] for f in os.listdir(os.path.join(REPO, "examples"))
                   if f.endswith(".mlir"))
    return names


def _spec(name):
    return os.path.join(REPO, "examples", name + ".mlir")


def _sizes(name):
    """The --sizes of every run of an example."""
    with open(_spec(name)) as f:
        text = f.read()
    fixed = re.findall(r"^// attn-run: --sizes (\S+)", text, re.M)
    if fixed:
        return fixed
    sizes = [f"b={2 if n <= 1000 else 1},n={n}" for n in LENGTHS]
    if "attn.attention" in text:
        sizes.append("b=2,nq=70,nk=45")
    return sizes


CASES = [(name, dtype, sizes) for name in _examples()
         for dtype in ("bf16", "f16") for sizes in _sizes(name)]
if os.environ.get("ATTN_GPU_SHARD"):
    _shard, _shards = (int(x) for x in os.environ["ATTN_GPU_SHARD"].split("/"))
    CASES = CASES[_shard::_shards]


def _load(directory):
    return {f[:-4]: np.load(os.path.join(directory, f))
            for f in os.listdir(directory) if f.endswith(".npy")}


def relative_error(got, ref):
    """max|got - ref| / max|ref| over finite references; NaN must meet NaN
    and an infinity the same infinity. Returns (error, note)."""
    got = T.tensor(got)
    if got.shape != ref.shape:
        return math.inf, f"shape {tuple(got.shape)} != {tuple(ref.shape)}"
    nan_mismatch = torch.isnan(got) != torch.isnan(ref)
    if nan_mismatch.any():
        return math.inf, (f"{int(nan_mismatch.sum())} NaN mismatches "
                          f"(kernel NaN: {int(torch.isnan(got).sum())})")
    infinite = torch.isinf(got) | torch.isinf(ref)
    if (infinite & (got != ref)).any():
        return math.inf, "infinity mismatch"
    finite = torch.isfinite(ref)
    if not finite.any():
        return 0.0, ""
    scale = ref[finite].abs().max()
    diff = (got[finite] - ref[finite]).abs().max()
    if scale == 0:
        return (0.0 if diff == 0 else math.inf), "reference is all zero"
    return float(diff / scale), ""


@pytest.mark.parametrize("name,dtype,sizes", CASES,
                         ids=[f"{n}-{d}-{s}" for n, d, s in CASES])
def test_example(name, dtype, sizes):
    # The arguments of a long run take hundreds of MB: each case removes its
    # own files at once (pytest's tmp_path would keep them all).
    with tempfile.TemporaryDirectory(prefix="attn_gpu_") as directory:
        check_example(name, dtype, sizes, directory)


def check_example(name, dtype, sizes, directory):
    extra = []
    match = re.search(r"b=(\d+),n=(\d+)", sizes)
    if name == "transfusion_mask_mod" and "capture0" not in sizes and match:
        extra = [f"capture0={match.group(1)}x{match.group(2)}"]
    storage = [f"--half-storage={dtype}"] if BACKEND == "cuda" else []
    command = [os.path.join(BIN, "attn-run"), _spec(name),
               f"--backend={BACKEND}"] + storage + [
               "--sizes", ",".join([sizes] + extra), "--seed", "7",
               "--write-outputs", directory]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 0, (run.stderr or run.stdout)[-2000:]
    gpu_ms = re.search(r"gpu=([0-9.]+)ms", run.stdout)

    arrays = _load(directory)
    reference = example_refs.reference_for(name)(arrays, T)
    errors = {}
    for output in OUTPUT_NAMES:
        if output not in arrays:
            continue
        assert output in reference, f"{output} is not modelled"
        error, note = relative_error(arrays[output], reference[output])
        errors[output] = error
        assert error <= TOLERANCE[dtype], \
            f"{output}: max_rel_err={error:.3g} {note}"

    # Rows that keep no key: exactly +0 (the reference sets them to 0).
    ref_out = reference["output"]
    emptied = (ref_out == 0).all(dim=-1)
    got_out = T.tensor(arrays["output"])
    if emptied.any():
        rows = got_out[emptied]
        assert (rows == 0).all() and not torch.signbit(rows).any(), \
            "a fully masked row is not exactly +0"

    results = os.environ.get("ATTN_GPU_RESULTS")
    if results:
        with open(results, "a") as f:
            f.write(json.dumps({
                "example": name, "dtype": dtype, "sizes": sizes,
                "max_rel_err": max(errors.values()),
                "errors": errors, "emptied_rows": int(emptied.sum()),
                "gpu_ms": float(gpu_ms.group(1)) if gpu_ms else None,
            }) + "\n")
