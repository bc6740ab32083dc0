"""Invalid specs and invalid tensors raise before anything runs."""

import numpy as np
import pytest

import attn

SPEC = """
func.func @f(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>,
             %v: tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32> {
  %o = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>
        -> tensor<?x4x?x8xf32>
  return %o : tensor<?x4x?x8xf32>
}
"""


def inputs(nq=7, nk=7, dv=8):
    rng = np.random.default_rng(1)
    return (rng.standard_normal((2, 4, nq, 16)).astype(np.float32),
            rng.standard_normal((2, 2, nk, 16)).astype(np.float32),
            rng.standard_normal((2, 2, nk, dv)).astype(np.float32))


def test_invalid_spec_has_a_located_message():
    bad = SPEC.replace("tensor<?x2x?x8xf32>) -> tensor<?x4x?x8xf32>",
                       "tensor<?x3x?x8xf32>) -> tensor<?x4x?x8xf32>", 1)
    bad = bad.replace("tensor<?x2x?x16xf32>, tensor<?x2x?x8xf32>\n",
                      "tensor<?x2x?x16xf32>, tensor<?x3x?x8xf32>\n")
    with pytest.raises(attn.AttnError) as info:
        attn.compile(bad, backend="cpu")
    assert info.value.message.startswith(
        "spec:4:8: error: 'attn.attention' op query heads (4) must be a "
        "multiple of value heads (3)")
    assert info.value.spec == bad


def test_traced_spec_error_carries_the_spec():
    q = np.zeros((1, 2, 4, 16), np.float32)
    with pytest.raises(attn.AttnError) as info:
        attn.attention(q, q, q, normalization="sigmoid")
    assert "sigmoid_bias" in info.value.message
    assert "attn.attention %q, %k, %v" in info.value.spec
    assert "--- spec ---" in str(info.value)


def test_verify_accepts_a_valid_spec():
    attn.verify(SPEC)


def test_wrong_dtype_raises_before_running():
    kernel = attn.compile(SPEC, backend="cpu")
    q, k, v = inputs()
    with pytest.raises(TypeError, match="query: dtype float64"):
        kernel(q.astype(np.float64), k, v)


def test_wrong_shape_names_the_argument():
    kernel = attn.compile(SPEC, backend="cpu")
    q, k, v = inputs(dv=9)
    with pytest.raises(ValueError, match="value"):
        kernel(q, k, v)


def test_host_arrays_are_refused_by_a_cuda_kernel():
    kernel = attn.compile(SPEC, backend="cuda")
    with pytest.raises(ValueError, match="host memory"):
        kernel(*inputs())


def test_missing_and_unknown_inputs():
    kernel = attn.compile(SPEC, backend="cpu")
    q, k, v = inputs()
    with pytest.raises(TypeError, match="missing inputs: value"):
        kernel(q, k)
    with pytest.raises(TypeError, match="unknown input 'values'"):
        kernel(q, k, values=v)


def test_out_must_match_the_outputs():
    kernel = attn.compile(SPEC, backend="cpu")
    q, k, v = inputs()
    with pytest.raises(ValueError, match="out= gives 2 tensors"):
        kernel(q, k, v, out=(np.empty((2, 4, 7, 8), np.float32),) * 2)


def test_unknown_compile_option():
    with pytest.raises(ValueError, match="backend"):
        attn.compile(SPEC, backend="tpu")


def test_read_only_out_is_refused_before_running():
    kernel = attn.compile(SPEC, backend="cpu")
    q, k, v = inputs()
    out = np.full((2, 4, 7, 8), 7.0, np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError,
                       match="output: the out= array is read-only"):
        kernel(q, k, v, out=out)
    assert np.all(out == 7.0)


class FakeCudaArray:
    """A CUDA array seen only through __cuda_array_interface__ (nothing is
    launched: the calls below fail before)."""

    def __init__(self, shape, read_only=False, typestr="<f4"):
        self.__cuda_array_interface__ = {
            "shape": shape, "typestr": typestr, "strides": None,
            "data": (256, read_only), "version": 3}


def test_read_only_cuda_array_out_is_refused():
    kernel = attn.compile(SPEC, backend="cuda")
    q, k, v = (FakeCudaArray(x.shape) for x in inputs())
    with pytest.raises(ValueError, match="read-only"):
        kernel(q, k, v, out=FakeCudaArray((2, 4, 7, 8), read_only=True))


def test_inputs_requiring_grad_are_refused():
    torch = pytest.importorskip("torch")
    q, k, v = (torch.from_numpy(x) for x in inputs(dv=16))
    q.requires_grad_(True)
    slopes = torch.ones(4, requires_grad=True)
    with pytest.raises(NotImplementedError,
                       match="q requires grad, but attn has no backward"):
        attn.attention(q, k, v)
    with pytest.raises(NotImplementedError, match="torch.no_grad"):
        attn.compile(SPEC.replace("x8xf32", "x16xf32"), backend="cpu")(q, k, v)
    with pytest.raises(NotImplementedError, match="captured0 requires grad"):
        attn.attention(q.detach(), k, v,
                       score_mod=lambda s, b, h, i, j: s + slopes[h])
    with pytest.raises(NotImplementedError, match="scale requires grad"):
        attn.attention(q.detach(), k, v,
                       scale=torch.tensor(0.5, requires_grad=True))
    gate = -torch.ones(2, 2, 7, requires_grad=True)
    with pytest.raises(NotImplementedError, match="gate requires grad"):
        attn.linear_attention(q.detach()[:, :2], k, v, gate=gate)
    with torch.no_grad():
        out = attn.attention(q, k, v)
    assert out.shape == (2, 4, 7, 16) and not out.requires_grad


