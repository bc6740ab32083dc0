"""Sweep of what a user can pass to attn.attention (issue 11), through the
Python package, against a float64 reference.

The examples' suite (test_examples.py) runs the examples' own head dims and
head counts only; the tensor-core path once gave silently wrong results for
head dims 80, 96, 112, 160 and 224 that no example used. This file sweeps
the shapes instead:

  headdim  every head dim 16..256 in steps of 16 (the tensor-core path
           takes multiples of 16 up to 256) and others the verifier accepts
           (any positive head dim; the SIMT kernel runs them):
           1, 3, 8, 24, 40, 72, 100, 136, 200, 264, 320, 512;
           x {bf16, f16} x {no mask, causal}, Nq = Nk = 300 (not a multiple
           of 64), B = 2, H = 2.
  lengths  Nq = Nk in {1, 2, 17, 63, 64, 65, 127, 128, 129, 251, 1021} for
           D in {64, 80, 128, 224} x {bf16, f16} x {no mask, causal}.
  nqnk     Nq != Nk both ways: 70/45, 45/70, 1/300, 300/1, 1/1021, 65/64,
           64/65, 128/1000, 1000/128, for D in {64, 96, 256} x {bf16, f16}
           x {no mask, causal (bottom-right, the default), causal<align =
           top_left>}.
  gqa      (Hq, Hk, Hv) in (8,8,8), (8,4,4), (8,2,2), (8,1,1), (16,2,2),
           (4,1,1), (8,2,4), (8,8,1): GQA ratios 1, 2, 4, 8, MQA, and K and
           V with their own head counts; D = 128, x {bf16, f16} x {no mask,
           causal}, with return_lse (the LSE is checked too) and, in f16, an
           explicit scale; lengths 300/300, 70/45, 1/257.
  dkdv     Dk != Dv: (64,128), (128,64), (80,160), (160,80), (192,128),
           (32,256), (256,32), (96,224), (100,36) x {bf16, f16} x {no mask,
           causal}; lengths 300/300 and 45/70. The default scale is
           1/sqrt(Dk).
  mods     traced regions at the issue's head dims (64, 80, 96, 112, 160,
           224): a mask_mod (kv_idx <= q_idx) and a soft-cap score_mod with
           the named causal mask, x {bf16, f16}.

Causal with Nq != Nk follows docs/semantics.md 3.1: the named mask is
bottom-right aligned by default, visible = j <= i + (Nk - Nq); rows that
keep no key (Nq > Nk) must be exactly +0. The reference is
test/gpu/torch_reference.py (float64 on the GPU) with the keep matrix built
here from that rule. Each case draws its inputs from a fixed seed (NumPy,
standard normal, rounded to the storage type) and asserts

    max|got - ref| / max|ref| <= 1e-2 (bf16) or 5e-3 (f16)

for the output (and the LSE where returned), a finite output, and +0 rows
where every key is masked.

Compiles: head counts, head dims, the element type, the mask, the scale and
return_lse are static in the spec, lengths and batch are not, so each
distinct (dtype, Hq, Hk, Hv, Dk, Dv, mask, scale, lse) compiles once per
process (the lengths and nqnk sweeps reuse the headdim kernels). About 210
distinct kernels. The package keeps PTX in ATTN_CACHE_DIR (keyed by the
spec, the options and the compiler library's digest, so a rebuilt compiler
never reuses an old kernel); run_gpu_suite.sh's `sweep` step gives its
shards one cache folder.

    python3 -m pytest -q test/gpu/test_sweep.py              # CUDA
    ATTN_BACKEND=cpu python3 -m pytest -q test/gpu/test_sweep.py -k lengths

Environment: ATTN_BACKEND (cuda, the default; cpu runs the CPU backend on
NumPy inputs, f32 for the bf16 cases and f16 for the f16 ones, against the
NumPy reference of test/reference, to check this file on a machine without
a GPU), ATTN_SWEEP_SETS (comma-separated sweeps to run, default all),
ATTN_GPU_SHARD ("k/n": the k-th of n processes; cases that share a kernel go
to the same process), ATTN_SWEEP_RESULTS (a file that receives one JSON
line per passing case: error, kernel path, whether it compiled, seconds).
"""

import json
import math
import os
import sys
import time
import zlib

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BACKEND = os.environ.get("ATTN_BACKEND", "cuda")

