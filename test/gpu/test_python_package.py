"""The Python package on the GPU (PyTorch CUDA tensors; not in CI): the
README's quickstart, and the checks the runtime makes before a launch.

    python3 -m pytest test/gpu/test_python_package.py

The package is imported from python-bindings/ (or a bundle on PYTHONPATH).
"""

import math
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA device", allow_module_level=True)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "python-bindings"))
import attn  # noqa: E402

dev = "cuda"


def test_quickstart_matches_pytorch():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(ROOT, "python-bindings"), env.get("PYTHONPATH", "")])
    run = subprocess.run(
        [sys.executable, os.path.join(ROOT, "python-bindings", "examples",
                                      "quickstart.py")],
        capture_output=True, text=True, env=env)
    print(run.stdout, run.stderr)
    assert run.returncode == 0
    assert "all four variants match PyTorch" in run.stdout


def ref_causal(q, k, v):
    s = q.double() @ k.double().transpose(-1, -2) / math.sqrt(q.shape[-1])
    n = q.shape[2]
    keep = torch.ones(n, n, dtype=torch.bool, device=dev).tril()
    return torch.softmax(s.masked_fill(~keep, float("-inf")), -1) @ v.double()


def test_out_and_side_stream():
    q = torch.randn(1, 4, 300, 64, device=dev, dtype=torch.float16)
    out = torch.full_like(q, float("nan"))
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        attn.attention(q, q, q, mask="causal")
        spec = attn.last_spec[0]
        kernel = attn.compile(spec, chip="sm_90a")
        kernel(q, q, q, out=out)
    stream.synchronize()
    err = (out.double() - ref_causal(q, q, q)).abs().max().item()
    assert err < 5e-3


def test_cpu_tensor_refused_by_cuda_kernel():
    q = torch.randn(1, 2, 16, 64, device=dev, dtype=torch.bfloat16)
    attn.attention(q, q, q)
    kernel = attn.compile(attn.last_spec[0])
    with pytest.raises(ValueError, match="host memory"):
        kernel(q.cpu(), q, q)


def test_wrong_dtype_and_strides_raise_before_launch():
    q = torch.randn(1, 2, 16, 64, device=dev, dtype=torch.bfloat16)
    attn.attention(q, q, q)
    kernel = attn.compile(attn.last_spec[0])
    with pytest.raises(TypeError, match="dtype float16"):
        kernel(q.half(), q, q)
    strided = torch.randn(1, 2, 16, 128, device=dev,
                          dtype=torch.bfloat16)[..., ::2]
    with pytest.raises(ValueError, match="innermost stride"):
        kernel(strided, q, q)


def test_cupy_arrays():
    cupy = pytest.importorskip("cupy")
    x = cupy.random.standard_normal((1, 2, 40, 64)).astype(cupy.float16)
    kernel = attn.compile(_spec_f16())
    out = kernel(x, x, x)
    ref = ref_causal(torch.as_tensor(x, device=dev),
                     torch.as_tensor(x, device=dev),
                     torch.as_tensor(x, device=dev))
    err = (torch.as_tensor(out, device=dev).double() - ref).abs().max()
    assert err.item() < 5e-3


def _spec_f16():
    return """
func.func @f(%q: tensor<?x2x?x64xf16>, %k: tensor<?x2x?x64xf16>,
             %v: tensor<?x2x?x64xf16>) -> tensor<?x2x?x64xf16> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16>
        -> tensor<?x2x?x64xf16>
  return %o : tensor<?x2x?x64xf16>
}
"""
