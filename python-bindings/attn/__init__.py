"""attn: JIT-compile attention variants to fused kernels and run them on
PyTorch, CuPy or NumPy tensors.

    import attn, torch
    def softcap(score, b, h, q_idx, kv_idx):
        return 30.0 * attn.tanh(score / 30.0)
    def window(b, h, q_idx, kv_idx):
        return (kv_idx <= q_idx) & (q_idx - kv_idx < 256)
    out = attn.attention(q, k, v, score_mod=softcap, mask_mod=window)

`attn.compile(spec)` compiles a spec written in the attn dialect (MLIR text
or a path) and returns a Kernel to call. Compiled kernels are cached in
memory and, for CUDA, as PTX under ~/.cache/attn (ATTN_CACHE_DIR), keyed by
the spec, the options, the target and the compiler's version.
"""

import os

from . import _capi, _kernel
from ._frontend import BlockMask, attention, hybrid, last_spec, linear_attention
from ._kernel import AttnError, Kernel, clear_memory_cache
from ._trace import (Captured, TraceError, abs_ as abs, ceil, cos, erf, exp,
                     exp2, floor, log, log1p, log2, maximum, minimum, rsqrt,
                     sigmoid, sin, softplus, sqrt, tanh, where)

__version__ = _capi.version()

__all__ = [
    "AttnError", "BlockMask", "Kernel", "TraceError", "attention", "capture",
    "compile", "hybrid", "linear_attention", "show", "verify", "cache_stats",
    "clear_memory_cache", "abs", "ceil", "cos", "erf", "exp", "exp2", "floor",
    "log", "log1p", "log2", "maximum", "minimum", "rsqrt", "sigmoid", "sin",
    "softplus", "sqrt", "tanh", "where",
]


def capture(tensor):
    """Makes a NumPy or CuPy array indexable by traced indices
    (PyTorch tensors need no wrapper)."""
    return Captured(tensor)


def _read_spec(spec, caller):
    """(MLIR text, name for its locations) of `spec`: MLIR text, or a path
    (str or os.PathLike) to a .mlir file."""
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    if not isinstance(spec, str):
        raise TypeError(f"attn.{caller} takes MLIR text or the path of a "
                        f".mlir file, not {type(spec).__name__}")
    if "\n" not in spec and spec.strip().endswith(".mlir"):
        # Not MLIR text, which would not end in ".mlir": a path.
        with open(spec.strip()) as f:
            return f.read(), spec.strip()
    return spec, "spec"


def verify(spec):
    """Parses and verifies a spec; raises AttnError with the verifier's
    located message."""
    text, name = _read_spec(spec, "verify")
    message = _capi.verify(text, name)
    if message:
        raise AttnError(message, text)


def compile(spec, *, backend="cuda", chip="sm_90a", half_storage=None,
            tensor_cores=True, check_indices=None):
    """Compiles the one attn op of `spec` (MLIR text or a .mlir path) and
    returns a Kernel. backend="cpu" JIT-compiles for the host (NumPy arrays,
    computing in f32); "cuda" emits PTX for `chip`. half_storage stores the
    spec's 16-bit tensors as "bf16" or "f16". With check_indices (default:
    the ATTN_CHECK_INDICES environment variable, "1" to enable), a call
    raises IndexError after its launch when a region read a captured tensor
    at an out-of-range index (which is clamped either way)."""
    text, name = _read_spec(spec, "compile")
    if backend not in ("cuda", "cpu"):
        raise ValueError("backend must be 'cuda' or 'cpu'")
    options = f"backend={backend}"
    if backend == "cuda":
        options += f" chip={chip} tensor_cores={int(bool(tensor_cores))}"
        if half_storage:
            options += f" half_storage={half_storage}"
    options += _kernel.check_indices_option(check_indices)
    return _kernel.compile_spec(text, options, name)


def show(what=None):
    """Prints the MLIR of a Kernel, a spec, or (without argument) the spec
    the front end traced last."""
    if isinstance(what, Kernel):
        print(what.spec)
    elif what is not None:
        print(_read_spec(what, "show")[0])
    else:
        print(last_spec[0])


def cache_stats():
    """Counts of memory hits, disk hits and compiles since the start."""
    return dict(_kernel.stats)