np = pytest.importorskip("numpy")
if BACKEND == "cuda":
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device (ATTN_BACKEND=cpu runs the CPU "
                    "backend)", allow_module_level=True)
    sys.path.insert(0, HERE)
    import torch_reference as T  # noqa: E402
elif BACKEND == "cpu":
    torch = None
    sys.path.insert(0, os.path.join(REPO, "test", "reference"))
    import attn_reference as R  # noqa: E402
else:
    raise ValueError(f"ATTN_BACKEND={BACKEND!r}: cuda or cpu")

sys.path.insert(0, os.path.join(REPO, "python-bindings"))
if BACKEND == "cpu":
    attn = pytest.importorskip("attn")
else:
    import attn  # noqa: E402  (a missing library fails the GPU suite)

TOLERANCE = {"bf16": 1e-2, "f16": 5e-3}
SOFTCAP = 5.0

# ----------------------------------------------------------------------------
# The cases
# ----------------------------------------------------------------------------


class Case:
    """One call of attn.attention. `mask` is one of none, causal (named,
    bottom-right), causal_tl (named, top-left), mask_mod (traced
    kv_idx <= q_idx), softcap (named causal plus a traced soft-cap
    score_mod)."""

    def __init__(self, sweep, dtype, dk, dv, nq, nk, mask, heads=(2, 2, 2),
                 batch=2, scale=None, lse=False):
        self.sweep, self.dtype, self.dk, self.dv = sweep, dtype, dk, dv
        self.nq, self.nk, self.mask = nq, nk, mask
        self.hq, self.hk, self.hv = heads
        self.batch, self.scale, self.lse = batch, scale, lse

    @property
    def kernel_key(self):
        """What the spec (and so the compiled kernel) depends on."""
        return (self.dtype, self.hq, self.hk, self.hv, self.dk, self.dv,
                self.mask, self.scale, self.lse)

    @property
    def id(self):
        dims = f"d{self.dk}" if self.dk == self.dv else f"d{self.dk}x{self.dv}"
        heads = ("" if (self.hq, self.hk, self.hv) == (2, 2, 2)
                 else f"-h{self.hq}x{self.hk}x{self.hv}")
        extra = ("-scale" if self.scale is not None else "") + \
            ("-lse" if self.lse else "")
        return (f"{self.sweep}-{dims}{heads}-{self.dtype}-{self.mask}-"
                f"{self.nq}x{self.nk}{extra}")


TC_DIMS = list(range(16, 257, 16))
OTHER_DIMS = [1, 3, 8, 24, 40, 72, 100, 136, 200, 264, 320, 512]
DTYPES = ("bf16", "f16")
MASKS = ("none", "causal")


def _headdim():
    return [Case("headdim", t, d, d, 300, 300, m)
            for d in TC_DIMS + OTHER_DIMS for t in DTYPES for m in MASKS]


def _lengths():
    return [Case("lengths", t, d, d, n, n, m)
            for d in (64, 80, 128, 224)
            for n in (1, 2, 17, 63, 64, 65, 127, 128, 129, 251, 1021)
            for t in DTYPES for m in MASKS]


NQ_NK = [(70, 45), (45, 70), (1, 300), (300, 1), (1, 1021), (65, 64),
         (64, 65), (128, 1000), (1000, 128)]


def _nqnk():
    return [Case("nqnk", t, d, d, nq, nk, m)
            for d in (64, 96, 256) for nq, nk in NQ_NK for t in DTYPES
            for m in ("none", "causal", "causal_tl")]


GQA_HEADS = [(8, 8, 8), (8, 4, 4), (8, 2, 2), (8, 1, 1), (16, 2, 2),
             (4, 1, 1), (8, 2, 4), (8, 8, 1)]


def _gqa():
    return [Case("gqa", t, 128, 128, nq, nk, m, heads=h, batch=2,
                 scale=(0.0625 if t == "f16" else None), lse=True)
            for h in GQA_HEADS for t in DTYPES for m in MASKS
            for nq, nk in ((300, 300), (70, 45), (1, 257))]


DK_DV = [(64, 128), (128, 64), (80, 160), (160, 80), (192, 128), (32, 256),
         (256, 32), (96, 224), (100, 36)]


def _dkdv():
    return [Case("dkdv", t, dk, dv, nq, nk, m)
            for dk, dv in DK_DV for t in DTYPES for m in MASKS
            for nq, nk in ((300, 300), (45, 70))]


def _mods():
    return [Case("mods", t, d, d, 300, 300, m)
            for d in (64, 80, 96, 112, 160, 224) for t in DTYPES
            for m in ("mask_mod", "softcap")]


