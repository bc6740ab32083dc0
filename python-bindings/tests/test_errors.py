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
