"""Tracing Python functions into attn regions (no compile needed)."""

import numpy as np
import pytest

import attn
from attn import _trace


def trace_score(fn, captures=None):
    traced = _trace.trace(fn, [("s", "f32"), ("b", "index"), ("h", "index"),
                               ("i", "index"), ("j", "index")], "f32",
                          captures or _trace.CaptureList())
    return _trace.finish_region("score_mod", traced)


def trace_mask(fn, captures=None):
    traced = _trace.trace(fn, [("b", "index"), ("h", "index"),
                               ("i", "index"), ("j", "index")], "i1",
                          captures or _trace.CaptureList())
    return _trace.finish_region("mask_mod", traced)


def test_arithmetic_mixes_index_and_float():
    text = trace_score(lambda s, b, h, i, j: s * 0.5 + (j - i))
    assert "arith.mulf %s" in text
    assert "arith.subi %j, %i : index" in text
    assert "arith.sitofp" in text
    assert "attn.yield" in text and ": f32" in text.splitlines()[-2]


def test_comparisons_and_logic():
    text = trace_mask(lambda b, h, i, j: (j <= i) & ~(i - j >= 128) | (j < 4))
    assert "arith.cmpi sle, %j, %i : index" in text
    assert "arith.cmpi sge" in text
    assert "arith.xori" in text
    assert "arith.andi" in text and "arith.ori" in text
    assert "attn.yield" in text and ": i1" in text


def test_where_minimum_and_math():
    text = trace_score(lambda s, b, h, i, j: attn.where(
        j > i, attn.minimum(s, 0.0), attn.tanh(s / 30.0) * 30.0))
    assert "arith.select" in text
    assert "arith.minimumf" in text
    assert "math.tanh" in text
    assert "arith.divf" in text


def test_python_truth_value_is_refused():
    def branchy(s, b, h, i, j):
        if j > i:
            return s
        return -s
    with pytest.raises(_trace.TraceError, match="attn.where"):
        trace_score(branchy)


def test_mask_mod_must_return_a_comparison():
    with pytest.raises(_trace.TraceError, match="i1"):
        trace_mask(lambda b, h, i, j: i * 2.0)


def test_captured_tensor_read_once_per_tensor():
    slopes = np.ones(4, np.float32)
    captures = _trace.CaptureList()
    text = trace_score(lambda s, b, h, i, j:
                       s + attn.capture(slopes)[h] * attn.capture(slopes)[h],
                       captures)
    assert len(captures.tensors) == 1
    assert text.count("tensor.extract %cap0[%h] : tensor<?xf32>") == 2
    assert "%cap0: tensor<?xf32>" in text


def test_captured_integer_tensor_becomes_index():
    ids = np.zeros((2, 10), np.int32)
    text = trace_mask(lambda b, h, i, j:
                      attn.capture(ids)[b, i] == attn.capture(ids)[b, j])
    assert "tensor.extract %cap0[%b, %i] : tensor<?x?xi32>" in text
    assert "arith.index_cast" in text and "i32 to index" in text
    assert "arith.cmpi eq" in text


def test_capture_rank_is_checked():
    ids = np.zeros((2, 10), np.int32)
    with pytest.raises(_trace.TraceError, match="rank 2"):
        trace_mask(lambda b, h, i, j: attn.capture(ids)[i] == 0)


def test_float_constants_are_valid_mlir():
    # 1e-05 and inf need a decimal point or hex form in MLIR.
    spec = None
    q = np.zeros((1, 1, 3, 16), np.float32)
    attn.attention(q, q, q, score_mod=lambda s, b, h, i, j:
                   attn.where(s > 1e-05, s, float("-inf")))
    spec = attn.last_spec[0]
    assert "0xFF800000" in spec
    attn.verify(spec)


def test_show_prints_the_traced_spec(capsys):
    q = np.zeros((1, 2, 5, 16), np.float32)
    attn.attention(q, q, q, mask_mod=lambda b, h, i, j: j <= i, show=True)
    printed = capsys.readouterr().out
    assert "attn.attention %q, %k, %v" in printed
    assert "mask_mod {" in printed
    attn.show()
    assert capsys.readouterr().out.strip() == attn.last_spec[0].strip()


def test_float_of_a_traced_score_says_how_to_write_it():
    import math
    with pytest.raises(_trace.TraceError, match=r"a traced score \(f32 value\)"
                       r" cannot become a Python float.*attn.where"):
        trace_score(lambda s, b, h, i, j: s + float(s))
    with pytest.raises(_trace.TraceError,
                       match="traced score .* Python float"):
        trace_score(lambda s, b, h, i, j: math.tanh(s))
    with pytest.raises(_trace.TraceError, match="a traced index cannot become "
                       "a Python int"):
        trace_score(lambda s, b, h, i, j: s + int(i))


def test_index_constants_must_fit_in_64_bits():
    t = np.zeros(4, np.float32)
    with pytest.raises(_trace.TraceError, match="the integer "
                       "9223372036854775808 does not fit in a 64-bit index"):
        trace_score(lambda s, b, h, i, j: s + attn.capture(t)[i + 2**63])