SWEEPS = {"headdim": _headdim, "lengths": _lengths, "nqnk": _nqnk,
          "gqa": _gqa, "dkdv": _dkdv, "mods": _mods}


def _cases():
    chosen = os.environ.get("ATTN_SWEEP_SETS")
    names = chosen.split(",") if chosen else list(SWEEPS)
    for name in names:
        if name not in SWEEPS:
            raise ValueError(f"ATTN_SWEEP_SETS: unknown sweep {name!r} "
                             f"(known: {', '.join(SWEEPS)})")
    cases = [c for name in names for c in SWEEPS[name]()]
    shard = os.environ.get("ATTN_GPU_SHARD")
    if shard:
        # Cases that share a kernel go to the same process, so each kernel
        # compiles once in the whole suite.
        k, n = (int(x) for x in shard.split("/"))
        keys = list(dict.fromkeys(c.kernel_key for c in cases))
        mine = set(keys[k::n])
        cases = [c for c in cases if c.kernel_key in mine]
    return cases


CASES = _cases()

# ----------------------------------------------------------------------------
# Inputs, masks and the reference
# ----------------------------------------------------------------------------


def _seed(case):
    return zlib.crc32(case.id.encode())


def _inputs(case):
    """q, k, v as float32 NumPy arrays, from the case's fixed seed."""
    rng = np.random.default_rng(_seed(case))
    q = rng.standard_normal((case.batch, case.hq, case.nq, case.dk))
    k = rng.standard_normal((case.batch, case.hk, case.nk, case.dk))
    v = rng.standard_normal((case.batch, case.hv, case.nk, case.dv))
    return [x.astype(np.float32) for x in (q, k, v)]


def _device(x, dtype):
    """The kernel's input: a CUDA tensor of the storage type, or on the CPU
    backend a NumPy array (f16 for the f16 cases, f32 for bf16: NumPy has
    no bfloat16)."""
    if BACKEND == "cuda":
        t = {"bf16": torch.bfloat16, "f16": torch.float16}[dtype]
        return torch.from_numpy(x).to(device="cuda", dtype=t)
    return x.astype(np.float16) if dtype == "f16" else x


def _host64(x):
    """A float64 NumPy copy of a tensor or array."""
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach().to(torch.float64).cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def keep_matrix(mask, nq, nk):
    """keep[i, j] of docs/semantics.md 3.1-3.2: the named causal mask is
    bottom-right aligned by default (j <= i + Nk - Nq); top_left and the
    traced mask_mod (kv_idx <= q_idx) use j <= i. None: every key kept."""
    i = np.arange(nq)[:, None]
    j = np.arange(nk)[None, :]
    if mask in ("causal", "softcap"):
        return j <= i + (nk - nq)
    if mask in ("causal_tl", "mask_mod"):
        return j <= i
    return np.ones((nq, nk), bool)


def _call(case, q, k, v):
    kwargs = {}
    if case.mask == "causal":
        kwargs["mask"] = "causal"
    elif case.mask == "causal_tl":
        kwargs["mask"] = "causal<align = top_left>"
    elif case.mask == "mask_mod":
        kwargs["mask_mod"] = lambda b, h, q_idx, kv_idx: kv_idx <= q_idx
    elif case.mask == "softcap":
        kwargs["mask"] = "causal"
        kwargs["score_mod"] = (
            lambda s, b, h, q_idx, kv_idx: SOFTCAP * attn.tanh(s / SOFTCAP))
    if case.scale is not None:
        kwargs["scale"] = case.scale
    if case.lse:
        kwargs["return_lse"] = True
    result = attn.attention(q, k, v, **kwargs)
    return result if case.lse else (result, None)


def _reference(case, q, k, v, keep):
    """(out, lse) in float64 NumPy from the inputs as the kernel saw them."""
    scale = case.scale if case.scale is not None else 1.0 / math.sqrt(case.dk)
    if BACKEND == "cuda":
        tanh = torch.tanh
        keep_t = torch.as_tensor(keep, device=T.DEVICE)
        out, lse = T.attention(
            q, k, v, scale=scale,
            keep=lambda b, h, i, j, nq, nk: keep_t[i, j],
            score_mod=(None if case.mask != "softcap" else
                       lambda x, b, h, i, j: SOFTCAP * tanh(x / SOFTCAP)))
    else:
        tanh = np.tanh
        out, lse = R.attention(
            _host64(q), _host64(k), _host64(v), scale=scale,
            keep=keep[None, None],
            score_mod=(None if case.mask != "softcap" else
                       lambda x, b, h, i, j: SOFTCAP * tanh(x / SOFTCAP)))
    return _host64(out), (None if lse is None else _host64(lse))


