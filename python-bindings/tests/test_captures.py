"""Reads of captured tensors at out-of-range indices: each index is clamped
into [0, size - 1] of its dim, and a read of a capture with no elements is
refused at launch (docs/semantics.md). Each run goes in a child process,
so that a kernel reading outside a tensor fails its test instead of ending
the whole run."""

import math
import multiprocessing
import queue

import numpy as np
import pytest

import attn
import attn_reference as R


def in_child(fn):
    """fn() run in a forked process: its result, or its exception raised
    again here (as the same class, with the same message)."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def main():
        try:
            results.put(("ok", fn()))
        except Exception as error:
            results.put(("error", type(error), str(error)))

    child = context.Process(target=main)
    child.start()
    try:
        result = results.get(timeout=300)
    except queue.Empty:
        child.join(1)
        pytest.fail(f"the child process died (exit code {child.exitcode}) "
                    "without a result: the kernel crashed")
    child.join()
    if result[0] == "error":
        raise result[1](result[2])
    return result[1]


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(
        np.float32)


B, H, N, D = 1, 2, 9, 16
Q, K, V = rand((B, H, N, D), 1), rand((B, H, N, D), 2), rand((B, H, N, D), 3)
TABLE = np.array([5.0, -1.0, 2.0, 7.0], np.float32)


def run(score_mod=None, mask_mod=None):
    return in_child(lambda: attn.attention(Q, K, V, score_mod=score_mod,
                                           mask_mod=mask_mod,
                                           return_lse=True))


def assert_close(got, want):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_an_index_past_the_end_reads_the_last_element():
    t = attn.capture(TABLE)
    got = run(lambda s, b, h, i, j: s + t[i + 10**6])
    # A constant per row shifts the lse (and not the output).
    assert_close(got, run(lambda s, b, h, i, j: s + 7.0))


def test_a_negative_index_reads_the_first_element():
    t = attn.capture(TABLE)
    got = run(lambda s, b, h, i, j: s + t[i - 100])
    assert_close(got, run(lambda s, b, h, i, j: s + 5.0))


def test_each_key_reads_its_clamped_element():
    t = attn.capture(TABLE)
    got = run(lambda s, b, h, i, j: s + t[j - 2])
    ref = R.attention(Q, K, V, scale=1 / math.sqrt(D),
                      score_mod=lambda x, b, h, i, j:
                      x + TABLE[np.clip(j - 2, 0, 3)])
    assert_close(got, ref)


def test_a_boolean_table_clamps_each_dim():
    keep = np.random.default_rng(4).random((N, N)) < 0.5
    keep[:, 0] = True  # no empty row
    t = attn.capture(keep)
    got = run(mask_mod=lambda b, h, i, j: t[i + 10**6, j - 100])
    # Every (i, j) reads keep[N - 1, 0].
    ref = R.attention(Q, K, V, scale=1 / math.sqrt(D), keep=keep[N - 1, 0])
    assert_close(got, ref)
    got = run(mask_mod=lambda b, h, i, j: t[i + 10**6, j])
    ref = R.attention(Q, K, V, scale=1 / math.sqrt(D), keep=keep[N - 1])
    assert_close(got, ref)


def test_an_empty_capture_is_refused_at_launch():
    t = attn.capture(np.zeros(0, np.float32))
    with pytest.raises(ValueError, match="capture0"):
        run(lambda s, b, h, i, j: s + t[j - 1])
    # Indexed by a region argument itself, the size is checked as well.
    with pytest.raises(ValueError, match="capture0 dim 0 is indexed by the "
                       "head index h, so it needs at least Hq = 2 entries"):
        run(lambda s, b, h, i, j: s + t[h])


def test_checked_indices_raise_after_the_launch(monkeypatch):
    # ATTN_CHECK_INDICES=1 compiles kernels that count clamped reads: the
    # call still runs, then raises IndexError naming the first read.
    monkeypatch.setenv("ATTN_CHECK_INDICES", "1")
    t = attn.capture(TABLE)
    with pytest.raises(IndexError,
                       match=r"read\(s\) of captured tensors were out of "
                             r"range \(check_indices\); the first recorded "
                             r"read capture0 of shape \(4,\) at index 1000 "
                             r"of dim 0"):
        run(score_mod=lambda s, b, h, i, j: s + t[j % 2 + 1000])
    # Reads in range pass, and give what the unchecked kernel gives.
    checked = run(score_mod=lambda s, b, h, i, j: s + t[j % 4])
    monkeypatch.delenv("ATTN_CHECK_INDICES")
    plain = run(score_mod=lambda s, b, h, i, j: s + t[j % 4])
    for got, want in zip(checked, plain):
        np.testing.assert_array_equal(got, want)


def test_checked_indices_through_compile():
    spec = """
func.func @f(%q: tensor<?x2x?x16xf32>, %k: tensor<?x2x?x16xf32>,
             %v: tensor<?x2x?x16xf32>, %t: tensor<4xf32>)
    -> tensor<?x2x?x16xf32> {
  %o = attn.attention %q, %k, %v captures(%t : tensor<4xf32>)
      : tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>
      -> tensor<?x2x?x16xf32>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
         %table: tensor<4xf32>):
      %c = arith.constant -7 : index
      %x = arith.addi %i, %c : index
      %bias = tensor.extract %table[%x] : tensor<4xf32>
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x2x?x16xf32>
}
"""
    checked = attn.compile(spec, backend="cpu", check_indices=True)
    plain = attn.compile(spec, backend="cpu", check_indices=False)
    # The record is the kernel's own: callers pass the same inputs.
    assert checked.input_names == plain.input_names
    assert [a["name"] for a in checked.outputs] == ["output"]
    # Rows i < 7 read index i - 7 < 0, which is clamped to 0.
    with pytest.raises(IndexError, match=r"at index -7 of dim 0"):
        in_child(lambda: checked(Q, K, V, TABLE))
    out = in_child(lambda: plain(Q, K, V, TABLE))
    rows = np.clip(np.arange(N) - 7, 0, 3)
    ref, _ = R.attention(
        Q, K, V, scale=1 / math.sqrt(D),
        score_mod=lambda x, b, h, i, j: x + TABLE[np.clip(i - 7, 0, 3)],
        keep=lambda b, h, i, j: np.ones_like(i, dtype=bool))
    assert rows[0] == 0
    assert float(np.abs(out - ref).max()) < 1e-5


def test_checked_indices_by_keyword():
    # The keyword overrides the environment either way.
    t = attn.capture(TABLE)
    far = lambda s, b, h, i, j: s + t[j % 2 + 1000]  # noqa: E731
    with pytest.raises(IndexError, match=r"at index 1000 of dim 0"):
        in_child(lambda: attn.attention(Q, K, V, score_mod=far,
                                        check_indices=True))
    out = in_child(lambda: attn.attention(Q, K, V, score_mod=far,
                                          check_indices=False))
    assert np.isfinite(out).all()