def test_zero_heads_or_head_dim_name_the_dim():
    q = np.zeros((1, 0, 5, 16), np.float32)
    with pytest.raises(ValueError, match=r"query has shape \(1, 0, 5, 16\): "
                       r"its heads H \(dim 1\) is 0"):
        attn.attention(q, q, q)
    q = np.zeros((1, 2, 5, 0), np.float32)
    with pytest.raises(ValueError, match=r"its head dim D \(dim 3\) is 0"):
        attn.linear_attention(q, q, q)


def test_gate_of_a_wrong_shape_names_gate_and_the_shapes():
    q = np.zeros((1, 2, 5, 16), np.float32)
    with pytest.raises(ValueError, match=r"gate has shape \(7,\); for these "
                       r"q, k, v it must be \[H\] = \(2,\) or "):
        attn.linear_attention(q, q, q, gate=np.ones(7, np.float32))
    with pytest.raises(ValueError, match=r"\[B, H, N\] = \(1, 2, 5\) or "
                       r"\[B, H, N, Dk\] = \(1, 2, 5, 16\)"):
        attn.linear_attention(q, q, q, gate=np.ones((2, 5), np.float32))
    with pytest.raises(ValueError,
                       match=r"must be \[B, H, N\] = \(1, 2, 5\)$"):
        attn.linear_attention(q, q, q, gate=np.ones(2, np.float32),
                              gate_kind="per_token")
    with pytest.raises(ValueError, match="gate_kind is 'per_row'"):
        attn.linear_attention(q, q, q, gate=np.ones(2, np.float32),
                              gate_kind="per_row")
    with pytest.raises(ValueError, match=r"beta has shape \(2, 5\)"):
        attn.linear_attention(q, q, q, rule="delta",
                              beta=np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match="feature_weights is missing"):
        attn.linear_attention(q, q, q, feature_map="hedgehog")


def test_compile_takes_text_or_a_path():
    with pytest.raises(TypeError, match="attn.compile takes MLIR text or the "
                       "path of a .mlir file, not int"):
        attn.compile(12345, backend="cpu")
    with pytest.raises(TypeError, match="attn.verify takes MLIR text"):
        attn.verify(None)
    with pytest.raises(FileNotFoundError):
        attn.compile("no/such/spec.mlir", backend="cpu")


def test_chips_attn_does_not_target_are_refused():
    # LLVM's NVPTX back end would abort the process on sm_70 (no mma.sync,
    # cp.async) or sm_120 (a newer PTX ISA): refused with an error instead.
    for chip in ("sm_70", "sm_120", "gfx90a"):
        with pytest.raises(attn.AttnError,
                           match=f"attn generates code for sm_80, sm_86, "
                                 f"sm_87, sm_89, sm_90, sm_90a, not '{chip}'"):
            attn.compile(SPEC, backend="cuda", chip=chip)


def test_sizes_beyond_int64_are_refused():
    kernel = attn.compile(SPEC, backend="cuda")
    q = FakeCudaArray((2**62, 4, 7, 16))
    with pytest.raises(ValueError, match="query: shape .* more than 64-bit"):
        kernel(q, q, q)
    with pytest.raises(ValueError, match="more than 64-bit"):
        attn._tensors.describe(FakeCudaArray((2**64,), typestr="|i1"), "x")


def test_absurd_outputs_are_refused_before_allocating():
    # 2^40 batches of a CUDA kernel: the output would need 32-bit offsets
    # beyond 2^31 (and CuPy to allocate it, which is not installed here).
    kernel = attn.compile(SPEC, backend="cuda")
    q, k, v = (FakeCudaArray((2**40,) + x.shape[1:]) for x in inputs())
    with pytest.raises(ValueError, match=r"output: shape \(1099511627776, 4, "
                       r"7, 8\) is .* elements; CUDA kernels index with 32"):
        kernel(q, k, v)
    # On the CPU backend, broadcast views cost nothing, but the output and
    # the runtime's copies would exceed any machine's memory.
    kernel = attn.compile(SPEC, backend="cpu")
    q, k, v = (np.broadcast_to(np.float32(0), (2**40,) + x.shape[1:])
               for x in inputs())
    with pytest.raises(ValueError, match="the CPU backend copies, and this "
                       "machine has"):
        kernel(q, k, v)


def test_a_huge_broadcast_capture_is_refused_before_copying():
    q, k, v = inputs(dv=16)
    table = attn.capture(np.broadcast_to(np.float32(1), (1, 2**40)))
    with pytest.raises(ValueError, match=r"capture0 \(1, 1099511627776\)"):
        attn.attention(q, k, v, score_mod=lambda s, b, h, i, j:
                       s + table[0, j])


def test_non_contiguous_cpu_input_names_the_argument():
    kernel = attn.compile(SPEC, backend="cpu")
    q, k, v = inputs()
    with pytest.raises(ValueError, match="key: strides .* contiguous"):
        kernel(q, np.swapaxes(np.swapaxes(k, 2, 3).copy(), 2, 3), v)