def relative_error(got, ref):
    """max|got - ref| / max|ref| over the finite reference entries; an
    infinite or NaN reference entry must be met exactly."""
    if got.shape != ref.shape:
        return math.inf, f"shape {got.shape} != {ref.shape}"
    finite = np.isfinite(ref)
    if not np.array_equal(got[~finite], ref[~finite], equal_nan=True):
        return math.inf, "a non-finite reference entry is not met"
    if not np.isfinite(got[finite]).all():
        return math.inf, (f"{int((~np.isfinite(got[finite])).sum())} "
                          "non-finite outputs")
    if not finite.any():
        return 0.0, ""
    scale = np.abs(ref[finite]).max()
    diffs = np.abs(np.where(finite, got, 0.0) - np.where(finite, ref, 0.0))
    worst = np.unravel_index(np.argmax(diffs), ref.shape)
    diff = diffs[worst]
    if scale == 0:
        return (0.0 if diff == 0 else math.inf), "reference is all zero"
    return float(diff / scale), \
        f"worst at {tuple(int(x) for x in worst)} (b, h, i[, d])"


_PATHS = {}


def _kernel_path(spec):
    """tensor_cores or simt: whether the PTX of the kernel the front end ran
    has mma.sync (read from the package's memory cache; no compile)."""
    if BACKEND != "cuda":
        return "cpu"
    if spec not in _PATHS:
        path = "unknown"
        try:
            kernels = [kern for kern in attn._kernel._memory.values()
                       if kern.spec == spec]
            if len(kernels) == 1:
                path = "tensor_cores" if "mma.sync" in kernels[0].ptx() \
                    else "simt"
        except Exception:  # noqa: BLE001  (a private detail; only a label)
            pass
        _PATHS[spec] = path
    return _PATHS[spec]


# ----------------------------------------------------------------------------
# The test
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_attention(case):
    host = _inputs(case)
    q, k, v = (_device(x, case.dtype) for x in host)
    keep = keep_matrix(case.mask, case.nq, case.nk)

    compiles = attn.cache_stats()["compiles"]
    start = time.perf_counter()
    out, lse = _call(case, q, k, v)
    if BACKEND == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    compiled = attn.cache_stats()["compiles"] > compiles
    path = _kernel_path(attn.last_spec[0])

    ref_out, ref_lse = _reference(case, q, k, v, keep)
    got = _host64(out)
    assert got.shape == (case.batch, case.hq, case.nq, case.dv)
    assert np.isfinite(got).all(), \
        f"{int((~np.isfinite(got)).sum())} non-finite outputs ({path})"

    errors = {}
    error, note = relative_error(got, ref_out)
    errors["output"] = error
    if ref_lse is not None and lse is not None:
        errors["lse"], lse_note = relative_error(_host64(lse), ref_lse)
        note += f"; lse: {lse_note}" if lse_note else ""
    for name, err in errors.items():
        assert err <= TOLERANCE[case.dtype], \
            f"{name}: max_rel_err={err:.3g} ({path}) {note}"

    # Rows that keep no key: exactly +0 (docs/semantics.md 2.3), LSE -inf.
    empty = ~keep.any(axis=1)
    if empty.any():
        rows = got[:, :, empty]
        assert (rows == 0).all() and not np.signbit(rows).any(), \
            f"a fully masked row is not exactly +0 ({path})"
        if lse is not None:
            assert np.isneginf(_host64(lse)[:, :, empty]).all(), \
                "the LSE of a fully masked row is not -inf"

    results = os.environ.get("ATTN_SWEEP_RESULTS")
    if results:
        with open(results, "a") as f:
            f.write(json.dumps({
                "id": case.id, "sweep": case.sweep, "dtype": case.dtype,
                "dk": case.dk, "dv": case.dv, "nq": case.nq, "nk": case.nk,
                "heads": [case.hq, case.hk, case.hv], "mask": case.mask,
                "path": path, "max_rel_err": max(errors.values()),
                "errors": errors, "emptied_rows": int(empty.sum()),
                "compiled": compiled, "seconds": seconds,
            }) + "\n")
